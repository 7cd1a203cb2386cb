"""What the screen-pop benchmarks do as a web client of Odoo: JSON-RPC as a
logged-in user, the websocket protocol version, percentiles."""

import requests


def rpc(session, url, model, method, *args, **kwargs):
    """``model.method(*args, **kwargs)`` as the user of ``session``."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "model": model,
            "method": method,
            "args": list(args),
            "kwargs": kwargs,
        },
    }
    body = session.post(f"{url}/web/dataset/call_kw", json=payload, timeout=120).json()
    if "error" in body:
        raise RuntimeError(body["error"]["data"]["message"])
    return body["result"]


def login(url, db, name, password):
    """A ``requests.Session`` logged in as ``name``."""
    session = requests.Session()
    body = session.post(
        f"{url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": db, "login": name, "password": password},
        },
        timeout=120,
    ).json()
    if not (body.get("result") or {}).get("uid"):
        raise RuntimeError(f"login {name} failed: {body}")
    return session


def websocket_version():
    """The ``version`` the web client sends when it opens Odoo's websocket."""
    try:
        from odoo.addons.bus.websocket import WebsocketConnectionHandler  # noqa: PLC0415

        return WebsocketConnectionHandler._VERSION
    except ImportError:
        return "18.0-4"


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

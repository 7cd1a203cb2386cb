"""Take the README's screenshots from a running demo (setup/run).

Usage: python setup/screenshots.py [--url http://127.0.0.1:8069] [--db call_demo]
                                   [--login admin] [--out docs/screenshots]
                                   name=/odoo/path [name=/odoo/path ...]

Logs in through Odoo's JSON-RPC, hands the session cookie to a headless
Debian chromium over the DevTools protocol (websocket-client), opens each
page, waits for it to settle and saves ``<out>/<name>.png``.
"""

import argparse
import base64
import json
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,860",
]

# sticky notifications (e.g. "page out of date" on a brand-new database)
CLOSE_NOTIFICATIONS = (
    "document.querySelectorAll('.o_notification_close').forEach(b => b.click())"
)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_session(url, db, login, password):
    response = requests.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": db, "login": login, "password": password}},
        timeout=30,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"login failed: {response.json()['error']['message']}")
    return response.cookies["session_id"]


class DevTools:
    """The few DevTools calls the screenshots need."""

    def __init__(self, port):
        deadline = time.monotonic() + 20
        while True:
            try:
                pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        target = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(
            target["webSocketDebuggerUrl"], timeout=60
        )
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="call_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password")
    parser.add_argument("--lang", default="en_US")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--wait", type=float, default=4.0)
    parser.add_argument("pages", nargs="+", help="name=/odoo/path")
    args = parser.parse_args()
    session = odoo_session(args.url, args.db, args.login, args.password or args.login)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        chrome = subprocess.Popen(
            [
                "chromium",
                *CHROME_FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            tools = DevTools(port)
            host = args.url.split("//", 1)[1].split(":")[0]
            tools.call("Network.enable")
            tools.call(
                "Network.setCookie",
                name="session_id",
                value=session,
                domain=host,
                path="/",
            )
            for spec in args.pages:
                name, _, path = spec.partition("=")
                tools.call("Page.navigate", url=args.url + path)
                time.sleep(args.wait)
                tools.call("Runtime.evaluate", expression=CLOSE_NOTIFICATIONS)
                time.sleep(0.5)
                shot = tools.call("Page.captureScreenshot", format="png")
                (out / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
                print(out / f"{name}.png")
        finally:
            chrome.terminate()
            chrome.wait(timeout=10)


if __name__ == "__main__":
    main()

import json
import logging
import re

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request, root
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from ..hooks import GATEWAY_SCOPE

_logger = logging.getLogger(__name__)

GATEWAY_GROUP = "call_telephony.call_telephony_group_gateway"
_BEARER_RE = re.compile(r"^bearer\s+(\S+)\s*$", re.IGNORECASE)


def gateway_route(path, method="GET"):
    """Route of the gateway API: the API key is checked by ``_serve``; the
    gateway's session cookie, when sent, only tells Odoo the database. The
    session is saved when Odoo changed it: its device trace, renewed hourly,
    else every request would add a device log row. No CSRF token, a
    read-write transaction."""
    return http.route(
        "/call_telephony/gateway/" + path,
        type="http",
        auth="none",
        methods=[method],
        csrf=False,
        readonly=False,
    )


class GatewayError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class CallTelephonyGateway(http.Controller):
    """The SIP gateway's door into Odoo (see readme/API.md). Routes only
    authenticate, parse and answer; the rules live in the models."""

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------
    @gateway_route("session", "POST")
    def gateway_session(self, **kwargs):
        return self._serve(self._open_session)

    @gateway_route("events", "POST")
    def gateway_events(self, **kwargs):
        return self._serve(self._post_events)

    @gateway_route("pops", "POST")
    def gateway_pops(self, **kwargs):
        return self._serve(self._post_pops)

    @gateway_route("config")
    def gateway_config(self, since=None, **kwargs):
        return self._serve(lambda: self._config(since))

    @gateway_route("commands")
    def gateway_commands(self, **kwargs):
        return self._serve(
            lambda: {
                "commands": request.env["call.gateway.command"]._pending_payloads()
            }
        )

    @gateway_route("self_service/availability", "POST")
    def gateway_self_service_availability(self, **kwargs):
        return self._serve(
            lambda: request.env["call.cdr"]._self_service_availability(self._body())
        )

    @gateway_route("self_service/order", "POST")
    def gateway_self_service_order(self, **kwargs):
        return self._serve(
            lambda: request.env["call.cdr"]._self_service_order(self._body())
        )

    @gateway_route("member", "POST")
    def gateway_member(self, **kwargs):
        return self._serve(
            lambda: request.env["call.cdr"]._gateway_member(self._body())
        )

    # ------------------------------------------------------------------
    # Handlers
    # ------------------------------------------------------------------
    def _post_events(self):
        body = self._body()
        results = request.env["call.gateway.event"]._process_batch(
            body.get("gateway"), body.get("events")
        )
        version = request.env["call.gateway.command"]._config_version()
        return {"ok": True, "config_version": version, "results": results}

    def _post_pops(self):
        body = self._body()
        results = request.env["call.screen.pop"]._gateway_pops(
            body.get("gateway"), body.get("pops")
        )
        return {"ok": True, "results": results}

    def _config(self, since):
        return request.env["call.hotline"]._gateway_config_snapshot(since)

    def _open_session(self):
        """Turn the API key into a session for the websocket (commands)."""
        env = request.env
        session = request.session
        session.pre_login = env.user.login
        session.pre_uid = env.uid
        session.finalize(env)
        root.session_store.rotate(session, env)
        session.db = env.cr.dbname
        return {
            "session_id": session.sid,
            "uid": env.uid,
            "partner_id": env.user.partner_id.id,
            "db": env.cr.dbname,
            "websocket_url": "/websocket?version="
            + WebsocketConnectionHandler._VERSION,
        }

    # ------------------------------------------------------------------
    # Plumbing
    # ------------------------------------------------------------------
    def _serve(self, handler):
        try:
            self._authenticate()
            return self._json(handler())
        except GatewayError as exc:
            request.env.cr.rollback()
            return self._json({"error": exc.code, "message": exc.message}, exc.status)
        except NotFound:
            request.env.cr.rollback()
            return self._json({"error": "not_found", "message": "not found"}, 404)
        except (UserError, ValidationError) as exc:
            request.env.cr.rollback()
            message = exc.args[0] if exc.args else str(exc)
            status = 403 if isinstance(exc, AccessError) else 400
            code = "forbidden" if status == 403 else "bad_request"
            return self._json({"error": code, "message": message}, status)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # two requests touched the same agent or call: let Odoo replay
            # the request on a fresh transaction instead of answering 500
            raise
        except Exception as exc:
            _logger.exception("gateway request failed")
            request.env.cr.rollback()
            return self._json({"error": "server_error", "message": str(exc)}, 500)

    def _authenticate(self):
        if not request.db:
            raise GatewayError(
                400, "bad_request", "No database selected (use -d / --db-filter)."
            )
        header = request.httprequest.headers.get("Authorization") or ""
        match = _BEARER_RE.match(header)
        uid = None
        if match:
            uid = request.env["res.users.apikeys"]._call_telephony_check_key(
                match.group(1), GATEWAY_SCOPE
            )
        if not uid:
            raise GatewayError(401, "invalid_api_key", "Missing or invalid API key.")
        user = request.env["res.users"].sudo().browse(uid)
        if not user.has_group(GATEWAY_GROUP):
            raise GatewayError(
                403, "forbidden", "This user is not a telephony gateway."
            )
        request.update_env(user=uid)

    def _body(self):
        # cached: Odoo replays the request after a serialization failure
        raw = request.httprequest.get_data(as_text=True)
        try:
            body = json.loads(raw or "{}")
        except ValueError as exc:
            raise GatewayError(400, "bad_request", f"Body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise GatewayError(400, "bad_request", "Body must be a JSON object.")
        return body

    def _json(self, data, status=200):
        return request.make_json_response(data, status=status)

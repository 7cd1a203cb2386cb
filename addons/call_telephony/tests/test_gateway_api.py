import json
import time
from unittest.mock import patch

from odoo import sql_db
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.call_telephony.hooks import install_gateway_key

from .common import GATEWAY_KEY, TelephonyCommon

EVENTS_URL = "/call_telephony/gateway/events"
CONFIG_URL = "/call_telephony/gateway/config"


@tagged("post_install", "-at_install")
class TestGatewayApi(TelephonyCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def _post(self, url, body, key=GATEWAY_KEY):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.url_open(url, data=json.dumps(body), headers=headers)

    def _get(self, url, key=GATEWAY_KEY):
        return self.url_open(url, headers={"Authorization": f"Bearer {key}"})

    def _counts(self):
        return (
            self.env["call.cdr"].search_count([]),
            self.env["call.gateway.event"].search_count([]),
        )

    def _batch(self, call_id="api-1"):
        return {
            "gateway": "gw1",
            "events": self.call_events(
                call_id,
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
                ("answered", 8, {"agent_id": self.agent_1.id}),
                ("ended", 68, {"reason": "caller_hangup"}),
            ),
        }

    def test_wrong_key_is_refused_and_writes_nothing(self):
        before = self._counts()
        for key in (None, "wrong", GATEWAY_KEY[:-1] + "x"):
            response = self._post(EVENTS_URL, self._batch(), key=key)
            self.assertEqual(response.status_code, 401)
            self.assertEqual(response.json()["error"], "invalid_api_key")
        self.assertEqual(self._counts(), before)
        self.assertEqual(
            self._get("/call_telephony/gateway/config", "bad").status_code, 401
        )

    def test_deleted_key_is_refused_at_once(self):
        self.assertEqual(self._get("/call_telephony/gateway/commands").status_code, 200)
        self.env.cr.execute(
            "DELETE FROM res_users_apikeys WHERE user_id = %s", [self.user_gateway.id]
        )
        response = self._get("/call_telephony/gateway/commands")
        self.assertEqual(response.status_code, 401)

    def test_key_of_a_non_gateway_user_is_forbidden(self):
        user = new_test_user(self.env, "tel_plain", groups="base.group_user")
        install_gateway_key(self.env, user, "ctplain0" + "1" * 32, name="plain")
        before = self._counts()
        response = self._post(EVENTS_URL, self._batch(), key="ctplain0" + "1" * 32)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._counts(), before)

    def test_events_create_one_cdr_and_replay_is_harmless(self):
        response = self._post(EVENTS_URL, self._batch())
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertTrue(body["ok"])
        self.assertEqual([r["status"] for r in body["results"]], ["ok"] * 3)
        self.assertIn("route", body["results"][0])
        cdr = self.env["call.cdr"].search([("call_ref", "=", "api-1")])
        self.assertEqual((cdr.wait_seconds, cdr.talk_seconds), (8, 60))
        self.assertEqual(cdr.outcome, "answered")
        before = self._counts()
        replay = self._post(EVENTS_URL, self._batch()).json()
        self.assertEqual([r["status"] for r in replay["results"]], ["duplicate"] * 3)
        self.assertEqual([r["cdr_id"] for r in replay["results"]], [cdr.id] * 3)
        self.assertEqual(self._counts(), before)

    def test_bad_body_answers_400(self):
        response = self.url_open(
            EVENTS_URL,
            data="not json",
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "bad_request")
        response = self._post(EVENTS_URL, {"gateway": "gw1", "events": [{"seq": -1}]})
        self.assertEqual(response.status_code, 400)

    def test_config_snapshot_and_version(self):
        snapshot = self._get("/call_telephony/gateway/config").json()
        self.assertTrue(snapshot["changed"])
        hotline = next(h for h in snapshot["hotlines"] if h["id"] == self.hotline.id)
        self.assertEqual(hotline["number"], "4009990000")
        self.assertEqual(hotline["surge_threshold"], 2)
        agent_ids = {a["id"] for a in snapshot["agents"]}
        self.assertTrue({self.agent_1.id, self.agent_2.id} <= agent_ids)
        self.assertIn(self.queue_a.id, {q["id"] for q in snapshot["queues"]})
        version = snapshot["version"]
        same = self._get(f"/call_telephony/gateway/config?since={version}").json()
        self.assertEqual(same, {"version": version, "changed": False})
        self.env.cr.precommit.data.pop("call_telephony.config_changed", None)
        self.hotline.surge_threshold = 5
        newer = self._get(f"/call_telephony/gateway/config?since={version}").json()
        self.assertTrue(newer["changed"])
        self.assertGreater(newer["version"], version)

    def test_self_service_endpoints(self):
        availability = self._post(
            "/call_telephony/gateway/self_service/availability",
            {"party_size": 2, "start": "2099-05-01 10:00:00", "duration": 2},
        ).json()
        self.assertEqual(availability["seatmap"], "call.resource" in self.env)
        answer = self._post(
            "/call_telephony/gateway/self_service/order",
            {"caller": "13912345678", "party_size": 3, "start": "2099-05-01 10:00:00"},
        ).json()
        order = self.env["call.order"].browse(answer["order_id"])
        self.assertEqual(
            (order.state, order.partner_id), ("self_service", self.customer)
        )
        bad = self._post(
            "/call_telephony/gateway/self_service/order",
            {"party_size": 0, "start": "2099-05-01 10:00:00"},
        )
        self.assertEqual(bad.status_code, 400)
        self.assertEqual(bad.json()["message"], "The party size must be at least 1.")

    def test_member_number_keyed_in_the_ivr(self):
        member = self.env["res.partner"].create({"name": "Member Li"})
        ref = member.call_customer_ref  # e.g. C000054
        digits = ref.lstrip("C").lstrip("0")
        self._post(EVENTS_URL, self._batch("member-1"))
        url = "/call_telephony/gateway/member"
        for number in (digits, ref[1:], ref):
            answer = self._post(url, {"call_id": "member-1", "number": number})
            self.assertEqual(answer.json(), {"ok": True, "partner_id": member.id})
        for number in ("", "0", "99999999", "abc"):
            answer = self._post(url, {"call_id": "member-1", "number": number})
            self.assertEqual(answer.json(), {"ok": False, "partner_id": None})
        refused = self._post(url, {"number": digits}, key="bad")
        self.assertEqual(refused.status_code, 401)
        cdr = self.env["call.cdr"].search([("call_ref", "=", "member-1")])
        self.assertEqual(cdr.partner_id, self.customer)  # by the caller's number
        event = {
            "call_id": "member-1",
            "seq": 9,
            "type": "member_verified",
            "ts": time.time(),
            "data": {"ok": True, "digits": digits, "partner_id": member.id},
        }
        self._post(EVENTS_URL, {"gateway": "gw1", "events": [event]})
        cdr.invalidate_recordset()
        self.assertTrue(cdr.member_verified)
        self.assertEqual(cdr.partner_id, member)
        self.assertIn(self.customer, cdr.partner_ids)
        # the screen pop shows the verified member first, cached or not
        cached = cdr.sudo().caller_card["card"]["partners"]
        self.assertEqual([p["id"] for p in cached][:2], [member.id, self.customer.id])
        payload = cdr._ring_payload(self.agent_1)
        self.assertEqual(payload["card"]["partners"][0]["id"], member.id)

    def test_session_cookie_records_the_gateway_device_once(self):
        """The gateway sends its session cookie with every request (Odoo then
        skips listing its databases): its device is logged once, not once
        per request."""
        self._post("/call_telephony/gateway/session", {})
        self.assertTrue(self.opener.cookies.get("session_id"))
        logs = self.env["res.device.log"].sudo()
        domain = [("user_id", "=", self.user_gateway.id)]
        for _attempt in range(3):
            self.assertEqual(self._get(CONFIG_URL).status_code, 200)
        self.assertEqual(logs.search_count(domain), 1)

    def test_session_for_websocket_and_pending_commands(self):
        response = self._post("/call_telephony/gateway/session", {})
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["uid"], self.user_gateway.id)
        self.assertEqual(body["partner_id"], self.user_gateway.partner_id.id)
        self.assertEqual(response.cookies.get("session_id"), body["session_id"])
        self.customer.with_user(self.user_agent_1).action_click_to_call()
        commands = self._get("/call_telephony/gateway/commands").json()["commands"]
        self.assertEqual([c["command"] for c in commands], ["dial"])
        ack = {
            "gateway": "gw1",
            "events": [
                {
                    "call_id": "gateway-1",
                    "seq": 1,
                    "type": "command_ack",
                    "ts": None,
                    "data": {"command_id": commands[0]["command_id"], "ok": True},
                }
            ],
        }
        self.assertEqual(
            self._post(EVENTS_URL, ack).json()["results"][0]["status"], "ok"
        )
        self.assertFalse(
            self._get("/call_telephony/gateway/commands").json()["commands"]
        )


@tagged("post_install", "-at_install")
class TestRecordingDownload(TelephonyCommon, HttpCase):
    """The form's player fetches /web/content: the same scope applies there."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.answered_call("dl-1", ("recording", 50, {"data": "UklGRgAAAABXQVZF"}))
        cdr = cls.env["call.cdr"].search([("call_ref", "=", "dl-1")])
        cls.url = f"/web/content/{cdr.recording_attachment_id.id}"

    def _status_as(self, login):
        self.authenticate(login, login)
        return self.url_open(self.url).status_code

    def test_recording_download_follows_scope(self):
        self.assertEqual(self._status_as("tel_agent_1"), 200)
        self.assertEqual(self._status_as("tel_manager_a"), 200)
        self.assertIn(self._status_as("tel_agent_2"), (403, 404))
        self.assertIn(self._status_as("tel_manager_b"), (403, 404))


@tagged("post_install", "-at_install")
class TestGatewayApiConcurrency(TelephonyCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()

    def test_lock_conflict_is_replayed_by_odoo_not_answered_500(self):
        """A batch that meets a row locked by a concurrent request is run
        again on a fresh transaction (Odoo's retry), body included."""
        event_model = type(self.env["call.gateway.event"])
        original = event_model._process_batch
        calls = []

        def conflicting_once(records, gateway, events):
            calls.append(len(events or []))
            if len(calls) == 1:
                records.env.cr.execute("SET LOCAL lock_timeout = '50ms'")
                records.env.cr.execute(
                    "SELECT id FROM res_lang WHERE code = 'en_US' FOR UPDATE"
                )
            return original(records, gateway, events)

        body = {
            "gateway": "gw1",
            "events": self.call_events(
                "retry-1",
                (
                    "incoming",
                    0,
                    {"caller": "13912345678", "hotline_id": self.hotline.id},
                ),
            ),
        }
        with (
            sql_db.db_connect(self.env.cr.dbname).cursor() as other,
            patch.object(event_model, "_process_batch", conflicting_once),
            patch("odoo.service.model.random.uniform", return_value=0.0),
            mute_logger("odoo.sql_db"),
        ):
            other.execute(
                "SELECT id FROM res_lang WHERE code = 'en_US' FOR UPDATE NOWAIT"
            )
            response = self.url_open(
                EVENTS_URL,
                data=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {GATEWAY_KEY}",
                },
            )
            other.rollback()
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(calls, [1, 1])  # the body was read again on the replay
        self.assertEqual(
            self.env["call.cdr"].search_count([("call_ref", "=", "retry-1")]), 1
        )

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from .common import TelephonyCommon


@tagged("post_install", "-at_install")
class TestRecordingAccess(TelephonyCommon, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_telephony()
        cls.cdr = cls.answered_call(
            "rec-1",
            ("recording", 50, {"data": "UklGRgAAAABXQVZF"}),
            ("ended", 60, {}),
        )
        cls.recording = cls.cdr.recording_attachment_id

    def _can_read(self, user):
        try:
            self.recording.with_user(user).read(["raw"])
            return True
        except AccessError:
            return False

    def test_recording_visible_in_own_scope_only(self):
        self.assertTrue(self.recording)
        self.assertTrue(self._can_read(self.user_agent_1), "the agent who took it")
        self.assertTrue(self._can_read(self.user_manager_a), "leader of the team")
        self.assertFalse(self._can_read(self.user_agent_2), "another agent")
        self.assertFalse(self._can_read(self.user_manager_b), "manager of another team")

    def test_cdr_list_follows_the_same_scope(self):
        Cdr = self.env["call.cdr"]
        self.assertIn(self.cdr, Cdr.with_user(self.user_agent_1).search([]))
        self.assertNotIn(self.cdr, Cdr.with_user(self.user_agent_2).search([]))
        self.assertIn(self.cdr, Cdr.with_user(self.user_manager_a).search([]))
        self.assertNotIn(self.cdr, Cdr.with_user(self.user_manager_b).search([]))

    def test_only_managers_score_calls(self):
        tag = self.env["call.cdr.tag"].create({"name": "Friendly"})
        self.cdr.with_user(self.user_manager_a).write(
            {"qa_score": 88, "tag_ids": [(4, tag.id)]}
        )
        self.assertEqual(self.cdr.qa_score, 88)
        with self.assertRaises(UserError):
            self.cdr.with_user(self.user_agent_1).write({"qa_score": 100})
        self.assertEqual(self.cdr.qa_score, 88)

from freezegun import freeze_time

from .common import CallReportsCase


class TestWallboardMatchesReports(CallReportsCase):
    """The supervisor's wallboard and the manager's dashboard give the same
    service level for the same day: one definition, one local day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leader.tz = "Asia/Shanghai"
        cls.cdrs.write({"live_state": "ended"})
        cls.env.flush_all()

    def _wallboard(self):
        return self.env["call.cdr"].with_user(self.leader).get_wallboard_data()

    @freeze_time("2026-03-02 06:00:00")  # 14:00 in Shanghai
    def test_wallboard_and_dashboard_agree_on_todays_service_level(self):
        wallboard = self._wallboard()
        dashboard = (
            self.env["call.reports.dashboard"]
            .with_user(self.leader)
            .get_dashboard_data()
        )
        # offered: 3 answered + 1 abandoned (the blacklisted call is not offered);
        # within 20 s: the waits of 10 s and 5 s
        self.assertEqual(wallboard["offered_today"], 4)
        self.assertEqual(wallboard["answered_today"], 3)
        self.assertEqual(wallboard["service_level_today"], 50.0)
        self.assertEqual(dashboard["periods"]["today"]["service_level"], 50.0)

    @freeze_time("2026-03-02 17:00:00")  # 01:00 on the next day in Shanghai
    def test_wallboard_day_starts_at_local_midnight(self):
        wallboard = self._wallboard()
        self.assertEqual(wallboard["offered_today"], 0)
        self.assertEqual(wallboard["service_level_today"], 100.0)

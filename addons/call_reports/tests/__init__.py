from . import (
    test_agent_ranking,
    test_alerts,
    test_dashboard_tour,
    test_report_access,
    test_report_figures,
    test_staffing_plan,
    test_wallboard_consistency,
)

from . import test_alerts, test_report_access, test_report_figures, test_staffing_plan
from . import test_dashboard_tour

from . import call_report_agent, call_report_cdr, call_report_order, call_report_traffic

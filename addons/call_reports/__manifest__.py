{
    "name": "Call Centre Reports",
    "summary": "Traffic, business and agent reports, live dashboard and "
    "Erlang C staffing from forecast traffic",
    "version": "18.0.1.0.0",
    "category": "Sales/Call Centre",
    "license": "LGPL-3",
    "author": "Call Centre Suite",
    "depends": ["call_telephony", "call_seatmap", "bus", "web"],
    "data": [
        "security/ir.model.access.csv",
        "security/call_reports_rules.xml",
        "data/ir_cron_data.xml",
        "report/call_report_cdr_views.xml",
        "report/call_report_traffic_views.xml",
        "report/call_report_agent_traffic_views.xml",
        "report/call_report_order_views.xml",
        "report/call_report_agent_views.xml",
        "views/call_staffing_plan_views.xml",
        "views/call_queue_views.xml",
        "views/call_reports_dashboard_action.xml",
        "views/call_reports_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "call_reports/static/src/**/*",
        ],
        "web.assets_tests": [
            "call_reports/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}

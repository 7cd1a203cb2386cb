{
    "name": "Call Centre Telephony",
    "summary": "Hotlines, agents, queues, IVR, overflow, call records, screen pop, "
    "click-to-call and wallboard for the SIP gateway",
    "version": "18.0.1.0.0",
    "category": "Sales/Call Centre",
    "license": "LGPL-3",
    "author": "Call Centre Suite",
    "depends": ["call_ordering", "bus", "web"],
    "data": [
        "security/call_telephony_groups.xml",
        "security/ir.model.access.csv",
        "security/call_telephony_rules.xml",
        "data/ir_cron_data.xml",
        "views/call_hotline_views.xml",
        "views/call_agent_views.xml",
        "views/call_queue_views.xml",
        "views/call_ivr_menu_views.xml",
        "views/call_overflow_backup_views.xml",
        "views/call_blacklist_views.xml",
        "views/call_cdr_views.xml",
        "views/call_cdr_tag_views.xml",
        "views/call_callback_views.xml",
        "views/call_voicemail_views.xml",
        "views/call_gateway_event_views.xml",
        "views/res_partner_views.xml",
        "views/call_order_views.xml",
        "views/call_telephony_menus.xml",
    ],
    "demo": [
        "demo/call_telephony_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "call_telephony/static/src/**/*",
        ],
        "web.assets_tests": [
            "call_telephony/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}

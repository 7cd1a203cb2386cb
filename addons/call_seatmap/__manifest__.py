{
    "name": "Call Centre Seat Map",
    "summary": "Rooms, tables, double-booking-proof reservations, live seat map",
    "version": "18.0.1.0.0",
    "category": "Sales/Call Centre",
    "license": "LGPL-3",
    "author": "Call Centre Suite",
    "depends": ["call_ordering", "bus", "web"],
    "data": [
        "security/ir.model.access.csv",
        "security/call_seatmap_rules.xml",
        "data/call_seatmap_data.xml",
        "views/call_floor_views.xml",
        "views/call_resource_views.xml",
        "views/call_resource_combo_views.xml",
        "views/call_booking_slot_views.xml",
        "views/call_order_views.xml",
        "views/res_config_settings_views.xml",
        "views/call_seatmap_menus.xml",
    ],
    "demo": ["demo/call_seatmap_demo.xml"],
    "assets": {
        "web.assets_backend": [
            "call_seatmap/static/src/**/*",
        ],
        "web.assets_tests": [
            "call_seatmap/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
}

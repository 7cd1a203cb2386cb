from . import (
    call_booking_slot,
    call_floor,
    call_order,
    call_resource,
    call_resource_combo,
    res_config_settings,
    res_users,
)

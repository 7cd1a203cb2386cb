from . import (
    bulk_insert,
    call_order,
    call_partner_number,
    call_team,
    res_config_settings,
    res_partner,
)

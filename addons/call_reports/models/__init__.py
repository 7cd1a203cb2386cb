from . import (
    call_cdr,
    call_gateway_event,
    call_queue,
    call_reports_dashboard,
    call_staffing_line,
    call_staffing_plan,
    res_users,
)

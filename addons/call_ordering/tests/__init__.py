from . import (
    test_import,
    test_lookup,
    test_order_state,
    test_phone_number,
    test_reminder,
    test_security,
    test_tour,
)

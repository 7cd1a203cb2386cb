from . import (
    test_access,
    test_booking_slot,
    test_race,
    test_seat_state,
    test_seatmap_ui,
    test_suggest,
)

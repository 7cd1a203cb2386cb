"""Pure tests of the seat-map state rules (addons/call_seatmap/tools/seat_state.py)."""

from datetime import datetime, timedelta

import pytest
from conftest import load_module

seat_state = load_module("call_seatmap/tools/seat_state.py")

T = datetime(2031, 5, 20, 18, 0)
WINDOWS = {"due_minutes": 30, "grace_minutes": 10, "left_minutes": 30}


def booking(state, start_min, hours=2.0, left_min=None):
    start = T + timedelta(minutes=start_min)
    return {
        "state": state,
        "start": start,
        "end": start + timedelta(hours=hours, minutes=15),
        "left_at": T + timedelta(minutes=left_min) if left_min is not None else None,
    }


@pytest.mark.parametrize(
    ("case", "state", "expected"),
    [
        ("starts in 20 min", booking("booked", 20), "due_soon"),
        ("starts in 30 min exactly", booking("confirmed", 30), "due_soon"),
        ("starts in 31 min", booking("booked", 31), None),
        ("started 5 min ago, within grace", booking("booked", -5), "booked"),
        ("started 11 min ago, not arrived", booking("confirmed", -11), "overdue"),
        ("self-service 40 min late", booking("self_service", -40), "overdue"),
        ("arrived an hour ago", booking("arrived", -60), "arrived"),
        ("ended, only buffer left", booking("booked", -130), "overdue"),
        ("ended with buffer", booking("booked", -136), None),
        ("left 10 min ago", booking("left", -120, left_min=-10), "left"),
        ("left 31 min ago", booking("closed", -120, left_min=-31), None),
        ("cancelled", booking("cancelled", -10), None),
        ("no show", booking("no_show", -10), None),
    ],
)
def test_booking_state_now(case, state, expected):
    assert seat_state.booking_state(state, T, T, **WINDOWS) == expected, case


def test_future_moment_is_booked_not_overdue():
    later = T + timedelta(hours=1)
    assert (
        seat_state.booking_state(booking("booked", 20), later, T, **WINDOWS) == "booked"
    )


def test_arrived_guests_staying_longer_remain_arrived_until_now():
    long_stay = booking("arrived", -200)
    assert seat_state.booking_state(long_stay, T, T, **WINDOWS) == "arrived"
    assert (
        seat_state.booking_state(long_stay, T + timedelta(hours=2), T, **WINDOWS)
        is None
    )


def test_resource_state_priority_and_tie_break():
    bookings = [booking("booked", 25), booking("arrived", -30), booking("booked", 10)]
    state, chosen = seat_state.resource_state(bookings, T, T, **WINDOWS)
    assert state == "arrived"
    assert chosen is bookings[1]
    state, chosen = seat_state.resource_state(
        [bookings[0], bookings[2]], T, T, **WINDOWS
    )
    assert state == "due_soon"
    assert chosen is bookings[2]  # the earliest start


def test_free_when_nothing_applies():
    assert seat_state.resource_state([], T, T, **WINDOWS) == ("free", None)
    far = booking("booked", 300)
    assert seat_state.resource_state([far], T, T, **WINDOWS) == ("free", None)

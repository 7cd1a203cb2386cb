"""State of one room or table at a moment of the seat map (no ORM).

A *booking* here is a mapping with the keys ``state`` (the order state),
``start`` and ``end`` (the booked slot, buffer included, naive UTC datetimes)
and ``left_at`` (when the guests left, or ``None``).
"""

from datetime import timedelta

WAITING_STATES = ("self_service", "booked", "confirmed")
DONE_STATES = ("left", "closed")

# Lower rank wins when several bookings of a resource matter at the moment.
RANK = {
    "arrived": 0,
    "overdue": 1,
    "booked": 2,
    "due_soon": 3,
    "left": 4,
    "free": 5,
}


def booking_state(
    booking, moment, now, due_minutes=30, grace_minutes=10, left_minutes=30
):
    """Seat-map state one booking gives its resource at ``moment``.

    :param booking: mapping with ``state``, ``start``, ``end``, ``left_at``
    :param moment: the moment the seat map shows
    :param now: the current time (a booking is only overdue once it really is)
    :return: one of ``RANK``'s keys except ``free``, or ``None`` when the
        booking does not touch the resource at that moment
    """
    start, end, state = booking["start"], booking["end"], booking["state"]
    if state == "arrived":
        if start <= moment < end or start <= moment <= now:
            return "arrived"
        return None
    if state in WAITING_STATES:
        if start <= moment < end:
            limit = start + timedelta(minutes=grace_minutes)
            return "overdue" if moment > limit and now > limit else "booked"
        if moment < start <= moment + timedelta(minutes=due_minutes):
            return "due_soon"
        return None
    left_at = booking.get("left_at")
    if state in DONE_STATES and left_at:
        if left_at <= moment < left_at + timedelta(minutes=left_minutes):
            return "left"
    return None


def resource_state(bookings, moment, now, **windows):
    """Seat-map state of one resource and the booking that decides it.

    :param bookings: the resource's bookings near ``moment``
    :param windows: ``due_minutes``, ``grace_minutes``, ``left_minutes``
    :return: ``(state, booking)``; ``("free", None)`` when nothing applies
    """
    best_state, best = "free", None
    for booking in bookings:
        state = booking_state(booking, moment, now, **windows)
        if state is None:
            continue
        if RANK[state] < RANK[best_state] or (
            state == best_state and _sooner(booking, best, state)
        ):
            best_state, best = state, booking
    return best_state, best


def _sooner(booking, other, state):
    """Tie-break: the most recent departure, otherwise the earliest start."""
    if state == "left":
        return booking["left_at"] > other["left_at"]
    return booking["start"] < other["start"]

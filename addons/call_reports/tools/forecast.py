"""Half-hourly call forecast from past weeks (plain Python, no Odoo).

For every slot of a coming day the forecast takes the same weekday and the
same slot in the last ``weeks`` weeks of history:

* the slot's share of the day is the average over those weeks;
* the day's volume follows a least-squares line through the weekly totals
  of that weekday, extended to the forecast date (``trend=False`` keeps the
  plain average);
* the average handling time (AHT) of the slot is the handling time of those
  calls divided by their number, falling back to the weekday's, then to the
  whole history's, then to ``default_aht``.

History is given as buckets ``{(date, slot): (calls, handle_seconds)}``;
:func:`bucket_calls` builds them from individual calls.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES


@dataclass(frozen=True)
class SlotForecast:
    """Forecast of one half-hour slot."""

    date: dt.date
    slot: int
    calls: float
    aht_seconds: float

    @property
    def start(self):
        """Naive datetime at which the slot starts."""
        return slot_start(self.date, self.slot)


def slot_of(moment):
    """``(date, slot index)`` of a naive datetime."""
    return moment.date(), (moment.hour * 60 + moment.minute) // SLOT_MINUTES


def slot_start(date, slot):
    """Naive datetime at which ``slot`` of ``date`` starts."""
    if not 0 <= slot < SLOTS_PER_DAY:
        raise ValueError(f"slot must be in 0..{SLOTS_PER_DAY - 1}, got {slot!r}")
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(
        minutes=slot * SLOT_MINUTES
    )


def bucket_calls(calls):
    """Group ``(start datetime, handle seconds)`` pairs by day and slot.

    :return: ``{(date, slot): (calls, handle_seconds)}``
    """
    buckets = defaultdict(lambda: [0, 0.0])
    for start, handle_seconds in calls:
        bucket = buckets[slot_of(start)]
        bucket[0] += 1
        bucket[1] += handle_seconds or 0.0
    return {key: (count, handle) for key, (count, handle) in buckets.items()}


def linear_fit(points):
    """Least-squares line through ``(x, y)`` points: ``(intercept, slope)``."""
    count = len(points)
    if not count:
        return 0.0, 0.0
    mean_x = sum(x for x, _y in points) / count
    mean_y = sum(y for _x, y in points) / count
    spread = sum((x - mean_x) ** 2 for x, _y in points)
    if not spread:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return mean_y - slope * mean_x, slope


def reference_dates(target, history_start, history_end, weeks):
    """Dates with ``target``'s weekday inside the history, newest first."""
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    newest = target - dt.timedelta(days=7)
    if newest > history_end:
        weeks_back = -(-(newest - history_end).days // 7)
        newest -= dt.timedelta(days=7 * weeks_back)
    dates = []
    while newest >= history_start and len(dates) < weeks:
        dates.append(newest)
        newest -= dt.timedelta(days=7)
    return dates


def forecast(
    history,
    history_start,
    history_end,
    start_date,
    days=7,
    weeks=4,
    trend=True,
    default_aht=180.0,
):
    """Forecast calls and AHT for every half hour of the coming days.

    :param history: ``{(date, slot): (calls, handle_seconds)}``; a slot absent
        from a day inside the history had no call
    :param history_start: first day covered by the history (inclusive)
    :param history_end: last day covered by the history (inclusive)
    :param start_date: first day to forecast
    :param days: number of days to forecast
    :param weeks: how many past weeks of the same weekday to use
    :param trend: extend the weekly totals along their linear trend
    :param default_aht: AHT in seconds used when the history has no call
    :return: list of :class:`SlotForecast`, ``days * SLOTS_PER_DAY`` items in
        chronological order
    """
    if history_start > history_end:
        raise ValueError("history_start must not be after history_end")
    if days < 0:
        raise ValueError("days must be >= 0")
    total_calls = sum(calls for calls, _handle in history.values())
    total_handle = sum(handle for _calls, handle in history.values())
    overall_aht = total_handle / total_calls if total_calls else default_aht
    result = []
    for offset in range(days):
        target = start_date + dt.timedelta(days=offset)
        refs = reference_dates(target, history_start, history_end, weeks)
        result.extend(_forecast_day(history, target, refs, trend, overall_aht))
    return result


def _forecast_day(history, target, refs, trend, overall_aht):
    """Slots of one day from its reference dates (newest first)."""
    if not refs:
        return [
            SlotForecast(target, slot, 0.0, overall_aht)
            for slot in range(SLOTS_PER_DAY)
        ]
    slot_calls = [0.0] * SLOTS_PER_DAY
    slot_handle = [0.0] * SLOTS_PER_DAY
    points = []
    for ref in refs:
        day_total = 0
        for slot in range(SLOTS_PER_DAY):
            calls, handle = history.get((ref, slot), (0, 0.0))
            slot_calls[slot] += calls
            slot_handle[slot] += handle
            day_total += calls
        points.append(((ref - target).days / 7.0, day_total))
    mean_total = sum(total for _x, total in points) / len(points)
    factor = 1.0
    if trend and mean_total and len(points) > 1:
        intercept, _slope = linear_fit(points)
        # x is 0 at the target date: the intercept is the trended day total
        factor = max(intercept, 0.0) / mean_total
    day_calls = sum(slot_calls)
    day_aht = sum(slot_handle) / day_calls if day_calls else overall_aht
    result = []
    for slot in range(SLOTS_PER_DAY):
        average = slot_calls[slot] / len(refs)
        aht = slot_handle[slot] / slot_calls[slot] if slot_calls[slot] else day_aht
        result.append(SlotForecast(target, slot, average * factor, aht))
    return result

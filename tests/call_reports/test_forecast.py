"""Half-hourly forecast on a synthetic history with a known weekly pattern."""

import datetime as dt

import pytest
from conftest import load_module

fc = load_module("call_reports/tools/forecast.py")

MONDAY = dt.date(2026, 1, 5)


def pattern(date, slot):
    """Known pattern: busy lunch and dinner, weekends double, none at night."""
    if slot < 20 or slot > 43:
        return 0
    base = 10 if 22 <= slot <= 26 or 34 <= slot <= 39 else 2
    return base * (2 if date.weekday() >= 5 else 1)


def make_history(weeks, growth_per_week=0.0, aht=lambda slot: 120 + slot):
    history = {}
    for day in range(weeks * 7):
        date = MONDAY + dt.timedelta(days=day)
        week = day // 7
        for slot in range(fc.SLOTS_PER_DAY):
            calls = pattern(date, slot) * (1 + growth_per_week * week)
            if calls:
                history[(date, slot)] = (calls, calls * aht(slot))
    return history


def test_slot_of_and_start():
    moment = dt.datetime(2026, 1, 5, 12, 45)
    assert fc.slot_of(moment) == (dt.date(2026, 1, 5), 25)
    assert fc.slot_start(dt.date(2026, 1, 5), 25) == dt.datetime(2026, 1, 5, 12, 30)
    with pytest.raises(ValueError):
        fc.slot_start(dt.date(2026, 1, 5), 48)


def test_bucket_calls():
    calls = [
        (dt.datetime(2026, 1, 5, 12, 1), 100),
        (dt.datetime(2026, 1, 5, 12, 29), 200),
        (dt.datetime(2026, 1, 5, 12, 30), 60),
    ]
    buckets = fc.bucket_calls(calls)
    assert buckets[(dt.date(2026, 1, 5), 24)] == (2, 300.0)
    assert buckets[(dt.date(2026, 1, 5), 25)] == (1, 60.0)


def test_reference_dates_same_weekday_newest_first():
    refs = fc.reference_dates(dt.date(2026, 2, 2), MONDAY, dt.date(2026, 2, 1), weeks=3)
    assert refs == [dt.date(2026, 1, 26), dt.date(2026, 1, 19), dt.date(2026, 1, 12)]
    # a forecast two weeks past the history still uses the newest Mondays
    refs = fc.reference_dates(
        dt.date(2026, 2, 16), MONDAY, dt.date(2026, 2, 1), weeks=2
    )
    assert refs == [dt.date(2026, 1, 26), dt.date(2026, 1, 19)]


def test_flat_history_reproduces_weekly_pattern():
    history = make_history(4)
    end = MONDAY + dt.timedelta(days=27)
    result = fc.forecast(history, MONDAY, end, end + dt.timedelta(days=1), days=7)
    assert len(result) == 7 * fc.SLOTS_PER_DAY
    for item in result:
        assert item.calls == pytest.approx(pattern(item.date, item.slot))
        if pattern(item.date, item.slot):
            assert item.aht_seconds == pytest.approx(120 + item.slot)
    saturday_lunch = [r for r in result if r.date.weekday() == 5 and r.slot == 24]
    assert saturday_lunch[0].calls == pytest.approx(20)
    assert result[0].start == dt.datetime(2026, 2, 2, 0, 0)


def test_linear_growth_is_extended():
    # +10 % of the base per week: week 0..3 = 1.0, 1.1, 1.2, 1.3 -> next 1.4
    history = make_history(4, growth_per_week=0.1)
    end = MONDAY + dt.timedelta(days=27)
    result = fc.forecast(history, MONDAY, end, end + dt.timedelta(days=1), days=7)
    for item in result:
        assert item.calls == pytest.approx(pattern(item.date, item.slot) * 1.4)
    plain = fc.forecast(
        history, MONDAY, end, end + dt.timedelta(days=1), days=1, trend=False
    )
    lunch = next(r for r in plain if r.slot == 24)
    assert lunch.calls == pytest.approx(10 * 1.15)  # the average of the 4 weeks


def test_declining_trend_never_goes_negative():
    history = make_history(4, growth_per_week=-0.3)  # 1.0, 0.7, 0.4, 0.1
    end = MONDAY + dt.timedelta(days=27)
    result = fc.forecast(history, MONDAY, end, end + dt.timedelta(days=1), days=1)
    assert all(item.calls >= 0 for item in result)
    assert sum(item.calls for item in result) == pytest.approx(0.0)


def test_weeks_limit_uses_only_recent_weeks():
    history = make_history(6, growth_per_week=1.0)  # weeks 0..5: 1..6 x pattern
    end = MONDAY + dt.timedelta(days=41)
    result = fc.forecast(
        history, MONDAY, end, end + dt.timedelta(days=1), days=1, weeks=2, trend=False
    )
    lunch = next(r for r in result if r.slot == 24)
    assert lunch.calls == pytest.approx(10 * 5.5)  # average of weeks 5 and 6


def test_no_history_for_weekday_gives_zero_and_default_aht():
    result = fc.forecast({}, MONDAY, MONDAY, MONDAY + dt.timedelta(days=1), days=1)
    assert all(item.calls == 0 for item in result)
    assert all(item.aht_seconds == 180.0 for item in result)


def test_bad_arguments():
    with pytest.raises(ValueError):
        fc.forecast({}, MONDAY, MONDAY - dt.timedelta(days=1), MONDAY)
    with pytest.raises(ValueError):
        fc.reference_dates(MONDAY, MONDAY, MONDAY, weeks=0)


def test_linear_fit():
    assert fc.linear_fit([(0, 1), (1, 3), (2, 5)]) == pytest.approx((1.0, 2.0))
    assert fc.linear_fit([(1, 4)]) == (4.0, 0.0)
    assert fc.linear_fit([]) == (0.0, 0.0)

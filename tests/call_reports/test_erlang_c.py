"""Erlang C helper checked against published values."""

import math

import pytest
from conftest import load_module

erlang = load_module("call_reports/tools/erlang_c.py")


def test_traffic_intensity_of_hundred_calls_of_three_minutes():
    assert erlang.traffic_intensity(100, 180, 1800) == pytest.approx(10.0)


def test_traffic_intensity_rejects_bad_input():
    with pytest.raises(ValueError):
        erlang.traffic_intensity(-1, 180)
    with pytest.raises(ValueError):
        erlang.traffic_intensity(10, 180, 0)


@pytest.mark.parametrize(
    ("agents", "traffic", "expected"),
    [
        # classic Erlang B table values (blocking probability)
        (1, 1.0, 0.5),
        (2, 1.0, 0.2),
        (5, 2.0, 0.0367),
        (10, 5.0, 0.0184),
        (10, 10.0, 0.2146),
    ],
)
def test_erlang_b_table(agents, traffic, expected):
    assert erlang.erlang_b(agents, traffic) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize(
    ("agents", "expected_wait"),
    # A = 10 Erlangs (100 calls x 180 s / 1800 s): published P(wait)
    [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)],
)
def test_erlang_c_published_wait_probability(agents, expected_wait):
    assert erlang.erlang_c(agents, 10.0) == pytest.approx(expected_wait, abs=5e-4)


def test_erlang_c_single_server_is_utilisation():
    # M/M/1: the probability of waiting equals the utilisation
    assert erlang.erlang_c(1, 0.7) == pytest.approx(0.7)


def test_erlang_c_unstable_queue_always_waits():
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.erlang_c(5, 10.0) == 1.0
    assert erlang.service_level(10, 10.0, 180, 20) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(9, 10.0, 180))


def test_erlang_c_no_traffic():
    assert erlang.erlang_c(3, 0.0) == 0.0
    assert erlang.service_level(0, 0.0, 180, 20) == 1.0


def test_published_example_hundred_calls_fourteen_agents():
    result = erlang.required_agents(100, 180, 0.8, 20, 1800)
    assert result.traffic == pytest.approx(10.0)
    assert result.raw_agents == 14
    assert result.agents == 14
    assert result.service_level == pytest.approx(0.8884, abs=5e-4)
    assert result.wait_probability == pytest.approx(0.1741, abs=5e-4)
    assert result.average_speed_of_answer == pytest.approx(7.83, abs=0.01)
    assert result.occupancy == pytest.approx(10 / 14)
    # thirteen agents miss the target
    assert erlang.service_level(13, 10.0, 180, 20) == pytest.approx(0.7956, abs=5e-4)


def test_large_centre_does_not_overflow():
    # 2000 Erlangs: factorials would overflow a float long before this
    result = erlang.required_agents(20000, 180, 0.8, 20, 1800)
    assert 2000 < result.raw_agents < 2100
    assert 0.8 <= result.service_level < 0.9
    assert math.isfinite(result.average_speed_of_answer)


def test_max_occupancy_adds_agents():
    # 14 agents would run at 71 %; a 65 % cap needs ceil(10 / 0.65) = 16
    result = erlang.required_agents(100, 180, 0.8, 20, 1800, max_occupancy=0.65)
    assert result.raw_agents == 16
    assert result.occupancy <= 0.65


def test_shrinkage_grosses_up_rostered_agents():
    result = erlang.required_agents(100, 180, 0.8, 20, 1800, shrinkage=0.3)
    assert result.raw_agents == 14
    assert result.agents == 20  # ceil(14 / 0.7)
    assert erlang.agents_with_shrinkage(10, 0.2) == 13  # ceil(12.5)
    assert erlang.agents_with_shrinkage(8, 0.2) == 10  # exactly 10, not 11


def test_higher_target_needs_more_agents():
    lower = erlang.required_agents(100, 180, 0.8, 20).raw_agents
    higher = erlang.required_agents(100, 180, 0.95, 20).raw_agents
    assert higher > lower
    assert erlang.required_agents(100, 180, 0.95, 20).service_level >= 0.95


def test_no_calls_need_no_agent():
    result = erlang.required_agents(0, 180)
    assert result.raw_agents == 0
    assert result.service_level == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_service_level": 1.0},
        {"target_service_level": 0},
        {"max_occupancy": 0},
        {"max_occupancy": 1.2},
        {"shrinkage": 1.0},
        {"shrinkage": -0.1},
        {"target_seconds": -5},
    ],
)
def test_required_agents_rejects_bad_targets(kwargs):
    with pytest.raises(ValueError):
        erlang.required_agents(100, 180, **kwargs)

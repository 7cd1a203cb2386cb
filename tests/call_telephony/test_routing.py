"""Routing rules of call_telephony (addons/call_telephony/tools/routing.py),
tested without Odoo."""

import pytest
from conftest import load_module

routing = load_module("call_telephony/tools/routing.py")
Slot = routing.AgentSlot


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "8613800138000"),
        ("0086 138 0013 8000", "8613800138000"),
        ("(010) 6512-3456", "01065123456"),
        ("", ""),
        (None, ""),
    ],
)
def test_digits_only(raw, expected):
    assert routing.digits_only(raw) == expected


def test_number_forms_cover_national_and_international():
    assert routing.number_forms("+86 138 0013 8000") == ("8613800138000", "13800138000")
    assert "8613800138000" in routing.number_forms("13800138000")
    assert "1065123456" in routing.number_forms("010-6512-3456")


def test_blacklist_exact_before_prefix_and_longest_prefix_first():
    entries = [
        {"id": 1, "number": "95", "match": "prefix"},
        {"id": 2, "number": "9512", "match": "prefix"},
        {"id": 3, "number": "95123456", "match": "exact"},
    ]
    assert routing.blacklist_match("95123456", entries)["id"] == 3
    assert routing.blacklist_match("95129999", entries)["id"] == 2
    assert routing.blacklist_match("95000000", entries)["id"] == 1
    assert routing.blacklist_match("13800138000", entries) is None
    assert routing.blacklist_match("", entries) is None


def test_blacklist_matches_any_caller_id_form():
    entries = [{"id": 7, "number": "13700000666", "match": "exact"}]
    assert routing.blacklist_match("+86 137 0000 0666", entries)["id"] == 7
    assert routing.blacklist_match("008613700000666", entries)["id"] == 7


AGENTS = [
    Slot(1, "available", "2026-01-01 10:05:00", 1),
    Slot(2, "available", "2026-01-01 10:00:00", 2),
    Slot(3, "on_call", "2026-01-01 09:00:00", 3),
    Slot(4, "available", "2026-01-01 10:10:00", 4),
]


def test_longest_idle_first_and_busy_agents_skipped():
    assert routing.order_agents("longest_idle", AGENTS) == [2, 1, 4]


def test_ring_all_in_queue_order():
    assert routing.order_agents("ring_all", AGENTS) == [1, 2, 4]


def test_round_robin_continues_after_last_rung():
    assert routing.order_agents("round_robin", AGENTS, last_rung_id=2) == [4, 1, 2]
    assert routing.order_agents("round_robin", AGENTS, last_rung_id=3) == [4, 1, 2]
    assert routing.order_agents("round_robin", AGENTS) == [1, 2, 4]


def test_last_agent_first_when_free_else_longest_idle():
    assert routing.order_agents("last_agent", AGENTS, last_agent_id=4) == [4, 2, 1]
    assert routing.order_agents("last_agent", AGENTS, last_agent_id=3) == [2, 1, 4]


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown strategy"):
        routing.order_agents("random", AGENTS)


@pytest.mark.parametrize(
    ("waits", "offered", "threshold", "expected"),
    [
        ([5, 10, 30], 4, 20, 50.0),
        ([], 0, 20, 100.0),
        ([20], 1, 20, 100.0),
        ([21], 2, 20, 0.0),
    ],
)
def test_service_level(waits, offered, threshold, expected):
    assert routing.service_level(waits, offered, threshold) == expected

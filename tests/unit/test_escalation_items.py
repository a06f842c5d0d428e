"""The item the `escalate` action writes, and how priority is made (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.escalations import keys, new_item
from chalicelib.escalations.priority import classification_steps, effective_priority, sla_state
from chalicelib.policy.loader import load_policy
from tests.conftest import POLICIES
from tests.integration.test_escalation_queue import classification, post

SATURDAY_NIGHT = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # Saturday 22:00 in Manila


def test_item_keys_shard_the_queue_and_rank_by_priority_then_due() -> None:
    policy = load_policy(POLICIES)
    item = new_item(
        post=post("7"),
        classification=classification(),
        queue=policy.queues["network"],
        priority=2,
        sla_minutes=None,
        rule="outage-to-network",
        now=SATURDAY_NIGHT,
    )
    shard = keys.shard_of(item["escalation_id"], 4)
    assert item["queue_shard"] == f"network#open#{shard}"
    assert item["queue_status"] == "network#open"
    assert item["rank"] == "2#2026-11-28T15:00:00.000Z"  # network is 24x7
    assert item["conversation_key"] == "x#7"
    assert (item["version"], item["sla_state"], item["status_day"]) == (1, "ok", "open#2026-11-28")


def test_business_hours_queue_counts_from_monday_and_a_rule_may_fix_the_sla() -> None:
    policy = load_policy(POLICIES)
    care = policy.queues["care"]
    item = new_item(
        post=post("8"),
        classification=classification(),
        queue=care,
        priority=3,
        sla_minutes=None,
        rule="r",
        now=SATURDAY_NIGHT,
    )
    # closed Saturday night and Sunday; Monday 30 Nov is a holiday → Tuesday 08:00 + 120 min = 10:00 Manila
    assert item["due_at"] == "2026-12-01T02:00:00.000Z"
    assert item["at_risk_at"] == "2026-12-01T01:30:00.000Z"
    fixed = new_item(
        post=post("8"),
        classification=classification(),
        queue=care,
        priority=3,
        sla_minutes=5,
        rule="r",
        now=SATURDAY_NIGHT,
    )
    assert (fixed["sla_minutes"], fixed["sla_fixed"], fixed["due_at"]) == (5, True, "2026-12-01T00:05:00.000Z")


@pytest.mark.parametrize(
    ("doc", "steps"),
    [
        (classification().to_doc(), 0),
        (classification(churn=True).to_doc(), 1),
        (classification(score=-0.8).to_doc(), 1),
        (classification(score=-0.7).to_doc(), 0),
        (classification(urgency=0.8).to_doc(), 1),
        (classification(score=-0.9, churn=True, urgency=0.9).to_doc(), 2),
    ],
)
def test_classification_steps(doc: dict[str, object], steps: int) -> None:
    assert classification_steps(doc) == steps


def test_effective_priority_is_clamped_and_ages_with_the_sla() -> None:
    assert effective_priority(3, 0) == 3
    assert effective_priority(3, 1, "at_risk") == 1
    assert effective_priority(2, 2, "breached") == 1
    assert effective_priority(5, 0, "breached") == 3


def test_sla_state_is_final_once_answered() -> None:
    item = {"due_at": "2026-11-23T10:00:00.000Z", "at_risk_at": "2026-11-23T09:45:00.000Z", "sla_state": "ok"}
    assert sla_state(item, datetime(2026, 11, 23, 9, 44, tzinfo=UTC)) == "ok"
    assert sla_state(item, datetime(2026, 11, 23, 9, 45, tzinfo=UTC)) == "at_risk"
    assert sla_state(item, datetime(2026, 11, 23, 10, 0, tzinfo=UTC)) == "breached"
    answered = {**item, "first_response_at": "2026-11-23T09:50:00.000Z"}
    assert sla_state(answered, datetime(2026, 11, 23, 11, 0, tzinfo=UTC)) == "ok"

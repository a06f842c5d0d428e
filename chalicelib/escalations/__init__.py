"""The escalation queue: where customers wait for a person.

`new_item` builds the item the `escalate` action writes (in the decision's transaction); `queue.py` works
the queue (claim with a lease, renew, resolve, requeue, transfer, note, reply, follow-ups, stats) and
`sweep.py` is the scheduled SLA and lease sweep. Keys: `keys.py`; priority: `priority.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.calendars import add_business_minutes
from chalicelib.clock import iso
from chalicelib.escalations import keys
from chalicelib.escalations.priority import AT_RISK_FRACTION, classification_steps, effective_priority
from chalicelib.model import Classification, Escalation, Post, stable_id

if TYPE_CHECKING:
    from chalicelib.policy.model import Queue


def escalation_id(post: Post) -> str:
    """Stable per post, so a retried decision can never open a second item."""
    return stable_id("esc", post.key)


def deadlines(queue: Queue, priority: int, start: datetime, sla_minutes: int | None = None) -> dict[str, Any]:
    """SLA minutes, due time and at-risk time of an item opened at `start`, on the queue's calendar."""
    minutes = sla_minutes or queue.sla_for(priority)
    return {
        "sla_minutes": minutes,
        "due_at": iso(add_business_minutes(queue.calendar, start, minutes)),
        "at_risk_at": iso(add_business_minutes(queue.calendar, start, minutes * AT_RISK_FRACTION)),
    }


def new_item(
    *,
    post: Post,
    classification: Classification,
    queue: Queue,
    priority: int,
    sla_minutes: int | None,
    rule: str,
    now: datetime,
) -> dict[str, Any]:
    """The DynamoDB item of a newly opened escalation. `priority` is the policy's base priority;
    `sla_minutes` (from the rule) overrides the queue's SLA for that priority."""
    steps = classification_steps(classification.to_doc())
    effective = effective_priority(priority, steps)
    sla = deadlines(queue, effective, now, sla_minutes)
    escalation = Escalation(
        escalation_id=escalation_id(post),
        queue=queue.name,
        priority=effective,
        status=keys.OPEN,
        created_at=iso(now),
        due_at=sla["due_at"],
        rule=rule,
        post=post.to_doc(),
        classification=classification.to_doc(),
    )
    item = escalation.to_doc()
    item.update(
        base_priority=priority,
        classification_steps=steps,
        sla_minutes=sla["sla_minutes"],
        sla_fixed=bool(sla_minutes),
        at_risk_at=sla["at_risk_at"],
        sla_state="ok",
        calendar=queue.calendar.name,
        updated_at=iso(now),
        version=1,
        follow_ups=[],
        notes=[],
        conversation_key=keys.conversation_key(post.platform, post.conversation_id),
        author_key=keys.author_key(post.platform, post.author.id),
        queue_status=keys.queue_status(queue.name, keys.OPEN),
        queue_shard=keys.queue_shard(queue.name, keys.OPEN, keys.shard_of(escalation.escalation_id, queue.shards)),
        rank=keys.rank(effective, sla["due_at"]),
        status_day=keys.status_day(keys.OPEN, now),
    )
    return item

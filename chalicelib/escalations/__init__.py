"""The escalation queue: where customers wait for a person."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.model import Classification, Escalation, Post


def escalation_id(post: Post) -> str:
    """Stable per post, so a retried decision can never open a second item."""
    import hashlib

    return "esc-" + hashlib.sha256(post.key.encode()).hexdigest()[:20]


def new_item(
    *,
    post: Post,
    classification: Classification,
    queue: str,
    priority: int,
    sla_minutes: int,
    rule: str,
    now: datetime,
) -> dict[str, Any]:
    """The DynamoDB item of a newly opened escalation."""
    due_at = iso(now + timedelta(minutes=sla_minutes))
    escalation = Escalation(
        escalation_id=escalation_id(post),
        queue=queue,
        priority=priority,
        status="open",
        created_at=iso(now),
        due_at=due_at,
        rule=rule,
        post=post.to_doc(),
        classification=classification.to_doc(),
    )
    item = escalation.to_doc()
    item["queue_status"] = f"{queue}#open"
    item["rank"] = f"{priority}#{due_at}"
    return item

"""How escalation items are keyed in EscalationsTable (the design is documented in infra/resources.yaml).

`by_queue` is the queue itself: partition `<queue>#<status>#<shard>`, sort `rank` = `<priority>#<due_at>`, so
the head of each shard is the most urgent item and, within a priority, the one whose promise falls due
first. An item's shard is fixed by its id, so it never moves between shards while it lives.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from chalicelib.clock import iso

OPEN, CLAIMED, RESOLVED = "open", "claimed", "resolved"
LIVE = (OPEN, CLAIMED)
"""The statuses that sit in the `by_queue` index (a resolved item leaves it)."""


def shard_of(escalation_id: str, shards: int) -> int:
    return int(hashlib.sha256(escalation_id.encode()).hexdigest()[:8], 16) % max(1, shards)


def queue_status(queue: str, status: str) -> str:
    """The logical state (`care#open`): what conditional writes check."""
    return f"{queue}#{status}"


def queue_shard(queue: str, status: str, shard: int) -> str:
    """The `by_queue` partition key (`care#open#1`)."""
    return f"{queue}#{status}#{shard}"


def rank(priority: int, due_at: str) -> str:
    return f"{priority}#{due_at}"


def status_day(status: str, moment: datetime) -> str:
    """The `by_status` partition key: a status on one UTC day (`resolved#2026-11-23`)."""
    return f"{status}#{iso(moment)[:10]}"


def conversation_key(platform: str, conversation_id: str) -> str:
    return f"{platform}#{conversation_id}"


OWN_PLATFORM = "carewire"
"""The platform of items Carewire opens itself (an incident's): no customer wrote them."""


def author_key(platform: str, author_id: str) -> str | None:
    """The `by_author` partition key (`x#2244994945`): one customer's cases on one platform, by time. None
    (the item stays out of the sparse index) without an author id or for Carewire's own items."""
    if not author_id or platform == OWN_PLATFORM:
        return None
    return f"{platform}#{author_id}"

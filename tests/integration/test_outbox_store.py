"""The outbox's state machine on DynamoDB Local: every transition a condition, so two senders never send one item."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.outbox import outbox_item
from chalicelib.runtime import Runtime
from chalicelib.store.outbox import OutboxStore

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def store(rt: Runtime) -> OutboxStore:
    return OutboxStore(rt.dynamodb, rt.settings.table("outbox"))


def reply(n: int, conversation: str = "c1", minute: int = 0) -> dict[str, Any]:
    return outbox_item(
        kind="reply",
        key=(f"x#{n}",),
        channel="x-care",
        platform="x",
        created_at=iso(NOW + timedelta(minutes=minute)),
        text=f"reply {n}",
        in_reply_to_post_id=str(n),
        conversation_id=conversation,
    )


def test_writing_the_same_item_twice_finds_the_first(ddb_runtime: Runtime) -> None:
    outbox = store(ddb_runtime)
    assert outbox.put(reply(1)) is True
    assert outbox.put(reply(1)) is False
    assert [i.reply_id for i in outbox.by_status("pending")] == [reply(1)["reply_id"]]


def test_of_many_racing_claims_exactly_one_wins(ddb_runtime: Runtime) -> None:
    outbox = store(ddb_runtime)
    outbox.put(reply(1))
    [item] = outbox.lane("x-care#c1")
    wins: list[Any] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        wins.append(outbox.claim(item, NOW, timedelta(seconds=30)))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [w for w in wins if w is not None]
    assert len(claimed) == 1 and claimed[0].status == "sending" and claimed[0].lease_token


def test_a_lost_lease_cannot_settle_and_a_sent_item_leaves_its_lane(ddb_runtime: Runtime) -> None:
    outbox = store(ddb_runtime)
    outbox.put(reply(1))
    outbox.put(reply(2, minute=1))
    assert [i.text for i in outbox.lane("x-care#c1")] == ["reply 1", "reply 2"]
    first = outbox.claim(outbox.lane("x-care#c1")[0], NOW, timedelta(seconds=30))
    assert first is not None
    assert outbox.expire_lease(first, NOW) is None  # the lease still runs
    later = NOW + timedelta(seconds=31)
    unknown = outbox.expire_lease(first, later)
    assert unknown is not None and unknown.status == "unknown"
    assert outbox.sent(first, "1860", later) is None  # the old claim's token no longer holds
    sent = outbox.sent(unknown, "1860", later)
    assert sent is not None and (sent.status, sent.platform_id, sent.lane) == ("sent", "1860", None)
    assert [i.text for i in outbox.lane("x-care#c1")] == ["reply 2"]


def test_ops_retry_and_cancel_only_what_they_may(ddb_runtime: Runtime) -> None:
    outbox = store(ddb_runtime)
    outbox.put(reply(1))
    item = outbox.claim(outbox.lane("x-care#c1")[0], NOW, timedelta(seconds=30))
    assert item is not None
    assert outbox.cancel(item.reply_id, NOW) is None  # being sent right now
    failed = outbox.failed(item, "x 400: bad", NOW)
    assert failed is not None and (failed.status, failed.attempts, failed.lane) == ("failed", 1, None)
    again = outbox.retry(item.reply_id, NOW)
    assert again is not None and (again.status, again.attempts, again.lane) == ("pending", 0, "x-care#c1")
    cancelled = outbox.cancel(item.reply_id, NOW)
    assert cancelled is not None and cancelled.status == "cancelled"
    assert outbox.retry(item.reply_id, NOW) is None


def test_a_channel_budget_is_shared_and_bounded(ddb_runtime: Runtime) -> None:
    outbox = store(ddb_runtime)
    taken = [outbox.take_budget("x-care", "900s#1", 3, 2_000_000_000) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert outbox.set_health("x-care", False, "x 401", NOW) is True
    assert outbox.set_health("x-care", False, "x 401", NOW) is False  # one alert per change
    outbox.pause("x-care", NOW + timedelta(minutes=2))
    outbox.pause("x-care", NOW + timedelta(minutes=1))  # never shortens a pause
    state = outbox.channel_state("x-care")
    assert (state["health"], state["paused_until"]) == ("unhealthy", "2026-11-23T09:02:00.000Z")
    assert outbox.get("ctl#channel#x-care") is None

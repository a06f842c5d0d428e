"""The escalation queue on DynamoDB Local: claims under contention, leases, SLAs, follow-ups, stats."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.escalations import new_item
from chalicelib.escalations.errors import EscalationConflict, EscalationNotFound, InvalidRequest
from chalicelib.escalations.sweep import LogAlerts, sweep
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday 17:30 in Manila


def post(post_id: str, conversation: str | None = None, text: str = "no signal since 6am") -> Post:
    return Post(
        platform="x",
        channel="x-care",
        post_id=post_id,
        conversation_id=conversation or post_id,
        author=Author("42", "maria_qc", "Maria Santos"),
        text=text,
        created_at="2026-11-23T09:00:00.000Z",
    )


def classification(score: float = -0.2, churn: bool = False, urgency: float = 0.3) -> Classification:
    return Classification(
        topic="outage",
        sentiment=Sentiment("negative" if score < 0 else "neutral", score),
        churn_risk=churn,
        addressed_to_brand=True,
        language="en",
        urgency=urgency,
    )


def seed(
    rt: Runtime,
    post_id: str,
    queue: str = "network",
    priority: int = 3,
    now: datetime = NOW,
    conversation: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Open one escalation the way the `escalate` action does, and store it."""
    item = new_item(
        post=post(post_id, conversation),
        classification=classification(**kwargs),
        queue=rt.policy.queues[queue],
        priority=priority,
        sla_minutes=None,
        rule="test",
        now=now,
    )
    assert rt.escalations.insert(item)
    return item


def test_claims_come_most_urgent_first_across_shards(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    assert ddb_runtime.policy.queues["network"].shards > 1
    p3_late = seed(ddb_runtime, "1", priority=3, now=NOW)
    p3_early = seed(ddb_runtime, "2", priority=3, now=NOW - timedelta(minutes=20))
    p1 = seed(ddb_runtime, "3", priority=1, now=NOW)
    shards = {i["queue_shard"] for i in (p3_late, p3_early, p1)}
    assert len(shards) > 1, f"the items must sit on different shards for the merge to be tested: {shards}"
    order = [q.claim_next("network", f"agent-{n}", NOW) for n in range(4)]
    assert [c["escalation_id"] if c else None for c in order] == [
        p1["escalation_id"],
        p3_early["escalation_id"],
        p3_late["escalation_id"],
        None,
    ]
    assert order[0] is not None
    assert order[0]["status"] == "claimed"
    assert order[0]["agent"] == "agent-0"
    assert order[0]["lease_until"] == "2026-11-23T09:40:00.000Z"
    assert [e["escalation_id"] for e in q.held_by("agent-1")] == [p3_early["escalation_id"]]


def test_twenty_agents_claim_two_hundred_items_each_exactly_once(ddb_runtime: Runtime) -> None:
    for n in range(200):
        seed(ddb_runtime, f"c{n}", priority=1 + n % 5)
    q = ddb_runtime.escalations
    claims: list[tuple[str, str]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def agent(name: str) -> None:
        try:
            start.wait()
            while True:
                try:
                    got = q.claim_next("network", name, NOW)
                except EscalationConflict:
                    continue  # everything in sight went to others: ask again
                if got is None:
                    return
                with lock:
                    claims.append((got["escalation_id"], name))
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(f"agent-{n}",)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = [c[0] for c in claims]
    assert len(ids) == 200
    assert len(set(ids)) == 200, "an item was handed to two agents"
    stored = ddb_runtime.store.escalations("network", status="claimed", limit=1000)
    assert {e["escalation_id"]: e["agent"] for e in stored} == dict(claims)
    assert ddb_runtime.store.escalations("network", status="open") == []
    assert len({name for _, name in claims}) > 1


def test_an_expired_lease_returns_the_item_to_the_queue(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    item = seed(ddb_runtime, "1")
    q.claim_next("network", "ana", NOW)
    assert q.claim_next("network", "ben", NOW) is None
    # renewing moves the lease on; the sweep before expiry leaves the claim alone
    renewed = q.renew(item["escalation_id"], "ana", NOW + timedelta(minutes=8))
    assert renewed["lease_until"] == "2026-11-23T09:48:00.000Z"
    with pytest.raises(EscalationConflict, match="held by 'ana'"):
        q.renew(item["escalation_id"], "ben", NOW)
    assert sweep(q, LogAlerts(), NOW + timedelta(minutes=12)).leases_expired == []
    report = sweep(q, LogAlerts(), NOW + timedelta(minutes=19))
    assert report.leases_expired == [item["escalation_id"]]
    assert COUNTERS.tally["EscalationLeasesExpired"] == 1
    back = q.get(item["escalation_id"])
    assert (back["status"], back.get("agent")) == ("open", None)
    assert "lease of ana expired" in back["notes"][-1]["text"]
    with pytest.raises(EscalationConflict):
        q.resolve(item["escalation_id"], "ana", "answered", NOW + timedelta(minutes=20))
    again = q.claim_next("network", "ben", NOW + timedelta(minutes=20))
    assert again is not None
    assert (again["escalation_id"], again["agent"], again["claims"]) == (item["escalation_id"], "ben", 2)


def test_resolve_requeue_transfer_note(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    first, second = seed(ddb_runtime, "1"), seed(ddb_runtime, "2", priority=4)
    eid = first["escalation_id"]
    assert q.claim_next("network", "ana", NOW)["escalation_id"] == eid  # type: ignore[index]
    with pytest.raises(InvalidRequest) as bad:
        q.resolve(eid, "ana", "sorted", NOW)
    assert bad.value.field == "outcome"
    with pytest.raises(EscalationConflict):
        q.resolve(eid, "ben", "answered", NOW)
    assert q.requeue(eid, "ana", NOW)["status"] == "open"
    moved = q.transfer(eid, "care", "ana", NOW, note="needs account access")
    assert (moved["queue"], moved["status"], moved["queue_status"]) == ("care", "open", "care#open")
    assert moved["due_at"] == first["due_at"], "a transfer keeps the promise made to the customer"
    assert q.list_queue("network") == [q.get(second["escalation_id"])]
    assert [e["escalation_id"] for e in q.list_queue("care")] == [eid]
    q.note(eid, "ben", "customer called the hotline too", NOW)
    assert q.claim_next("care", "ben", NOW)["escalation_id"] == eid  # type: ignore[index]
    done = q.resolve(eid, "ben", "answered", NOW + timedelta(minutes=5))
    assert (done["status"], done["outcome"], done["resolved_by"], done["sla_met"]) == (
        "resolved",
        "answered",
        "ben",
        True,
    )
    assert "queue_shard" not in done
    assert [n["text"] for n in done["notes"]] == [
        "transferred from network to care: needs account access",
        "customer called the hotline too",
    ]
    with pytest.raises(EscalationConflict, match="resolved"):
        q.resolve(eid, "ben", "answered", NOW)
    with pytest.raises(EscalationNotFound):
        q.get("esc-nope")
    with pytest.raises(InvalidRequest) as unknown:
        q.claim_next("nowhere", "ben", NOW)
    assert unknown.value.field == "queue"


def test_a_supervisor_can_resolve_what_another_agent_holds(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    eid = seed(ddb_runtime, "1")["escalation_id"]
    q.claim_next("network", "ana", NOW)
    assert q.resolve(eid, "sup", "duplicate", NOW, force=True)["resolved_by"] == "sup"


def test_priority_from_classification_and_follow_ups(ddb_runtime: Runtime) -> None:
    calm = seed(ddb_runtime, "1", queue="care", priority=3, conversation="conv-1")
    assert (calm["priority"], calm["base_priority"]) == (3, 3)
    assert calm["due_at"] == "2026-11-23T11:30:00.000Z"  # care P3: 120 min on Manila hours, 17:30 → 19:30
    angry = seed(ddb_runtime, "2", queue="care", priority=3, score=-0.8, churn=True)
    assert angry["priority"] == 1
    assert angry["due_at"] == "2026-11-23T10:30:00.000Z"  # care P1: 60 min → 18:30 Manila
    q = ddb_runtime.escalations
    eid = q.add_follow_up("conv-1", post("1b", "conv-1", "still nothing, I am done with you"), _angry(), NOW)
    assert eid == calm["escalation_id"]
    item = q.get(eid)
    assert item["priority"] == 1
    assert item["rank"].startswith("1#")
    assert item["due_at"] < calm["due_at"], "a more urgent priority shortens the promise"
    assert [f["post"]["post_id"] for f in item["follow_ups"]] == ["1b"]
    # the same follow-up delivered again changes nothing; an unknown conversation has no escalation
    q.add_follow_up("conv-1", post("1b", "conv-1"), _angry(), NOW)
    assert q.get(eid)["version"] == item["version"]
    assert q.add_follow_up("conv-x", post("9", "conv-x"), _angry(), NOW) is None


def _angry() -> Classification:
    return classification(score=-0.9, churn=True, urgency=0.9)


def test_sweep_marks_at_risk_then_breached_bumps_priority_and_alerts(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    item = seed(ddb_runtime, "1", priority=4)  # network P4: 60 min, 24x7 → at risk at 10:15, due 10:30
    alerts = LogAlerts()
    assert sweep(q, alerts, NOW + timedelta(minutes=44)).at_risk == []
    report = sweep(q, alerts, NOW + timedelta(minutes=45))
    assert report.at_risk == [item["escalation_id"]]
    assert q.get(item["escalation_id"])["priority"] == 3
    assert sweep(q, alerts, NOW + timedelta(minutes=50)).at_risk == [], "marked once"
    report = sweep(q, alerts, NOW + timedelta(minutes=60))
    assert report.breached == [item["escalation_id"]]
    breached = q.get(item["escalation_id"])
    assert (breached["sla_state"], breached["priority"], breached["rank"]) == (
        "breached",
        2,
        "2#2026-11-23T10:30:00.000Z",
    )
    assert COUNTERS.tally["EscalationsAtRisk"] == 1
    assert COUNTERS.tally["EscalationsBreached"] == 1
    assert [s for s, _ in alerts.sent] == [
        "Carewire: 0 escalation(s) breached SLA, 1 at risk",
        "Carewire: 1 escalation(s) breached SLA, 0 at risk",
    ]


def test_sla_counts_business_hours_only(ddb_runtime: Runtime) -> None:
    friday_evening = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)  # Friday 19:00 Manila
    item = seed(ddb_runtime, "1", queue="moderation", priority=4, now=friday_evening)
    # 240 min: 60 on Friday, 240-60=180 on Saturday from 09:00 → 12:00 Manila Saturday = 04:00Z
    assert item["due_at"] == "2026-11-28T04:00:00.000Z"
    report = sweep(ddb_runtime.escalations, LogAlerts(), datetime(2026, 11, 28, 3, 0, tzinfo=UTC))
    assert report.breached == []
    report = sweep(ddb_runtime.escalations, LogAlerts(), datetime(2026, 11, 28, 4, 0, tzinfo=UTC))
    assert report.breached == [item["escalation_id"]]


def test_reply_goes_to_the_outbox_with_the_agent_as_author(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    eid = seed(ddb_runtime, "1")["escalation_id"]
    with pytest.raises(EscalationConflict):
        q.reply(eid, "ana", "We are on it", NOW)
    q.claim_next("network", "ana", NOW)
    with pytest.raises(InvalidRequest) as pii:
        q.reply(eid, "ana", "Call me on 0917 123 4567", NOW)
    assert pii.value.field == "text"
    with pytest.raises(InvalidRequest):
        q.reply(eid, "ana", "x" * 281, NOW)
    doc = q.reply(eid, "ana", "Sorry Maria, the NOC is restoring the site in Cubao now.", NOW)
    [pending] = ddb_runtime.store.outbox()
    assert pending == doc
    assert (pending["author"], pending["status"], pending["in_reply_to_post_id"], pending["private"]) == (
        "ana",
        "pending",
        "1",
        False,
    )
    item = q.get(eid)
    assert item["reply_queued_at"] == "2026-11-23T09:30:00.000Z" and "first_response_at" not in item
    q.mark_answered(eid, doc["reply_id"], "1869", NOW + timedelta(seconds=2))  # the sender delivered it
    assert q.get(eid)["first_response_at"] == "2026-11-23T09:30:02.000Z"
    assert q.resolve(eid, "ana", "answered", NOW + timedelta(hours=3))["sla_met"] is True


def answer_queued(rt: Runtime, post_id: str, at: datetime) -> tuple[str, str]:
    """An escalation (network P4: at risk 10:15, due 10:30) claimed and answered by ana at `at`: queued in
    the outbox, not delivered. Its id and the reply's."""
    eid = seed(rt, post_id, priority=4)["escalation_id"]
    assert rt.escalations.claim_next("network", "ana", NOW) is not None
    doc = rt.escalations.reply(eid, "ana", "Sorry Maria, the NOC is restoring the site in Cubao now.", at)
    return eid, doc["reply_id"]


def test_a_queued_reply_is_no_first_response_until_it_is_delivered(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    eid, reply_id = answer_queued(ddb_runtime, "1", NOW + timedelta(minutes=5))
    queued = q.get(eid)
    assert queued["reply_queued_at"] == "2026-11-23T09:35:00.000Z"  # visible: an answer is on its way
    assert [r["reply_id"] for r in queued["replies"]] == [reply_id]
    report = sweep(q, LogAlerts(), NOW + timedelta(minutes=45))
    assert report.at_risk == [eid]  # queued is not answered: the clock runs until the customer has it
    q.mark_answered(eid, reply_id, "1869", NOW + timedelta(minutes=50))
    delivered = q.get(eid)
    assert delivered["first_response_at"] == delivered["answered_at"] == "2026-11-23T10:20:00.000Z"
    assert sweep(q, LogAlerts(), NOW + timedelta(minutes=70)).breached == []  # answered in time: final
    q.mark_answered(eid, reply_id, "1869", NOW + timedelta(minutes=80))  # a second delivery changes nothing
    assert q.get(eid)["first_response_at"] == "2026-11-23T10:20:00.000Z"
    assert q.resolve(eid, "ana", "answered", NOW + timedelta(minutes=90), force=True)["sla_met"] is True


def test_delivered_after_the_deadline_misses_the_sla_though_queued_before_it(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    eid, reply_id = answer_queued(ddb_runtime, "1", NOW + timedelta(minutes=30))  # queued at 10:00, due 10:30
    q.mark_answered(eid, reply_id, "1869", NOW + timedelta(minutes=65))  # the channel was paused: 10:35
    assert sweep(q, LogAlerts(), NOW + timedelta(minutes=66)).breached == []  # answered: no late alarm
    assert q.resolve(eid, "ana", "answered", NOW + timedelta(minutes=70), force=True)["sla_met"] is False


def test_resolved_before_its_reply_is_delivered_the_delivery_decides_the_sla(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    on_time, on_time_reply = answer_queued(ddb_runtime, "1", NOW + timedelta(minutes=10))
    late, late_reply = answer_queued(ddb_runtime, "2", NOW + timedelta(minutes=10))
    never, _ = answer_queued(ddb_runtime, "3", NOW + timedelta(minutes=10))
    for eid in (on_time, late, never):
        done = q.resolve(eid, "ana", "answered", NOW + timedelta(minutes=11))
        assert "sla_met" not in done and done["sla_awaits_delivery"] is True
    stats = q.stats(NOW + timedelta(minutes=12))["sla"]
    assert (stats["resolved"], stats["met"], stats["awaiting_delivery"], stats["compliance"]) == (3, 0, 3, None)

    q.mark_answered(on_time, on_time_reply, "1870", NOW + timedelta(minutes=12))
    q.mark_answered(late, late_reply, "1871", NOW + timedelta(minutes=75))
    assert (q.get(on_time)["sla_met"], q.get(late)["sla_met"]) == (True, False)
    assert "sla_awaits_delivery" not in q.get(on_time)
    stats = q.stats(NOW + timedelta(minutes=80))["sla"]
    assert (stats["resolved"], stats["met"], stats["awaiting_delivery"], stats["compliance"]) == (3, 1, 1, 0.5)
    network = stats["by_queue"]["network"]
    assert (network["awaiting_delivery"], network["compliance"]) == (1, 0.5)
    assert "sla_met" not in q.get(never)  # never delivered: never met


def test_stats_open_by_queue_and_priority_oldest_wait_and_compliance(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    seed(ddb_runtime, "1", priority=2, now=NOW - timedelta(minutes=30))
    seed(ddb_runtime, "2", priority=3)
    late = seed(ddb_runtime, "3", queue="care", priority=3, now=NOW - timedelta(hours=1))  # due 10:30Z
    on_time = seed(ddb_runtime, "4", queue="care", priority=5)
    later = NOW + timedelta(minutes=61)
    first, second = q.claim_next("care", "ana", NOW), q.claim_next("care", "ana", NOW)
    assert [first and first["escalation_id"], second and second["escalation_id"]] == [
        late["escalation_id"],
        on_time["escalation_id"],
    ]
    assert q.resolve(late["escalation_id"], "ana", "answered", later)["sla_met"] is False
    assert q.resolve(on_time["escalation_id"], "ana", "answered", later)["sla_met"] is True
    stats = q.stats(later)
    network = stats["queues"]["network"]
    assert (network["open"], network["claimed"], network["by_priority"]) == (2, 0, {"2": 1, "3": 1})
    assert network["oldest_wait_seconds"] == 91 * 60
    assert (stats["queues"]["care"]["open"], stats["queues"]["care"]["claimed"]) == (0, 0)
    assert stats["sla"]["by_queue"] == {"care": {"resolved": 2, "met": 1, "awaiting_delivery": 0, "compliance": 0.5}}
    assert stats["sla"]["compliance"] == 0.5


def _truth(rt: Runtime) -> dict[str, tuple[int, int, dict[str, int], dict[str, int]]]:
    """Live counts read from the items themselves (what the counters must equal)."""
    from collections import Counter

    from chalicelib.store.dynamo import from_item

    pages = rt.dynamodb.get_paginator("scan").paginate(TableName=rt.settings.table("escalations"))
    items = [from_item(i) for page in pages for i in page.get("Items", []) if "post" in i]
    out = {}
    for name in rt.escalations.queue_names:
        live = [i for i in items if i["queue"] == name and i["status"] in ("open", "claimed")]
        out[name] = (
            sum(1 for i in live if i["status"] == "open"),
            sum(1 for i in live if i["status"] == "claimed"),
            dict(sorted(Counter(str(i["priority"]) for i in live).items())),
            dict(sorted(Counter(i.get("sla_state", "ok") for i in live).items())),
        )
    return out


def _from_stats(stats: dict[str, Any]) -> dict[str, tuple[int, int, dict[str, int], dict[str, int]]]:
    return {name: (q["open"], q["claimed"], q["by_priority"], q["sla_state"]) for name, q in stats["queues"].items()}


def test_stats_counters_equal_the_items_through_every_kind_of_change(ddb_runtime: Runtime) -> None:
    q = ddb_runtime.escalations
    for n in range(12):
        seed(ddb_runtime, str(n), queue=("network", "care")[n % 2], priority=1 + n % 5)
    held = [q.claim_next("care", "ana", NOW), q.claim_next("network", "ben", NOW), q.claim_next("network", "ben", NOW)]
    assert all(held)
    q.resolve(held[0]["escalation_id"], "ana", "answered", NOW)  # type: ignore[index]
    q.transfer(held[1]["escalation_id"], "care", "ben", NOW)  # type: ignore[index]
    q.requeue(held[2]["escalation_id"], "ben", NOW)  # type: ignore[index]
    barrier = threading.Barrier(6)

    def claim(agent: str) -> None:
        barrier.wait()
        q.claim_next("network", agent, NOW)

    threads = [threading.Thread(target=claim, args=(f"agent{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sweep(q, LogAlerts(), NOW + timedelta(hours=5))  # leases expire, SLAs go at risk and breach, priorities move
    assert _from_stats(q.stats(NOW + timedelta(hours=5))) == _truth(ddb_runtime)

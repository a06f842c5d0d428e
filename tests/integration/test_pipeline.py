"""The pipeline end to end on DynamoDB Local: route → queue → processor → DynamoDB."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.channels.x import PLATFORM
from chalicelib.model import Classification, Event, Post
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime
from tests.conftest import X_SECRET
from tests.support import mention_delivery, x_headers

OUTAGE = "@bayanitelcares no signal in Quezon City since 6am, please fix this"


def _event(runtime: Runtime, body: bytes) -> Event:
    channel = runtime.channels["x-care"]
    return PLATFORM.split(json.loads(body), channel, "2026-11-23T09:30:00.000Z").events[0]


def _retrying(attempt: Any, timeout: float = 10.0) -> Any:
    """What the queue does with a post in progress: try again a little later."""
    import time

    from chalicelib.dedupe import PostInProgress

    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except PostInProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_mention_matching_an_escalate_rule_ends_as_one_escalation(ddb_runtime: Runtime) -> None:
    body = mention_delivery("2001", OUTAGE)
    with Client(app, stage_name="local") as client:
        assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    escalations = ddb_runtime.store.escalations()
    assert len(escalations) == 1
    escalation = escalations[0]
    assert (escalation["queue"], escalation["priority"], escalation["rule"]) == ("network", 2, "outage-to-network")
    assert escalation["post"]["post_id"] == "2001"
    assert escalation["due_at"] == "2026-11-23T10:30:00.000Z"  # network SLA 60 min from the fixed clock
    decision = ddb_runtime.store.decision("x#2001")
    assert decision is not None
    assert decision["action"] == "reply"  # the first of its actions: acknowledge, then escalate
    assert decision["classification"]["topic"] == "outage"
    assert decision["rules_evaluated"][-2:] == ["outage-acknowledge+", "outage-to-network+"]
    assert [a["type"] for a in decision["actions"]] == ["reply", "escalate"]
    [reply] = ddb_runtime.store.outbox()
    assert reply["template"] == "outage_ack" and reply["private"] is False


def test_same_delivery_twice_ends_as_one_decision(ddb_runtime: Runtime) -> None:
    body = mention_delivery("2002", OUTAGE)
    with Client(app, stage_name="local") as client:
        for _ in range(2):
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    assert len(ddb_runtime.store.decisions()) == 1
    assert len(ddb_runtime.store.escalations()) == 1
    statuses = sorted(o.status for o in ddb_runtime.queue.results)  # type: ignore[attr-defined]
    assert statuses == ["decided", "duplicate"]
    assert COUNTERS.tally["Duplicates"] == 1


def test_same_post_processed_concurrently_is_decided_once(ddb_runtime: Runtime) -> None:
    """Twins that find the post in progress are told to retry (not acknowledged); their retry is a duplicate."""
    event = _event(ddb_runtime, mention_delivery("2003", OUTAGE))
    processor = ddb_runtime.processor
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def deliver() -> None:
        barrier.wait()
        outcomes.append(_retrying(lambda: processor.process(event).status))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["decided"] + ["duplicate"] * 7
    assert len(ddb_runtime.store.decisions()) == 1
    assert len(ddb_runtime.store.escalations()) == 1


def test_decision_record_guards_even_without_idempotency_record(ddb_runtime: Runtime) -> None:
    event = _event(ddb_runtime, mention_delivery("2004", OUTAGE))
    assert ddb_runtime.processor.process(event).status == "decided"
    ddb_runtime.dynamodb.delete_item(  # as if the idempotency record had expired
        TableName=ddb_runtime.settings.table("idempotency"), Key={"id": {"S": _idempotency_id(ddb_runtime)}}
    )
    assert ddb_runtime.processor.process(event).status == "duplicate"
    assert len(ddb_runtime.store.escalations()) == 1


def _idempotency_id(runtime: Runtime) -> str:
    items = runtime.dynamodb.scan(TableName=runtime.settings.table("idempotency"))["Items"]
    assert len(items) == 1
    return str(items[0]["id"]["S"])


def test_own_posts_and_echoes_are_never_decided(ddb_runtime: Runtime) -> None:
    body = json.dumps(
        {
            "for_user_id": "1000000000000000001",
            "tweet_create_events": [
                {
                    "id_str": "2005",
                    "text": "Network upgrade in Cavite tonight",
                    "timestamp_ms": "1795424400000",
                    "user": {"id_str": "1000000000000000001", "screen_name": "bayanitelcares"},
                }
            ],
        }
    ).encode()
    outcome = ddb_runtime.processor.process(_event(ddb_runtime, body))
    assert outcome.status == "skipped"
    assert ddb_runtime.store.decisions() == []


def test_a_conversation_between_others_is_ignored(ddb_runtime: Runtime) -> None:
    text = "@anna_bgc @bayanitelcares haha same, my sister has no signal too"
    body = json.dumps(
        {
            "for_user_id": "1000000000000000001",
            "tweet_create_events": [
                {
                    "id_str": "2006",
                    "text": text,
                    "timestamp_ms": "1795424400000",
                    "display_text_range": [26, len(text)],
                    "in_reply_to_status_id_str": "1999",
                    "in_reply_to_user_id_str": "77",
                    "in_reply_to_screen_name": "anna_bgc",
                    "user": {"id_str": "78", "screen_name": "ben"},
                    "entities": {
                        "user_mentions": [
                            {"screen_name": "anna_bgc", "id_str": "77", "indices": [0, 9]},
                            {"screen_name": "bayanitelcares", "id_str": "1000000000000000001", "indices": [10, 25]},
                        ]
                    },
                }
            ],
        }
    ).encode()
    outcome = ddb_runtime.processor.process(_event(ddb_runtime, body))
    assert (outcome.status, outcome.action, outcome.rule) == ("decided", "ignore", "not-for-us")
    assert ddb_runtime.store.escalations() == []


def test_praise_queues_a_pending_reply_with_no_personal_data(ddb_runtime: Runtime) -> None:
    body = mention_delivery("2007", "@bayanitelcares fiber fixed in 20 minutes, thank you so much, great team!")
    outcome = ddb_runtime.processor.process(_event(ddb_runtime, body))
    assert (outcome.action, outcome.rule) == ("reply", "thank-praise")
    [reply] = ddb_runtime.store.outbox()
    assert reply["status"] == "pending"
    assert reply["in_reply_to_post_id"] == "2007"
    assert reply["text"].startswith("Thank you Maria")


class _FailingClassifier:
    """Raises for one text, like a transient bug would: that record must fail alone."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def classify(self, post: Post, context: str | None = None) -> Classification:
        if "boom" in post.text:
            raise RuntimeError("transient failure")
        result: Classification = self._real.classify(post)
        return result


def test_sqs_batch_reports_only_the_failing_record(ddb_runtime: Runtime) -> None:
    ddb_runtime.__dict__["classifier"] = _FailingClassifier(ddb_runtime.classifier)
    good = _event(ddb_runtime, mention_delivery("2010", OUTAGE)).to_message()
    bad = _event(ddb_runtime, mention_delivery("2011", "@bayanitelcares boom")).to_message()
    also_good = _event(
        ddb_runtime, mention_delivery("2012", "@bayanitelcares I was charged twice this month")
    ).to_message()
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(
            message_bodies=[json.dumps(good), json.dumps(bad), json.dumps(also_good)], queue_name="carewire-intake"
        )
        failed_id = event["Records"][1]["messageId"]
        result = client.lambda_.invoke("process_intake", event).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": failed_id}]}
    assert ddb_runtime.store.decision("x#2010") is not None
    assert ddb_runtime.store.decision("x#2012") is not None
    assert ddb_runtime.store.decision("x#2011") is None


def test_unprocessable_messages_are_parked_with_their_reason(ddb_runtime: Runtime) -> None:
    no_user = _event(ddb_runtime, mention_delivery("2020", OUTAGE)).to_message()
    del no_user["payload"]["event"]["user"]
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(
            message_bodies=["not json at all", json.dumps(no_user), json.dumps({"channel": "x-care"})],
            queue_name="carewire-intake",
        )
        result = client.lambda_.invoke("process_intake", event).payload
    assert result == {"batchItemFailures": []}
    parked = ddb_runtime.store.parked()
    assert len(parked) == 3
    reasons = " | ".join(p["reason"] for p in parked)
    assert "MalformedEvent" in reasons
    assert "not an intake event message" in reasons
    assert any(json.loads(p["message"]).get("unparsable_body") == "not json at all" for p in parked)


def test_durable_queue_parks_after_retries(ddb_runtime: Runtime) -> None:
    from chalicelib.local.durable_queue import DurableQueue

    def always_fails(_message: dict[str, Any]) -> None:
        raise RuntimeError("DynamoDB is down")

    queue = DurableQueue(
        ddb_runtime.settings.home / "q.sqlite3",
        handler=always_fails,
        park=lambda m, r: ddb_runtime.store.park(m, r, ddb_runtime.clock()),
        workers=1,
        attempts=3,
        backoff=0.0,
    )
    queue.send([_event(ddb_runtime, mention_delivery("2030", OUTAGE))])
    assert queue.join(timeout=20)
    queue.close()
    [parked] = ddb_runtime.store.parked()
    assert parked["reason"] == "failed 3 times: RuntimeError: DynamoDB is down"


@pytest.mark.parametrize("missing", ["user", "id_str"])
def test_processor_parks_events_missing_required_fields(ddb_runtime: Runtime, missing: str) -> None:
    message = _event(ddb_runtime, mention_delivery("2040", OUTAGE)).to_message()
    del message["payload"]["event"][missing]
    message["payload"]["event"].pop("id", None)
    outcome = ddb_runtime.processor.process_message(message)
    assert outcome.status == "parked"
    assert len(ddb_runtime.store.parked()) == 1


def _dm(runtime: Runtime, dm_id: str, text: str, sender: str = "555") -> Event:
    body = {
        "for_user_id": "1000000000000000001",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": dm_id,
                "created_timestamp": "1795424400000",
                "message_create": {
                    "target": {"recipient_id": "1000000000000000001"},
                    "sender_id": sender,
                    "message_data": {"text": text, "entities": {}},
                },
            }
        ],
    }
    return PLATFORM.split(body, runtime.channels["x-care"], "2026-11-23T09:30:00.000Z").events[0]


def test_a_follow_up_in_the_conversation_joins_the_open_escalation(ddb_runtime: Runtime) -> None:
    first = ddb_runtime.processor.process(_dm(ddb_runtime, "9001", "why was I charged twice on my bill this month?"))
    second = ddb_runtime.processor.process(_dm(ddb_runtime, "9002", "hello?? still waiting, this is ridiculous"))
    assert (first.status, first.rule) == ("decided", "account-matters-by-dm")
    assert (second.status, second.action, second.rule) == ("decided", "escalate", "follow-up")
    [escalation] = ddb_runtime.store.escalations()
    assert [f["post"]["post_id"] for f in escalation["follow_ups"]] == ["9002"]
    assert len(ddb_runtime.store.outbox()) == 1  # the first post's DM reply only: no reply over the agent's head
    decision = ddb_runtime.store.decision("x#9002")
    assert decision is not None and decision["reason"].startswith("joined the open escalation esc-")

"""Reply budgets hold across posts and under concurrency, on DynamoDB Local."""

from __future__ import annotations

import json
import threading

from chalicelib.channels.x import PLATFORM
from chalicelib.model import Event
from chalicelib.runtime import Runtime

PRAISE = "@bayanitelcares fiber fixed in 20 minutes, thank you so much!"


def _tweet(
    runtime: Runtime, post_id: str, text: str, conversation: str, author: str = "42", at_ms: str = "1795424400000"
) -> Event:
    body = {
        "for_user_id": "1000000000000000001",
        "tweet_create_events": [
            {
                "id_str": post_id,
                "text": text,
                "timestamp_ms": at_ms,
                "conversation_id_str": conversation,
                "user": {"id_str": author, "screen_name": f"user{author}", "name": "Maria Santos"},
                "entities": {
                    "user_mentions": [
                        {"screen_name": "bayanitelcares", "id_str": "1000000000000000001", "indices": [0, 15]}
                    ]
                },
            }
        ],
    }
    return PLATFORM.split(json.loads(json.dumps(body)), runtime.channels["x-care"], "2026-11-23T09:30:00.000Z").events[
        0
    ]


def test_second_praise_in_a_conversation_gets_no_second_public_reply(ddb_runtime: Runtime) -> None:
    first = ddb_runtime.processor.process(_tweet(ddb_runtime, "5001", PRAISE, "c-1"))
    second = ddb_runtime.processor.process(_tweet(ddb_runtime, "5002", PRAISE, "c-1", author="43"))
    assert (first.action, first.rule) == ("reply", "thank-praise")
    assert (second.action, second.rule) == ("ignore", "")
    assert len(ddb_runtime.store.outbox()) == 1
    decision = ddb_runtime.store.decision("x#5002")
    assert decision is not None
    assert any("conversation budget spent" in g for g in decision["guardrails"])


def test_concurrent_praise_in_one_conversation_gets_one_public_reply(ddb_runtime: Runtime) -> None:
    events = [_tweet(ddb_runtime, f"60{n:02d}", PRAISE, "c-2", author=str(100 + n)) for n in range(6)]
    barrier = threading.Barrier(len(events))
    outcomes = []

    def deliver(event: Event) -> None:
        barrier.wait()
        outcomes.append(ddb_runtime.processor.process(event))

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(o.status == "decided" for o in outcomes)
    assert sorted(o.action or "" for o in outcomes) == ["ignore"] * 5 + ["reply"]
    assert len(ddb_runtime.store.outbox()) == 1


def test_author_facts_reach_the_rules(ddb_runtime: Runtime) -> None:
    for n in range(3):
        ddb_runtime.processor.process(_tweet(ddb_runtime, f"70{n}", f"@bayanitelcares ok {n}", f"c-3{n}"))
    facts = ddb_runtime.activity.facts(
        ddb_runtime.platforms["x"].normalize(
            _tweet(ddb_runtime, "7010", "@bayanitelcares again", "c-39"), ddb_runtime.channels["x-care"]
        )
    )
    assert facts.author["posts_n"] == 3


def test_a_2020_tweet_replayed_in_2026_gets_no_automated_reply(ddb_runtime: Runtime) -> None:
    """The clock says 2026-11-23; the tweet is from 2020-11-28 (a replay): no reply, and the reason recorded."""
    outcome = ddb_runtime.processor.process(_tweet(ddb_runtime, "5101", PRAISE, "c-old", at_ms="1606541403440"))
    assert (outcome.action, outcome.rule) == ("ignore", "")
    assert ddb_runtime.store.outbox() == []
    decision = ddb_runtime.store.decision("x#5101")
    assert decision is not None
    assert decision["post"]["created_at"].startswith("2020-11-28")
    assert any(
        "thank-praise: reply blocked: the post is 52" in g and "older than 24 h" in g for g in decision["guardrails"]
    )


def test_an_old_post_still_reaches_a_person(ddb_runtime: Runtime) -> None:
    """A rule that replies and escalates: the reply is blocked by age, the escalation still opens."""
    text = "@bayanitelcares no signal in Quezon City since 6am, please fix this"
    two_days_ago = "1795251600000"  # 2026-11-21T09:00Z
    outcome = ddb_runtime.processor.process(_tweet(ddb_runtime, "5102", text, "c-old-2", at_ms=two_days_ago))
    assert outcome.action == "escalate"
    assert ddb_runtime.store.outbox() == []
    assert len(ddb_runtime.store.escalations()) == 1
    decision = ddb_runtime.store.decision("x#5102")
    assert decision is not None
    assert any("the post is 48 h old" in g for g in decision["guardrails"])

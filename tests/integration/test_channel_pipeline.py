"""The new channels through the processor on DynamoDB Local: dedupe keys as each platform declares them,
delivery reports handed to the delivery stage's hook, posts with a skip reason counted and never decided."""

from __future__ import annotations

import copy
from typing import Any

from chalicelib.channels import registry
from chalicelib.channels.base import DeliveryReport
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime
from tests.support import load_event

PAGE = "104857600000001"


def events(rt: Runtime, channel_id: str, body: Any, headers: dict[str, str] | None = None) -> list[Any]:
    channel = rt.channels[channel_id]
    split = registry.get(channel.platform).split(body, channel, "2026-11-23T09:29:00.000Z", headers or {})
    return split.events


def test_the_same_comment_as_feed_and_as_mention_is_decided_once(ddb_runtime: Runtime) -> None:
    feed = load_event("samples/meta_page_feed_comment_add.json")
    feed["entry"][0]["id"] = PAGE
    value = feed["entry"][0]["changes"][0]["value"]
    value.update({"from": {"id": "555", "name": "Maria"}, "message": "no signal in Quezon City since 6am"})
    mention = copy.deepcopy(feed)
    mention["entry"][0]["changes"][0]["field"] = "mention"
    del mention["entry"][0]["changes"][0]["value"]["from"]
    [first] = events(ddb_runtime, "fb-page", feed)
    [second] = events(ddb_runtime, "fb-page", mention)
    assert ddb_runtime.processor.process(first).status == "decided"
    assert ddb_runtime.processor.process(second).status == "duplicate"
    assert ddb_runtime.store.decision(f"facebook#{value['comment_id']}") is not None


def test_a_discourse_retry_with_a_new_event_id_is_not_decided_again(ddb_runtime: Runtime) -> None:
    body = load_event("samples/discourse_post_created_body.json")
    body["post"].update(username="maria", user_id=55, raw="My sim stopped working after the update, help")
    [first] = events(
        ddb_runtime, "community", body, {"X-Discourse-Event": "post_created", "X-Discourse-Event-Id": "47"}
    )
    [retry] = events(
        ddb_runtime, "community", body, {"X-Discourse-Event": "post_created", "X-Discourse-Event-Id": "52"}
    )
    assert ddb_runtime.processor.process(first).status == "decided"
    assert ddb_runtime.processor.process(retry).status == "duplicate"
    assert len(ddb_runtime.store.decisions()) == 1


def test_a_topic_created_post_is_counted_and_left_to_its_first_post(ddb_runtime: Runtime) -> None:
    [event] = events(
        ddb_runtime,
        "community",
        load_event("samples/discourse_topic_created_body.json"),
        {"X-Discourse-Event": "topic_created"},
    )
    outcome = ddb_runtime.processor.process(event)
    assert outcome.status == "skipped" and "first post" in outcome.reason
    assert COUNTERS.tally["PostsSkipped"] == 1
    assert ddb_runtime.store.decisions() == []


def test_whatsapp_statuses_reach_the_delivery_hook_and_are_never_posts(ddb_runtime: Runtime) -> None:
    seen: list[DeliveryReport] = []
    processor = ddb_runtime.processor
    processor._delivery_reports = seen.append  # what the delivery stage wires
    for name in ("meta_whatsapp_status_delivered.json", "meta_whatsapp_status_failed.json"):
        body = load_event(f"samples/{name}")
        body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "106540352242922"
        [event] = events(ddb_runtime, "whatsapp-care", body)
        outcome = processor.process(event)
        assert outcome.status == "skipped" and outcome.reason.startswith("delivery report: ")
    assert [r.status for r in seen] == ["delivered", "failed"]
    assert seen[1].errors[0]["code"] == 131026
    assert COUNTERS.tally["DeliveryReportsDelivered"] == 1 and COUNTERS.tally["DeliveryReportsFailed"] == 1
    assert ddb_runtime.store.decisions() == []


def test_a_whatsapp_message_is_decided_under_its_wamid(ddb_runtime: Runtime) -> None:
    body = load_event("samples/meta_whatsapp_message_text_docs.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "1795425000"
    [event] = events(ddb_runtime, "whatsapp-care", body)
    assert ddb_runtime.processor.process(event).status == "decided"
    wamid = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    decision = ddb_runtime.store.decision(f"whatsapp#{wamid}")
    assert decision is not None and decision["post"]["is_dm"] is True

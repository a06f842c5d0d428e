"""WhatsApp statuses (the real sample payloads) through the processor on DynamoDB Local, recorded on the outbox
item they concern: delivered and read stamped once, failed after sent shows the platform's error and is never
sent again, a status for a message Carewire did not send acknowledged and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.channels import registry
from chalicelib.clock import iso
from chalicelib.delivery.clients import PlatformClient
from chalicelib.delivery.reports import DeliveryReports
from chalicelib.delivery.text import WindowRule
from chalicelib.delivery.tokens import Tokens
from chalicelib.delivery.wiring import build_sender
from chalicelib.escalations.sweep import LogAlerts
from chalicelib.intake_queue import RetryLater
from chalicelib.observability import COUNTERS
from chalicelib.outbox import OutboxItem, outbox_item
from chalicelib.runtime import Runtime
from tests.support import load_event

PHONE_ID = "106540352242922"  # whatsapp-care's phone_number_id (policies/channels.yaml)
DELIVERED = "samples/meta_whatsapp_status_delivered.json"
FAILED = "samples/meta_whatsapp_status_failed.json"


def status_body(name: str, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = load_event(name)
    value = body["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = PHONE_ID  # the failed sample's is redacted
    value["statuses"][0].update(status)
    return body


def wamid(name: str) -> str:
    return str(load_event(name)["entry"][0]["changes"][0]["value"]["statuses"][0]["id"])


def report(rt: Runtime, body: dict[str, Any]) -> Any:
    channel = rt.channels["whatsapp-care"]
    [event] = registry.get("whatsapp").split(body, channel, "2026-11-23T09:29:00.000Z", {}).events
    return rt.processor.process(event)


WHATSAPP_DM: dict[str, Any] = {
    "kind": "dm",
    "key": ("whatsapp#wamid.customer1",),
    "channel": "whatsapp-care",
    "platform": "whatsapp",
    "text": "We are sorry: a technician is on the way.",
    "conversation_id": "wa-conversation",
    "recipient_id": "15551234567",
    "customer_at": "2026-11-23T08:59:00Z",
}


def sent_item(rt: Runtime, platform_id: str, **fields: Any) -> OutboxItem:
    """An outbox item (a WhatsApp DM unless `fields` say otherwise) the sender delivered; the platform
    answered with `platform_id`."""
    doc = outbox_item(**{**WHATSAPP_DM, "created_at": "2026-11-23T09:00:00Z", **fields})
    assert rt.outbox.put(doc)
    item = OutboxItem.from_doc(doc)
    now = datetime(2026, 11, 23, 9, 0, 1, tzinfo=UTC)
    claimed = rt.outbox.claim(item, now, timedelta(seconds=30))
    assert claimed is not None
    sent = rt.outbox.sent(claimed, platform_id, now)
    assert sent is not None and sent.status == "sent"
    return sent


def got(rt: Runtime, reply_id: str) -> OutboxItem:
    found = rt.outbox.get(reply_id)
    assert found is not None
    return found


def test_delivered_then_read_are_stamped_on_the_item_once(ddb_runtime: Runtime) -> None:
    item = sent_item(ddb_runtime, wamid(DELIVERED))
    outcome = report(ddb_runtime, status_body(DELIVERED))
    assert outcome.status == "skipped" and outcome.reason == "delivery report: delivered"
    delivered = got(ddb_runtime, item.reply_id)
    assert delivered.status == "sent" and delivered.delivered_at == "2025-06-15T23:27:53.000Z"  # the status's time
    report(ddb_runtime, status_body(DELIVERED, status="read", timestamp="1750030200"))
    report(ddb_runtime, status_body(DELIVERED, timestamp="1750039999"))  # WhatsApp repeats itself
    seen = got(ddb_runtime, item.reply_id)
    assert (seen.delivered_at, seen.read_at) == ("2025-06-15T23:27:53.000Z", "2025-06-15T23:30:00.000Z")
    assert seen.status == "sent" and seen.error is None
    assert ddb_runtime.store.decisions() == []  # a status is never a post


class Recording:
    """A WhatsApp client that records what the sender would send."""

    platform = "whatsapp"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        self.sent.append(item.reply_id)
        return "wamid.again"

    def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
        return None


def test_failed_after_sent_shows_the_platforms_error_and_is_never_sent_again(ddb_runtime: Runtime) -> None:
    item = sent_item(ddb_runtime, wamid(FAILED))
    report(ddb_runtime, status_body(FAILED))
    failed = got(ddb_runtime, item.reply_id)
    assert failed.status == "failed"
    assert failed.error == (
        "whatsapp reports the message undelivered: 131026: Receiver is incapable of receiving this message"
    )
    assert failed.platform_id == wamid(FAILED) and failed.sent_at == item.sent_at and failed.lane is None
    assert [i.reply_id for i in ddb_runtime.outbox.by_status("failed")] == [item.reply_id]

    report(ddb_runtime, status_body(FAILED))  # the same status again changes nothing
    assert got(ddb_runtime, item.reply_id) == failed

    whatsapp = Recording()
    clients: dict[str, PlatformClient] = {"whatsapp": whatsapp}
    sender = build_sender(
        ddb_runtime, clients, Tokens(ddb_runtime.channels, None, fixed={"whatsapp-care": "t"}), alerts=LogAlerts()
    )
    sender.sweep(workers=1)
    sender.deliver_lane(item.lane or "whatsapp-care#wa-conversation")
    assert whatsapp.sent == []  # a person decides whether to send it again (`carewire outbox retry`)


def test_a_status_is_matched_to_its_own_channels_item_only(ddb_runtime: Runtime) -> None:
    x = {"kind": "reply", "key": ("x#1",), "channel": "x-care", "platform": "x", "in_reply_to_post_id": "1"}
    item = sent_item(ddb_runtime, wamid(FAILED), **x, recipient_id="")  # the same id, on another channel
    report(ddb_runtime, status_body(FAILED))
    assert got(ddb_runtime, item.reply_id).status == "sent"
    assert COUNTERS.tally["DeliveryReportsUnmatched"] == 1


def test_an_unknown_message_id_is_retried_while_recent_then_acknowledged(ddb_runtime: Runtime) -> None:
    just_now = datetime.fromtimestamp(1750030073, UTC) + timedelta(seconds=3)
    ddb_runtime.__dict__["delivery_reports"] = DeliveryReports(ddb_runtime.outbox, clock=lambda: just_now)
    with pytest.raises(RetryLater, match="no outbox item is known"):
        report(ddb_runtime, status_body(DELIVERED))  # maybe sent a moment ago: the index may lag

    item = sent_item(ddb_runtime, wamid(DELIVERED))  # ...and here it is: the retry records it
    report(ddb_runtime, status_body(DELIVERED))
    assert got(ddb_runtime, item.reply_id).delivered_at == iso(datetime.fromtimestamp(1750030073, UTC))

    later = just_now + timedelta(hours=1)
    ddb_runtime.__dict__["delivery_reports"] = DeliveryReports(ddb_runtime.outbox, clock=lambda: later)
    outcome = report(ddb_runtime, status_body(DELIVERED, id="wamid.sent-from-the-whatsapp-app"))
    assert outcome.status == "skipped"  # not Carewire's message: acknowledged, counted
    assert COUNTERS.tally["DeliveryReportsUnmatched"] == 1

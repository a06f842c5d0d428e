"""Delivery reports: what a platform says happened to a message the brand sent (WhatsApp `statuses`),
recorded on the outbox item it concerns — found by the platform's message id (GSI by_platform_id).

    delivered / read    the item records `delivered_at` / `read_at` (the first report of each; repeats and
                        out-of-order reports change nothing)
    failed              sent → failed with the platform's error (code and title); never re-sent by itself —
                        `carewire outbox retry` is a person's decision
    sent, others        nothing to record (the sender already knows it was accepted)

A report for an id no item has yet is retried for a while (the index lags the sent write by a moment, and
WhatsApp's first statuses follow the send within seconds); an older one concerns a message Carewire did not
send (the WhatsApp Business app, another tool): acknowledged and counted, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from chalicelib.clock import Clock, parse, utcnow
from chalicelib.intake_queue import RetryLater
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.channels.base import DeliveryReport
    from chalicelib.outbox.item import OutboxItem
    from chalicelib.store.outbox import OutboxStore

RECENT = timedelta(minutes=5)
"""A report this young for an unknown id is retried (the item may be a moment from the index)."""
REACHED = {"delivered": "delivered_at", "read": "read_at"}


@dataclass(frozen=True)
class Recorded:
    status: str
    """recorded | repeated | unmatched | ignored"""
    reply_id: str | None = None


def platform_error(report: DeliveryReport) -> str:
    """The platform's own words for a failed delivery: `<platform> <code>: <title>` per error."""
    parts = [f"{e.get('code')}: {e.get('title') or 'no title'}" for e in report.errors]
    return f"{report.platform} reports the message undelivered: " + ("; ".join(parts) or "no error given")


class DeliveryReports:
    """The processor's `delivery_reports` hook (chalicelib/processor.py)."""

    def __init__(self, outbox: OutboxStore, clock: Clock = utcnow) -> None:
        self._outbox = outbox
        self._clock = clock

    def __call__(self, report: DeliveryReport) -> Recorded:
        if report.status != "failed" and report.status not in REACHED:
            return Recorded("ignored")
        for reply_id in self._outbox.by_platform_id(report.message_id):
            item = self._record(reply_id, report)
            if item is not None:
                COUNTERS.count("DeliveryReportsRecorded")
                logger().info(
                    "delivery report recorded",
                    extra={"reply_id": reply_id, "status": report.status, "channel": report.channel},
                )
                return Recorded("recorded", reply_id)
            current = self._outbox.get(reply_id)
            if current is not None and current.channel == report.channel:
                return Recorded("repeated", reply_id)  # already failed, or a report seen before
        if self._clock() - parse(report.at) < RECENT:
            raise RetryLater(f"no outbox item is known by {report.platform} message id yet", delay=5.0)
        COUNTERS.count("DeliveryReportsUnmatched")
        logger().info("delivery report for a message Carewire did not send", extra={"channel": report.channel})
        return Recorded("unmatched")

    def _record(self, reply_id: str, report: DeliveryReport) -> OutboxItem | None:
        if report.status == "failed":
            return self._outbox.undelivered(
                reply_id, report.channel, report.message_id, platform_error(report), self._clock()
            )
        return self._outbox.reached(reply_id, report.channel, report.message_id, REACHED[report.status], report.at)

"""The intake queue between the webhook route and the processor: SQS in AWS; locally a durable queue
on SQLite (chalicelib/local/durable_queue.py). Either way `send` returns only once the events are
persisted, or raises QueueUnavailable (the route answers 503 and the platform retries)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.model import Event

if TYPE_CHECKING:
    from chalicelib.store.blobs import Blobs


class IntakeQueue(Protocol):
    def send(self, events: Sequence[Event]) -> None: ...


class QueueUnavailable(RuntimeError):
    """Events could not be enqueued; the route answers 503 so the platform retries the delivery."""


class RetryLater(RuntimeError):
    """Not a failure of the event: try it again after `delay` seconds without spending an attempt
    (e.g. another worker holds the post). SQS retries it after its visibility timeout."""

    def __init__(self, message: str, delay: float = 2.0) -> None:
        super().__init__(message)
        self.delay = delay


SQS_MESSAGE_BYTES = 262_144
"""SQS's limit, for one message and for one SendMessageBatch call together."""
SQS_INLINE_BYTES = 240_000
"""A message larger than this travels by reference (S3); the processor resolves it."""


class SqsIntakeQueue:
    BATCH = 10

    def __init__(self, url: str, client: Any, blobs: Blobs | None = None) -> None:
        self._url = url
        self._client = client
        self._blobs = blobs

    def _bodies(self, events: Sequence[Event]) -> Iterator[str]:
        for event in events:
            body = json.dumps(event.to_message(), separators=(",", ":"))
            if len(body.encode("utf-8")) > SQS_INLINE_BYTES:
                if self._blobs is None:
                    raise QueueUnavailable("an event is larger than SQS takes and no bucket is configured")
                from chalicelib.store.blobs import by_reference

                try:
                    body = json.dumps(by_reference(event.to_message(), self._blobs))
                except Exception as exc:  # S3 refused or unreachable: the platform retries the delivery
                    raise QueueUnavailable(f"an oversized event could not be stored: {exc}") from exc
            yield body

    def _batches(self, events: Sequence[Event]) -> Iterator[list[dict[str, str]]]:
        """At most 10 messages and 256 KB a call."""
        batch: list[dict[str, str]] = []
        size = 0
        for body in self._bodies(events):
            length = len(body.encode("utf-8"))
            if batch and (len(batch) == self.BATCH or size + length > SQS_MESSAGE_BYTES):
                yield batch
                batch, size = [], 0
            batch.append({"Id": str(len(batch)), "MessageBody": body})
            size += length
        if batch:
            yield batch

    def send(self, events: Sequence[Event]) -> None:
        for batch in self._batches(events):
            entries = batch
            for _attempt in range(3):
                try:
                    result = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                except Exception as exc:  # botocore already retried; the platform retries the delivery
                    raise QueueUnavailable(f"SQS did not take the events: {type(exc).__name__}") from exc
                failed = {f["Id"] for f in result.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueUnavailable(f"{len(entries)} event(s) could not be enqueued")


Handler = Callable[[dict[str, Any]], Any]
Park = Callable[[dict[str, Any], str], Any]

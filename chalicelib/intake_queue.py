"""The intake queue between the webhook route and the processor: SQS in AWS, in-process locally."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from chalicelib.model import Event
from chalicelib.observability import COUNTERS, logger


class IntakeQueue(Protocol):
    def send(self, events: Sequence[Event]) -> None: ...


class QueueUnavailable(RuntimeError):
    """Events could not be enqueued; the route answers 503 so the platform retries the delivery."""


class SqsIntakeQueue:
    BATCH = 10

    def __init__(self, url: str, client: Any) -> None:
        self._url = url
        self._client = client

    def send(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), self.BATCH):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(e.to_message(), separators=(",", ":"))}
                for i, e in enumerate(events[start : start + self.BATCH])
            ]
            for _attempt in range(3):
                result = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
                failed = {f["Id"] for f in result.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueUnavailable(f"{len(entries)} event(s) could not be enqueued")


Handler = Callable[[dict[str, Any]], Any]
Park = Callable[[dict[str, Any], str], Any]


class InProcessQueue:
    """What SQS does for the processor, in this process: worker threads, retries with back-off, and
    parking after the last attempt (SQS's dead-letter queue) — so a local run loses nothing either."""

    def __init__(self, handler: Handler, park: Park, workers: int = 2, attempts: int = 3, backoff: float = 0.2) -> None:
        self._handler = handler
        self._park = park
        self._attempts = attempts
        self._backoff = backoff
        self._queue: queue.Queue[tuple[dict[str, Any], int] | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"intake-{n}") for n in range(workers)]
        self.results: list[Any] = []
        for thread in self._threads:
            thread.start()

    def send(self, events: Sequence[Event]) -> None:
        for event in events:
            self._queue.put((json.loads(json.dumps(event.to_message())), 1))

    def join(self) -> None:
        """Block until every event sent so far is processed or parked."""
        self._queue.join()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                message, attempt = item
                try:
                    self.results.append(self._handler(message))
                except Exception as exc:  # noqa: BLE001 - retried, then parked with its reason
                    if attempt < self._attempts:
                        time.sleep(self._backoff * attempt)
                        self._queue.put((message, attempt + 1))
                    else:
                        COUNTERS.count("EventsParked")
                        logger().exception("event failed on every attempt; parked")
                        self._park(message, f"failed {attempt} times: {type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

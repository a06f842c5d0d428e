"""Accepted means persisted (issue 9 #2, #3) on DynamoDB Local: a crashed holder's in-progress record
does not swallow a redelivery, oversized events travel and park by reference, the webhook answers 503
when the queue cannot persist."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from chalice.test import Client

from app import app
from chalicelib import runtime as runtime_module
from chalicelib.dedupe import DeliveryDedupe, PostInProgress
from chalicelib.intake_queue import SQS_MESSAGE_BYTES, SqsIntakeQueue
from chalicelib.local.durable_queue import DurableQueue
from chalicelib.processor import process_sqs_batch
from chalicelib.runtime import Runtime
from chalicelib.store.blobs import FileBlobs, resolve_message
from tests.conftest import X_SECRET, FixedClock, make_settings
from tests.integration.test_pipeline import OUTAGE, _event
from tests.support import mention_delivery, x_headers


def test_a_stale_in_progress_record_does_not_swallow_a_redelivery(ddb_runtime: Runtime) -> None:
    """A holder that died mid-post (kill -9) leaves its record in progress: the redelivery is retried,
    not acknowledged as a duplicate, and takes the post over once the record expires."""
    ddb_runtime.__dict__["dedupe"] = DeliveryDedupe(
        ddb_runtime.settings.table("idempotency"), ddb_runtime.dynamodb, in_progress_ms=500
    )
    event = _event(ddb_runtime, mention_delivery("7001", OUTAGE))
    processor = ddb_runtime.processor
    post = ddb_runtime.platforms["x"].normalize(event, ddb_runtime.channels["x-care"])
    holding, release = threading.Event(), threading.Event()

    def dies_holding_the_post(_post: Any) -> dict[str, Any]:
        holding.set()
        release.wait(10)
        raise SystemExit  # never reaches save_success or delete: as if killed

    crashed = threading.Thread(target=lambda: _swallow(ddb_runtime.dedupe.run_once, post, dies_holding_the_post))
    crashed.start()
    assert holding.wait(10)
    try:
        try:
            outcome = processor.process(event)
        except PostInProgress:
            outcome = None
        assert outcome is None  # before: Outcome("duplicate") — acknowledged and never decided
        assert ddb_runtime.store.decision("x#7001") is None
        deadline_outcome = _retry_until_not_in_progress(lambda: processor.process(event))
        assert deadline_outcome.status == "decided"
        assert ddb_runtime.store.decision("x#7001") is not None
    finally:
        release.set()
        crashed.join(10)


def _swallow(call: Any, *args: Any) -> None:
    with contextlib.suppress(BaseException):  # the "crashed" holder's end is not under test
        call(*args)


def _retry_until_not_in_progress(attempt: Any) -> Any:
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            return attempt()
        except PostInProgress:
            assert time.monotonic() < deadline, "the stale record was never taken over"
            time.sleep(0.1)


def _big_delivery(post_id: str, size: int = 450_000) -> bytes:
    return mention_delivery(post_id, "@bayanitelcares " + "no signal " * (size // 10))


def test_an_oversized_event_is_parked_by_reference_and_the_worker_goes_on(ddb_runtime: Runtime) -> None:
    processor = ddb_runtime.processor
    queue = DurableQueue(
        ddb_runtime.settings.home / "big.sqlite3",
        handler=processor.process_message,
        park=lambda m, r: ddb_runtime.store.park(m, r, ddb_runtime.clock()),
        blobs=ddb_runtime.store.blobs,
        attempts=2,
        backoff=0.0,
    )
    try:
        queue.send([_event(ddb_runtime, _big_delivery("7101")), _event(ddb_runtime, _big_delivery("7102"))])
        queue.send([_event(ddb_runtime, mention_delivery("7103", OUTAGE))])
        assert queue.join(timeout=60)
    finally:
        queue.close()
    assert ddb_runtime.store.decision("x#7103") is not None
    parked = ddb_runtime.store.parked()
    assert len(parked) == 2
    for row in parked:
        stored = json.loads(row["message"])
        assert set(stored) == {"message_ref", "bytes"} and stored["bytes"] > 400_000
        original = resolve_message(stored, ddb_runtime.store.blobs)
        assert original["payload"]["event"]["id_str"] in {"7101", "7102"}
        assert row["reason"].startswith("failed 2 times:")


class FakeSqs:
    def __init__(self) -> None:
        self.calls: list[list[dict[str, str]]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert sum(len(e["MessageBody"].encode()) for e in Entries) <= SQS_MESSAGE_BYTES
        self.calls.append(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_events_too_large_for_sqs_travel_by_reference_and_are_decided(ddb_runtime: Runtime, tmp_path: Path) -> None:
    """In AWS an event over 256 KB made the webhook answer 500: now it is stored (S3) and referenced."""
    sqs, blobs = FakeSqs(), FileBlobs(tmp_path / "bucket")
    queue = SqsIntakeQueue("https://sqs.local/intake", sqs, blobs)
    small = [_event(ddb_runtime, mention_delivery(str(7200 + n), OUTAGE)) for n in range(3)]
    big = _event(ddb_runtime, mention_delivery("7210", OUTAGE))
    big.payload["users"] = {"9": {"id": "9", "screen_name": "padding", "description": "x" * 300_000}}
    queue.send([*small, big])
    bodies = [json.loads(e["MessageBody"]) for call in sqs.calls for e in call]
    assert len(bodies) == 4
    [reference] = [b for b in bodies if "message_ref" in b]
    assert len(json.dumps(reference)) < 200
    ddb_runtime.store._blobs = blobs  # the processor resolves references where the webhook stored them
    with Client(app, stage_name="local") as client:
        event = client.events.generate_sqs_event(message_bodies=[json.dumps(reference)], queue_name="carewire-intake")
        result = process_sqs_batch(ddb_runtime.processor, event, None)
    assert result == {"batchItemFailures": []}
    decision = ddb_runtime.store.decision("x#7210")
    assert decision is not None


def test_the_webhook_answers_503_when_the_queue_cannot_persist(tmp_path: Path) -> None:
    path = tmp_path / "intake.sqlite3"
    holder_ready = DurableQueue(path, handler=lambda m: None, park=lambda m, r: None, busy_timeout=0.2, start=False)
    rt = Runtime(make_settings(tmp_path), clock=FixedClock(), queue_factory=lambda _rt: holder_ready)
    runtime_module.use(rt)
    holder = sqlite3.connect(path, isolation_level=None)
    body = mention_delivery("7301", OUTAGE)
    try:
        with Client(app, stage_name="local") as client:
            holder.execute("BEGIN EXCLUSIVE")  # the queue file cannot take a commit now
            refused = client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body)
            holder.execute("ROLLBACK")
            accepted = client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body)
    finally:
        holder.close()
    assert (refused.status_code, refused.json_body["error"]) == (503, "try_again")
    assert accepted.status_code == 200
    assert holder_ready.pending() == 1  # the refused attempt left nothing behind; the accepted one is persisted
    holder_ready.close()

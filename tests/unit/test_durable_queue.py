"""The local intake queue keeps what it accepted: across kill -9, through failing handlers and failing
parking, and it says so (QueueUnavailable) when it cannot persist."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib.intake_queue import QueueUnavailable, RetryLater
from chalicelib.local.durable_queue import DurableQueue
from chalicelib.model import Event
from chalicelib.store.blobs import FileBlobs, resolve_message

REPO = Path(__file__).resolve().parents[2]
DYNAMODB_ITEM_BYTES = 400_000


def event(post_id: str, text: str = "no signal since 6am") -> Event:
    tweet = {"id_str": post_id, "text": text, "user": {"id_str": "42", "screen_name": "maria_qc"}}
    return Event("x-care", "x", "tweet", {"event": tweet, "for_user_id": "1"}, "2026-11-23T09:30:00.000Z")


def post_id(message: dict[str, Any]) -> str:
    return str(message["payload"]["event"]["id_str"])


class Parking:
    """Parks like DynamoDB: refuses an item over 400 KB (or everything, when `down`)."""

    def __init__(self, down: bool = False) -> None:
        self.rows: list[tuple[dict[str, Any], str]] = []
        self.down = down

    def __call__(self, message: dict[str, Any], reason: str) -> None:
        if self.down:
            raise ConnectionError("DynamoDB Local is not answering")
        if len(json.dumps(message)) > DYNAMODB_ITEM_BYTES:
            raise RuntimeError("ValidationException: Item size has exceeded the maximum allowed size")
        self.rows.append((message, reason))


def test_messages_leased_by_a_killed_process_are_delivered_again(tmp_path: Path) -> None:
    path = tmp_path / "intake.sqlite3"
    child = f"""
import os, signal, sys
sys.path.insert(0, {str(REPO)!r})
from pathlib import Path
from tests.unit.test_durable_queue import event
from chalicelib.local.durable_queue import DurableQueue

def die(message):  # the server is killed while it handles the first message
    os.kill(os.getpid(), signal.SIGKILL)

queue = DurableQueue(Path({str(path)!r}), handler=die, park=lambda m, r: None, start=False)
queue.send([event("1"), event("2")])
queue.send([event("3")])
queue._threads[0].start()
queue._threads[0].join()
"""
    done = subprocess.run([sys.executable, "-c", child], cwd=REPO, timeout=60, check=False)
    assert done.returncode == -9  # it really was kill -9, after send returned
    seen: list[str] = []
    queue = DurableQueue(path, handler=lambda m: seen.append(post_id(m)), park=Parking(), visibility=300)
    try:
        assert queue.join(timeout=10)  # not after the 300 s lease: the dead process's lease is released on open
    finally:
        queue.close()
    assert sorted(seen) == ["1", "2", "3"]


def test_a_queue_reopened_in_a_fresh_object_delivers_what_was_not_done(tmp_path: Path) -> None:
    path = tmp_path / "intake.sqlite3"
    first = DurableQueue(path, handler=lambda m: None, park=Parking(), start=False)
    first.send([event("10"), event("11")])
    first.close()  # a graceful stop with work queued: nothing is dropped
    seen: list[str] = []
    second = DurableQueue(path, handler=lambda m: seen.append(post_id(m)), park=Parking())
    assert second.join(timeout=10)
    second.close()
    assert sorted(seen) == ["10", "11"]


def test_a_failing_event_is_retried_then_parked_and_others_go_on(tmp_path: Path) -> None:
    calls: dict[str, int] = {}

    def handler(message: dict[str, Any]) -> str:
        pid = post_id(message)
        calls[pid] = calls.get(pid, 0) + 1
        if pid == "bad":
            raise RuntimeError("boom")
        return pid

    parking = Parking()
    queue = DurableQueue(tmp_path / "q.sqlite3", handler=handler, park=parking, attempts=3, backoff=0.0)
    queue.send([event("bad"), event("good")])
    assert queue.join(timeout=10)
    queue.close()
    assert calls == {"bad": 3, "good": 1}
    [(message, reason)] = parking.rows
    assert post_id(message) == "bad" and reason == "failed 3 times: RuntimeError: boom"


def test_worker_survives_a_parking_failure_and_parks_by_reference(tmp_path: Path) -> None:
    """Issue 9 #3: two ~450 KB tweets made parking fail and the exception ended the worker threads."""
    done: list[str] = []

    def handler(message: dict[str, Any]) -> None:
        if len(message["payload"]["event"]["text"]) > DYNAMODB_ITEM_BYTES:
            raise RuntimeError("ValidationException: Item size has exceeded the maximum allowed size")
        done.append(post_id(message))

    parking, blobs = Parking(), FileBlobs(tmp_path / "blobs")
    queue = DurableQueue(
        tmp_path / "q.sqlite3", handler=handler, park=parking, blobs=blobs, workers=2, attempts=2, backoff=0.0
    )
    big = "x" * 450_000
    queue.send([event("big1", big), event("big2", big)])
    assert queue.join(timeout=20)
    queue.send([event("after")])  # the workers are still alive
    assert queue.join(timeout=10)
    queue.close()
    assert done == ["after"]
    assert len(parking.rows) == 2
    for reference, reason in parking.rows:
        assert "parked by reference" in reason and "Item size has exceeded" in reason
        original = resolve_message(reference, blobs)
        assert original["payload"]["event"]["text"] == big
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in (tmp_path / "blobs").iterdir())


def test_an_event_that_cannot_be_parked_now_stays_queued(tmp_path: Path) -> None:
    """DynamoDB down: the handler fails and parking fails; the event waits, it is not dropped."""
    parking = Parking(down=True)

    def handler(message: dict[str, Any]) -> None:
        raise ConnectionError("DynamoDB Local is not answering")

    queue = DurableQueue(tmp_path / "q.sqlite3", handler=handler, park=parking, attempts=2, backoff=0.0)
    queue.send([event("1")])
    assert not queue.join(timeout=1.0)
    assert queue.pending() == 1
    assert all(t.is_alive() for t in queue._threads)
    queue.close()
    row = sqlite3.connect(tmp_path / "q.sqlite3").execute("SELECT last_error FROM messages").fetchone()
    assert row[0].startswith("not parked yet: ConnectionError")


def test_retry_later_does_not_spend_attempts(tmp_path: Path) -> None:
    tries: list[int] = []

    def handler(message: dict[str, Any]) -> str:
        tries.append(1)
        if len(tries) < 5:
            raise RetryLater("held by another worker", delay=0.0)
        return "decided"

    parking = Parking()
    queue = DurableQueue(tmp_path / "q.sqlite3", handler=handler, park=parking, attempts=2, backoff=0.0)
    queue.send([event("1")])
    assert queue.join(timeout=10)
    queue.close()
    assert (len(tries), list(queue.results), parking.rows) == (5, ["decided"], [])


def test_send_raises_queue_unavailable_when_it_cannot_persist(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    queue = DurableQueue(path, handler=lambda m: None, park=Parking(), busy_timeout=0.2, start=False)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the file: the commit cannot happen
    with pytest.raises(QueueUnavailable, match="could not persist"):
        queue.send([event("1")])
    holder.execute("ROLLBACK")
    queue.send([event("1")])
    assert queue.pending() == 1
    queue.close()


def test_concurrent_senders_share_commits_and_lose_nothing(tmp_path: Path) -> None:
    queue = DurableQueue(tmp_path / "q.sqlite3", handler=lambda m: None, park=Parking(), start=False)
    barrier = threading.Barrier(16)

    def sender(n: int) -> None:
        barrier.wait()
        for k in range(10):
            queue.send([event(f"{n}-{k}")])

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert queue.pending() == 160
    queue.close()
    assert (tmp_path / "q.sqlite3").stat().st_mode & 0o777 == 0o600

"""What SQS does for the processor, on a workstation: a durable queue in one SQLite file under the local
home (WAL, fsync on every commit), so an accepted delivery survives kill -9 of the server and of
DynamoDB Local alike.

- `send` returns only after the events are committed; concurrent senders share one commit (group
  commit), so 32 senders cost about one fsync each round, not 32. A failed commit is QueueUnavailable
  (503: the platform retries).
- Workers lease a message for `visibility` seconds, delete it on success, retry a failure with
  exponential back-off, and after the last attempt park it with its reason. RetryLater (another worker
  holds the post) waits without spending an attempt.
- Parking that fails (an item DynamoDB refuses) parks the message by reference to a file; if even that
  cannot be written (DynamoDB down), the message stays queued and is tried again later — it is never
  dropped, and no exception ends a worker.
- On open, leases held by a process that no longer runs are released at once.

Why SQLite and not a table in DynamoDB Local: a queue there dies with DynamoDB Local, and accepted must
mean persisted while DynamoDB Local is down too; SQLite is in the standard library and a commit is an
fsync away (bench/durability_campaign.py measures both kills).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.intake_queue import Handler, Park, QueueUnavailable, RetryLater
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.model import Event
    from chalicelib.store.blobs import Blobs

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    deferrals INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    lease TEXT,
    last_error TEXT,
    enqueued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_visible ON messages (visible_at, id);
"""
MAX_DEFERRALS = 100
"""RetryLater without spending attempts, up to this many times (an in-progress record expires long before)."""


@dataclass
class _Ticket:
    rows: list[tuple[str, float, float]]
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


@dataclass(frozen=True)
class Leased:
    id: int
    body: str
    attempts: int
    deferrals: int


class DurableQueue:
    def __init__(
        self,
        path: Path,
        handler: Handler,
        park: Park,
        *,
        blobs: Blobs | None = None,
        workers: int = 2,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        visibility: float = 60.0,
        busy_timeout: float = 5.0,
        poll: float = 0.1,
        start: bool = True,
    ) -> None:
        self.path = path
        self._handler = handler
        self._park = park
        self._blobs = blobs
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._visibility = visibility
        self._busy_timeout = busy_timeout
        self._poll = poll
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._pending: list[_Ticket] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._write_lock = threading.Lock()
        """One writer at a time in this process: a handoff here is instant, SQLite's busy wait sleeps."""
        self.results: collections.deque[Any] = collections.deque(maxlen=10_000)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._sender = self._connect(check_same_thread=False, durable=True)
        self._sender.executescript(SCHEMA)
        _owner_only(path)
        self._release_dead_leases()
        self._threads = [threading.Thread(target=self._work, daemon=True, name=f"intake-{n}") for n in range(workers)]
        if start:
            for thread in self._threads:
                thread.start()

    def _connect(self, check_same_thread: bool = True, durable: bool = False) -> sqlite3.Connection:
        """`durable`: every commit fsynced (the sender: accepted means on disk). Workers' commits (leases,
        deletes) survive a process kill without an fsync each; after a power loss one may be redone,
        which dedupe absorbs."""
        old = os.umask(0o077)  # the file and its -wal/-shm companions: owner only
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=check_same_thread
            )
        finally:
            os.umask(old)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")  # WAL + FULL: fsync per commit
        return conn

    # -- sending ---------------------------------------------------------------------------------

    def send(self, events: Sequence[Event]) -> None:
        now = time.time()
        rows = [(json.dumps(e.to_message(), separators=(",", ":")), now, now) for e in events]
        ticket = _Ticket(rows)
        with self._pending_lock:
            self._pending.append(ticket)
        with self._commit_lock:
            if not ticket.done.is_set():  # nobody committed it while we waited: commit everything pending
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                error: Exception | None = None
                try:
                    with self._write_lock, _transaction(self._sender):
                        self._sender.executemany(
                            "INSERT INTO messages (body, visible_at, enqueued_at) VALUES (?, ?, ?)",
                            [row for t in batch for row in t.rows],
                        )
                except sqlite3.Error as exc:
                    error = exc
                for t in batch:
                    t.error = error
                    t.done.set()
        if ticket.error is not None:
            COUNTERS.count("EnqueueFailures")
            logger().error("intake queue could not persist events", extra={"error": str(ticket.error)})
            raise QueueUnavailable(f"the local queue could not persist the events: {ticket.error}")
        self._wake.set()

    # -- state -----------------------------------------------------------------------------------

    def pending(self) -> int:
        """Messages not yet processed or parked (leased ones included)."""
        with self._commit_lock:
            return int(self._sender.execute("SELECT count(*) FROM messages").fetchone()[0])

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every message sent so far is processed or parked; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        """Stop taking messages; the ones being handled finish. Anything still queued stays in the file."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=30)
        with self._commit_lock:
            self._sender.close()

    def _release_dead_leases(self) -> None:
        rows = self._sender.execute("SELECT DISTINCT lease FROM messages WHERE lease IS NOT NULL").fetchall()
        dead = [lease for (lease,) in rows if not _alive(lease)]
        for lease in dead:
            self._sender.execute(
                "UPDATE messages SET lease = NULL, visible_at = ? WHERE lease = ?", (time.time(), lease)
            )
        if dead:
            logger().info("released the leases of a process that stopped", extra={"leases": len(dead)})

    # -- working ---------------------------------------------------------------------------------

    def _work(self) -> None:
        conn: sqlite3.Connection | None = None
        while not self._stopping.is_set():
            try:
                if conn is None:
                    conn = self._connect()
                leased = self._lease(conn)
                if leased is None:
                    self._wake.wait(self._poll)
                    self._wake.clear()
                    continue
                self._handle(conn, leased)
            except Exception:  # noqa: BLE001 - a worker never dies: log, breathe, carry on
                COUNTERS.count("QueueWorkerErrors")
                logger().exception("intake worker error; carrying on")
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                    conn = None
                self._stopping.wait(1.0)
        if conn is not None:
            conn.close()

    def _lease(self, conn: sqlite3.Connection) -> Leased | None:
        now = time.time()
        rows = self._write(
            conn,
            "UPDATE messages SET attempts = attempts + 1, visible_at = ?, lease = ? WHERE id = ("
            " SELECT id FROM messages WHERE visible_at <= ? ORDER BY visible_at, id LIMIT 1"
            ") RETURNING id, body, attempts, deferrals",
            (now + self._visibility, f"{os.getpid()}:{threading.get_ident()}", now),
        )
        return Leased(*rows[0]) if rows else None

    def _write(self, conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._write_lock:
            return conn.execute(sql, params).fetchall()  # fetched to the end: the statement commits here

    def _handle(self, conn: sqlite3.Connection, leased: Leased) -> None:
        try:
            message = json.loads(leased.body)
            if not isinstance(message, dict):
                raise ValueError("a queue message must be a JSON object")
        except ValueError:
            message = {"unparsable_body": leased.body}
        try:
            result = self._handler(message)
        except RetryLater as exc:
            if leased.deferrals < MAX_DEFERRALS:
                self._write(
                    conn,
                    "UPDATE messages SET attempts = attempts - 1, deferrals = deferrals + 1, visible_at = ?,"
                    " lease = NULL, last_error = ? WHERE id = ?",
                    (time.time() + exc.delay, str(exc), leased.id),
                )
                return
            self._failed(conn, leased, message, exc)
        except Exception as exc:  # noqa: BLE001 - retried, then parked with its reason
            self._failed(conn, leased, message, exc)
        else:
            self.results.append(result)
            self._write(conn, "DELETE FROM messages WHERE id = ?", (leased.id,))

    def _failed(self, conn: sqlite3.Connection, leased: Leased, message: dict[str, Any], exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if leased.attempts < self._attempts:
            delay = min(self._max_backoff, self._backoff * 2 ** (leased.attempts - 1))
            self._write(
                conn,
                "UPDATE messages SET visible_at = ?, lease = NULL, last_error = ? WHERE id = ?",
                (time.time() + delay, error[:2000], leased.id),
            )
            return
        reason = f"failed {leased.attempts} times: {error}"
        if self._park_safely(message, reason):
            self._write(conn, "DELETE FROM messages WHERE id = ?", (leased.id,))
            return
        # Nowhere to park it now (DynamoDB down?): keep it; the next failure parks it again.
        self._write(
            conn,
            "UPDATE messages SET attempts = attempts - 1, visible_at = ?, lease = NULL, last_error = ? WHERE id = ?",
            (time.time() + self._max_backoff, f"not parked yet: {error}"[:2000], leased.id),
        )

    def _park_safely(self, message: dict[str, Any], reason: str) -> bool:
        COUNTERS.count("EventsParked")
        try:
            self._park(message, reason)
            logger().warning("event failed on every attempt; parked", extra={"reason": reason[:500]})
            return True
        except Exception as exc:  # noqa: BLE001 - e.g. an item over DynamoDB's 400 KB: park a reference
            park_error = f"{type(exc).__name__}: {exc}"
        if self._blobs is not None:
            try:
                from chalicelib.store.blobs import by_reference

                reference = by_reference(message, self._blobs)
                self._park(reference, f"{reason}; parked by reference ({park_error[:500]})")
                logger().warning("event parked by reference", extra={"ref": reference["message_ref"]})
                return True
            except Exception:  # noqa: BLE001
                pass
        COUNTERS.count("ParkFailures")
        logger().error("event could not be parked; kept in the queue", extra={"error": park_error[:500]})
        return False


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _alive(lease: str) -> bool:
    try:
        pid = int(lease.split(":", 1)[0])
        if pid == os.getpid():
            return False  # a lease of this process from before this queue object existed (a reopened file)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _owner_only(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            candidate.chmod(0o600)

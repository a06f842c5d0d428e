"""The scheduled jobs, locally: what EventBridge runs in AWS, on a clock tests can drive.

In AWS `sweep_slas` and `sweep_storms` run every minute and `expire_notices` every five (app.py); locally
`expire_blobs` also deletes events stored by reference after the parked retention (S3's lifecycle rule in AWS). Without
this, a local stack never expires a lease, never breaches an SLA, never closes a storm. `Schedules.tick(now)`
runs every job whose time has come (tests call it with their own clock); `start()` ticks from a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.observability import logger

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime


@dataclass
class Job:
    name: str
    every: timedelta
    run: Callable[[], Any]
    due: datetime | None = None
    runs: int = 0
    failures: int = 0


def jobs(runtime: Runtime) -> list[Job]:
    """The same jobs, and the same rates, as app.py's schedules."""
    from chalicelib.escalations.sweep import run as sweep_slas

    return [
        Job("sweep_slas", timedelta(minutes=1), lambda: sweep_slas(runtime)),
        Job("sweep_storms", timedelta(minutes=1), lambda: runtime.storms.sweep(runtime.clock())),
        Job("expire_notices", timedelta(minutes=5), lambda: runtime.notices.sweep()),
        Job("expire_blobs", timedelta(hours=1), lambda: expire_blobs(runtime)),
    ]


def expire_blobs(runtime: Runtime) -> int:
    """Locally only (in AWS the oversized-events bucket's lifecycle rule does it): delete events stored by
    reference that are older than the parked events' retention (`policies/retention.yaml`, `parked`)."""
    from chalicelib.privacy import Retention
    from chalicelib.store.blobs import FileBlobs

    blobs = runtime.store.blobs
    if not isinstance(blobs, FileBlobs):
        return 0
    days = Retention.load(runtime.settings.policies_dir).days["parked"]
    return blobs.expire(runtime.clock() - timedelta(days=days))


@dataclass
class Schedules:
    jobs: list[Job]
    clock: Callable[[], datetime]
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def tick(self, now: datetime | None = None) -> list[str]:
        """Run every job that is due at `now` (first tick: all of them); the names of those that ran. A job
        that fails is logged and tried again at its next time: one broken job never stops the others."""
        now = now or self.clock()
        ran = []
        for job in self.jobs:
            if job.due is not None and now < job.due:
                continue
            job.due = now + job.every
            try:
                job.run()
                job.runs += 1
                ran.append(job.name)
            except Exception:  # noqa: BLE001 - logged; the schedule goes on, as EventBridge would retry
                job.failures += 1
                logger().exception("scheduled job failed", extra={"job": job.name})
        return ran

    def start(self, interval: float = 5.0) -> Schedules:
        def loop() -> None:
            while not self._stop.wait(interval):
                self.tick()

        self.tick()
        self._thread = threading.Thread(target=loop, daemon=True, name="schedules")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@contextmanager
def local_schedules(runtime: Runtime) -> Iterator[Schedules]:
    schedules = Schedules(jobs(runtime), runtime.clock).start()
    try:
        yield schedules
    finally:
        schedules.stop()

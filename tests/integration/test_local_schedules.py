"""The scheduled jobs locally: what EventBridge runs in AWS, driven by the test's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.local.schedules import Job, Schedules, jobs
from chalicelib.runtime import Runtime
from tests.integration.test_escalation_queue import seed


def test_jobs_run_at_their_rates_and_a_failing_job_never_stops_the_others(ddb_runtime: Runtime) -> None:
    now = ddb_runtime.clock()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    schedules = Schedules(
        [
            Job("every-minute", timedelta(minutes=1), lambda: ran.append("minute")),
            Job("every-five", timedelta(minutes=5), lambda: ran.append("five")),
            Job("broken", timedelta(minutes=1), broken),
        ],
        clock=lambda: now,
    )
    assert schedules.tick(now) == ["every-minute", "every-five"]
    assert schedules.tick(now + timedelta(seconds=30)) == []
    assert schedules.tick(now + timedelta(minutes=1)) == ["every-minute"]
    assert schedules.tick(now + timedelta(minutes=5)) == ["every-minute", "every-five"]
    assert schedules.jobs[2].failures == 3


def test_the_local_sla_sweep_returns_an_expired_lease_to_its_queue(ddb_runtime: Runtime) -> None:
    """Locally too: a claim whose lease ran out goes back to its queue when the schedule ticks."""
    clock = {"now": ddb_runtime.clock()}
    ddb_runtime.clock = lambda: clock["now"]
    item = seed(ddb_runtime, "1", now=clock["now"])
    claimed = ddb_runtime.escalations.claim_next("network", "ana", clock["now"])
    assert claimed is not None and claimed["status"] == "claimed"
    schedules = Schedules(jobs(ddb_runtime), clock=lambda: clock["now"])
    assert set(schedules.tick()) == {"sweep_slas", "sweep_storms", "expire_notices", "expire_blobs"}
    clock["now"] += timedelta(minutes=30)
    assert "sweep_slas" in schedules.tick()
    back = ddb_runtime.escalations.get(item["escalation_id"])
    assert back["status"] == "open" and "lease of ana expired" in back["notes"][-1]["text"]


def test_events_stored_by_reference_are_deleted_after_the_parked_retention(ddb_runtime: Runtime) -> None:
    import os

    from chalicelib.local.schedules import expire_blobs
    from chalicelib.store.blobs import BlobMissing, FileBlobs

    blobs = ddb_runtime.store.blobs
    assert isinstance(blobs, FileBlobs)
    old, fresh = blobs.put(b'{"old": 1}'), blobs.put(b'{"fresh": 1}')
    month = (ddb_runtime.clock() - timedelta(days=31)).timestamp()
    os.utime(blobs.root / old.removeprefix("file:"), (month, month))
    (blobs.root / "notes.txt").write_text("not a stored event", encoding="utf-8")
    assert expire_blobs(ddb_runtime) == 1
    with pytest.raises(BlobMissing):
        blobs.get(old)
    assert blobs.get(fresh) == b'{"fresh": 1}'
    assert (blobs.root / "notes.txt").exists()  # only what it wrote

"""The scheduled jobs locally: what EventBridge runs in AWS, driven by the test's clock."""

from __future__ import annotations

from datetime import timedelta

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
    assert set(schedules.tick()) == {"sweep_slas", "sweep_storms", "expire_notices"}
    clock["now"] += timedelta(minutes=30)
    assert "sweep_slas" in schedules.tick()
    back = ddb_runtime.escalations.get(item["escalation_id"])
    assert back["status"] == "open" and "lease of ana expired" in back["notes"][-1]["text"]

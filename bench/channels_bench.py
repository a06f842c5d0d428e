"""Channels benchmark (issue 12): the webhook route's time for a 1-change and a 1,000-change Meta
(Facebook Page) delivery, in process through Chalice's test client — signature check, JSON parse, the
split into one event per change with each one's normalise check, and enqueueing. The queue serialises
every event as SQS would (JSON, batches of 10) but sends nothing, so no network time is in the numbers.

    .venv/bin/python bench/channels_bench.py [--rounds N]

Prints a markdown table (median and p99 per delivery size); nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402 - needs the path above

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="ERROR", CAREWIRE_STAGE="local")
PAGE = "104857600000001"


class SerialisingQueue:
    """What SqsIntakeQueue does before the network: one JSON body per event, ten per batch."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, events: Sequence[Any]) -> None:
        for start in range(0, len(events), 10):
            batch = [json.dumps(e.to_message(), separators=(",", ":")) for e in events[start : start + 10]]
            self.sent += len(batch)


def delivery(changes: int) -> bytes:
    now = int(time.time())
    items = [
        {
            "field": "feed",
            "value": {
                "item": "comment",
                "verb": "add",
                "comment_id": f"{PAGE}_9000_{n}",
                "post_id": f"{PAGE}_9000",
                "parent_id": f"{PAGE}_9000",
                "from": {"id": str(50_000 + n), "name": f"Customer {n}"},
                "created_time": now,
                "message": f"no signal in area {n} since this morning, please fix",
            },
        }
        for n in range(changes)
    ]
    entries = [{"id": PAGE, "time": now, "changes": items[i : i + 100]} for i in range(0, changes, 100)]
    return json.dumps({"object": "page", "entry": entries}).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(rounds_small: int, rounds_large: int) -> list[dict[str, Any]]:
    from chalice.test import Client

    from app import app
    from chalicelib import runtime as runtime_module
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings

    rows = []
    with tempfile.TemporaryDirectory() as home:
        queue = SerialisingQueue()
        rt = Runtime(Settings(stage="local", home=Path(home)), queue_factory=lambda _rt: queue)
        runtime_module.use(rt)
        channel = rt.channels["fb-page"]
        secret = rt.secrets.resolve(channel)
        assert secret
        platform = rt.platforms["facebook"]
        with Client(app, stage_name="local") as client:
            for changes, rounds in ((1, rounds_small), (1000, rounds_large)):
                body = delivery(changes)
                headers = {"Content-Type": "application/json", **platform.sign(body, secret)}
                for _ in range(3):  # warm-up: imports, secret, first-call caches
                    client.http.post(channel.webhook_path, headers=headers, body=body)
                route, intake, cpu = [], [], []
                for _ in range(rounds):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.http.post(channel.webhook_path, headers=headers, body=body)
                    route.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - cpu_started) * 1000)
                    assert response.status_code == 200 and response.json_body["accepted"] == changes
                    started = time.perf_counter()
                    rt.intake.deliver(channel.id, headers, body)
                    intake.append((time.perf_counter() - started) * 1000)
                rows.append(
                    {
                        "changes": changes,
                        "bytes": len(body),
                        "runs": rounds,
                        "route_p50": statistics.median(route),
                        "route_p99": pct(route, 0.99),
                        "route_cpu_p50": statistics.median(cpu),
                        "intake_p50": statistics.median(intake),
                        "intake_p99": pct(intake, 0.99),
                    }
                )
        runtime_module.use(None)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="runs of the 1-change delivery (1,000-change: /10)")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the metrics flushed after each request
        rows = measure(args.rounds, max(10, args.rounds // 10))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it; CPU time less)")
    print("| Meta delivery | body | runs | route p50 ms | route p99 ms | route CPU p50 ms | Intake p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['changes']:,} change(s) | {r['bytes']:,} B | {r['runs']} | {r['route_p50']:.2f} | "
            f"{r['route_p99']:.2f} | {r['route_cpu_p50']:.2f} | {r['intake_p50']:.2f} | {r['intake_p99']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

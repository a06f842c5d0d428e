"""claim_next on DynamoDB Local: latency (p50/p95), throughput and DynamoDB calls per claim.

    .venv/bin/python bench/claim_bench.py [--items 400] [--agents 1,5,20] [--queue network|retention]

Starts its own in-memory DynamoDB Local, creates the tables from infra/, and for each agent count seeds
`--items` open escalations (priorities 1..5) into one queue, then lets that many threads claim until the
queue is empty. Calls are counted with a botocore `before-call` hook on the one client every thread shares.
Prints a markdown table; exits 0. Numbers are DynamoDB Local on this machine, not DynamoDB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chalicelib.escalations import new_item  # noqa: E402
from chalicelib.escalations.errors import EscalationConflict  # noqa: E402
from chalicelib.local.dynamodb_local import DynamoDBLocal  # noqa: E402
from chalicelib.model import Author, Classification, Post, Sentiment  # noqa: E402
from chalicelib.runtime import Runtime  # noqa: E402
from chalicelib.settings import TABLES, Settings  # noqa: E402
from chalicelib.store.tables import create_tables  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _runtime(home: Path) -> Runtime:
    prefix = "b" + uuid.uuid4().hex[:8]
    settings = Settings(stage="local", home=home, table_names={t: f"{prefix}-{t}" for t in TABLES})
    rt = Runtime(settings, clock=lambda: NOW)
    create_tables(rt.dynamodb, settings)
    return rt


def _seed(rt: Runtime, queue: str, count: int) -> None:
    for n in range(count):
        post = Post("x", "x-care", f"p{n}", f"p{n}", Author("1", "a", "A"), "no signal", "2026-11-23T09:00:00.000Z")
        item = new_item(
            post=post,
            classification=Classification("outage", Sentiment("negative", -0.3), False, True, "en"),
            queue=rt.policy.queues[queue],
            priority=1 + n % 5,
            sla_minutes=None,
            rule="bench",
            now=NOW,
        )
        rt.escalations.insert(item)


def run(rt: Runtime, queue: str, agents: int) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def count(event_name: str, **_: Any) -> None:
        with lock:
            calls[event_name.rsplit(".", 1)[-1]] += 1

    rt.dynamodb.meta.events.register("before-call.dynamodb", count)
    latencies: list[float] = []
    conflicts = 0
    claimed: list[str] = []
    barrier = threading.Barrier(agents)

    def agent(name: str) -> None:
        nonlocal conflicts
        barrier.wait()
        while True:
            started = time.perf_counter()
            try:
                got = rt.escalations.claim_next(queue, name, NOW)
            except EscalationConflict:
                with lock:
                    conflicts += 1
                continue
            elapsed = time.perf_counter() - started
            if got is None:
                return
            with lock:
                latencies.append(elapsed)
                claimed.append(got["escalation_id"])

    threads = [threading.Thread(target=agent, args=(f"agent-{n}",)) for n in range(agents)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    rt.dynamodb.meta.events.unregister("before-call.dynamodb", count)
    assert len(claimed) == len(set(claimed)), "an item was claimed twice"
    latencies.sort()
    n = len(latencies)
    return {
        "claims": n,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[max(0, int(0.95 * n) - 1)],
        "per_s": n / wall,
        "calls": sum(calls.values()) / n,
        "queries": calls["Query"] / n,
        "updates": calls["UpdateItem"] / n,
        "conflicts": conflicts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--agents", default="1,5,20")
    parser.add_argument("--queue", default="network")
    args = parser.parse_args()
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench"
    )  # DynamoDB Local accepts any
    with tempfile.TemporaryDirectory() as home, DynamoDBLocal() as server:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
        rows = []
        for agents in (int(a) for a in args.agents.split(",")):
            rt = _runtime(Path(home))
            _seed(rt, args.queue, args.items)
            rows.append((agents, run(rt, args.queue, agents)))
    shards = _runtime_shards(args.queue)
    print(f"claim_next on DynamoDB Local, queue {args.queue!r} ({shards} shard(s)), {args.items} items per run\n")
    print("| agents | claims | p50 ms | p95 ms | claims/s | DynamoDB calls/claim | Query | UpdateItem | 409s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for agents, r in rows:
        print(
            f"| {agents} | {r['claims']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['per_s']:.0f} | "
            f"{r['calls']:.2f} | {r['queries']:.2f} | {r['updates']:.2f} | {r['conflicts']} |"
        )


def _runtime_shards(queue: str) -> int:
    from chalicelib.policy.loader import load_policy

    return load_policy(Settings().policies_dir).queues[queue].shards


if __name__ == "__main__":
    main()

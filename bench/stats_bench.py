"""Agent stats at queue depth: counters (now) against reading every live item (before), on DynamoDB Local.

    .venv/bin/python bench/stats_bench.py [--items 10700]

Seeds N open escalations over the queues (batch writes, with their counters set to the same totals), then
times `EscalationQueue.stats` and a pass over every live item (what stats did before the counters).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="ERROR", POWERTOOLS_METRICS_DISABLED="true")
NOW = datetime.now(UTC).replace(microsecond=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_700)
    args = parser.parse_args()
    from chalicelib.escalations import counts, new_item
    from chalicelib.local.dynamodb_local import DynamoDBLocal
    from chalicelib.model import Author, Classification, Post, Sentiment
    from chalicelib.runtime import Runtime
    from chalicelib.settings import TABLES, Settings
    from chalicelib.store.dynamo import to_item
    from chalicelib.store.tables import create_tables

    with DynamoDBLocal() as ddb, tempfile.TemporaryDirectory() as home:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        prefix = "s" + uuid.uuid4().hex[:8]
        rt = Runtime(Settings(stage="local", home=Path(home), table_names={t: f"{prefix}-{t}" for t in TABLES}))
        create_tables(rt.dynamodb, rt.settings)
        q, table = rt.escalations, rt.settings.table("escalations")
        names = q.queue_names
        totals: dict[str, Counter[str]] = {n: Counter() for n in names}
        batch = []
        started = time.perf_counter()
        for n in range(args.items):
            queue = names[n % len(names)]
            post = Post("x", "x-care", f"p{n}", f"p{n}", Author(str(n)), "no signal", "2026-11-23T09:00:00.000Z")
            item = new_item(
                post=post,
                classification=Classification("outage", Sentiment("negative", -0.3), False, True, "en"),
                queue=rt.policy.queues[queue],
                priority=1 + n % 5,
                sla_minutes=None,
                rule="bench",
                now=NOW,
            )
            for q_name, counter in counts.facets(item):
                totals[q_name][counter] += 1
            batch.append({"PutRequest": {"Item": to_item(item)}})
            if len(batch) == 25:
                rt.dynamodb.batch_write_item(RequestItems={table: batch})
                batch = []
        if batch:
            rt.dynamodb.batch_write_item(RequestItems={table: batch})
        for entry in counts.transact_updates(table, totals):
            update = entry["Update"]
            rt.dynamodb.update_item(**update)
        seeded = time.perf_counter() - started

        def timed(fn: object, rounds: int) -> float:
            samples = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                fn()  # type: ignore[operator]
                samples.append(time.perf_counter() - t0)
            return statistics.median(samples) * 1000

        now_ms = timed(lambda: q.stats(NOW), 5)
        before_ms = timed(lambda: [list(q.live(q.queue(n))) for n in names], 3)
        stats = q.stats(NOW)
        live = sum(v["open"] + v["claimed"] for v in stats["queues"].values())
    print(f"{args.items:,} open escalations over {len(names)} queues (seeded in {seeded:.0f} s)\n")
    print("| measure | value |\n|---|---|")
    print(f"| stats from counters (median of 5) | {now_ms:.0f} ms |")
    print(f"| reading every live item, as stats did before (median of 3) | {before_ms:.0f} ms |")
    print(f"| live items the counters report | {live:,} |")


if __name__ == "__main__":
    main()

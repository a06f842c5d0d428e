"""What the console costs per screen, on DynamoDB Local: sign-in (scrypt), the inbox, one item, the dashboard
over a day of decisions, "try a post". Time and DynamoDB calls per request.

    .venv/bin/python bench/console_bench.py [--decisions 5000] [--open 500] [--runs 5] [--cases 30] [--versions 20]

Seeds decisions (the fields the dashboard reads) spread over the last 24 hours and open escalations spread
over the queues, then calls the console's read models as its routes do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="ERROR", POWERTOOLS_METRICS_DISABLED="true")
NOW = datetime.now(UTC).replace(microsecond=0)
TOPICS = ("outage", "billing", "device", "account", "cancellation", "praise", "other")


class Calls:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, **_: Any) -> None:
        self.n += 1


def timed(runs: int, calls: Calls, work: Callable[[], Any]) -> tuple[float, float, int]:
    """(median ms, max ms, DynamoDB calls per run)."""
    times = []
    before = calls.n
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), (calls.n - before) // runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--open", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=30, help="other cases of the opened item's customer")
    parser.add_argument("--versions", type=int, default=20, help="policy versions recorded before")
    args = parser.parse_args()
    from chalicelib.clock import iso
    from chalicelib.console import views
    from chalicelib.escalations import new_item
    from chalicelib.identity.accounts import Accounts
    from chalicelib.local.dynamodb_local import DynamoDBLocal
    from chalicelib.model import Author, Classification, Post, Sentiment
    from chalicelib.runtime import Runtime
    from chalicelib.settings import TABLES, Settings
    from chalicelib.store.dynamo import to_item
    from chalicelib.store.tables import create_tables

    with DynamoDBLocal() as ddb, tempfile.TemporaryDirectory() as home:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        prefix = "c" + uuid.uuid4().hex[:8]
        rt = Runtime(
            Settings(stage="local", home=Path(home), table_names={t: f"{prefix}-{t}" for t in TABLES}),
            clock=lambda: NOW,
        )
        create_tables(rt.dynamodb, rt.settings)
        calls = Calls()
        rt.dynamodb.meta.events.register("before-call.dynamodb", calls)

        def write(table: str, items: list[dict[str, Any]]) -> None:
            for start in range(0, len(items), 25):
                chunk = [{"PutRequest": {"Item": to_item(i)}} for i in items[start : start + 25]]
                rt.dynamodb.batch_write_item(RequestItems={table: chunk})

        decisions = []
        for n in range(args.decisions):
            topic = TOPICS[n % len(TOPICS)]
            kinds = ["reply", "escalate"] if n % 3 == 0 else ["notice"] if n % 3 == 1 else ["ignore"]
            decisions.append(
                {
                    "post_key": f"x#{n}",
                    "channel": "x-care",
                    "decided_at": iso(NOW - timedelta(seconds=n * 86_000 // max(args.decisions, 1))),
                    "action": kinds[0],
                    "actions": [{"type": k} for k in kinds],
                    "classification": {"topic": topic, "sentiment": {"label": "negative", "score": -0.5}},
                }
            )
        write(rt.settings.table("decisions"), decisions)
        names = rt.escalations.queue_names
        items = []
        for n in range(args.open):
            post = Post("x", "x-care", f"e{n}", f"e{n}", Author(str(n), f"user{n}"), "no signal again", iso(NOW))
            items.append(
                new_item(
                    post=post,
                    classification=Classification("outage", Sentiment("negative", -0.4), False, True, "en"),
                    queue=rt.policy.queues[names[n % len(names)]],
                    priority=1 + n % 5,
                    sla_minutes=None,
                    rule="bench",
                    now=NOW - timedelta(minutes=n % 50),
                )
            )
        write(rt.settings.table("escalations"), items)
        accounts = Accounts(rt.dynamodb, rt.settings.table("users"))
        _account, password = accounts.add("bench", ["agent"], NOW, "bench")
        rt.policy  # noqa: B018 - load once, as a warm Lambda has
        rt.classifier  # noqa: B018
        claimed = views.claim_next(rt, "user:bench", None)
        assert claimed is not None
        write(rt.settings.table("escalations"), _earlier_cases(rt, claimed, args.cases))

        def run(work: Callable[[], Any]) -> tuple[float, float, int]:
            return timed(args.runs, calls, work)

        rows = [
            ("sign-in (scrypt verify + read)", run(lambda: accounts.sign_in("bench", password, NOW))),
            (f"inbox ({args.open} open over {len(names)} queues)", run(lambda: views.inbox(rt, "x"))),
            (
                f"one item (detail; customer has {args.cases} other cases)",
                run(lambda: views.item_detail(rt, claimed["escalation_id"])),
            ),
            (
                f"dashboard, first load (24 h, {args.decisions} decisions)",
                timed(1, calls, lambda: views.dashboard(rt, NOW, 24)),
            ),
            ("dashboard, later loads (ended hours kept)", run(lambda: views.dashboard(rt, NOW, 24))),
            ("try a post", run(lambda: views.try_post(rt, {"text": "@bayanitelcares no signal in QC"}))),
            *_policy_rows(rt, args.versions, run),
        ]
        print(f"{'console request':<44} {'median ms':>10} {'max ms':>8} {'DynamoDB calls':>15}")
        for name, (median, worst, n_calls) in rows:
            print(f"{name:<44} {median:>10.1f} {worst:>8.1f} {n_calls:>15}")


def _earlier_cases(rt: Any, claimed: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` resolved cases of the claimed item's customer, each in its own conversation, a day apart."""
    from chalicelib.clock import iso
    from chalicelib.escalations import new_item
    from chalicelib.model import Author, Classification, Post, Sentiment

    author = Author(claimed["post"]["author"]["id"], claimed["post"]["author"]["handle"])
    cases = []
    for n in range(count):
        item = new_item(
            post=Post("x", "x-care", f"c{n}", f"c{n}", author, "again", iso(NOW)),
            classification=Classification("billing", Sentiment("negative", -0.4), False, True, "en"),
            queue=rt.policy.queues[claimed["queue"]],
            priority=3,
            sla_minutes=None,
            rule="bench",
            now=NOW - timedelta(days=1 + n),
        )
        kept = {k: v for k, v in item.items() if k not in ("queue_shard", "rank")}  # resolved: out of by_queue
        cases.append({**kept, "status": "resolved", "outcome": "answered"})
    return cases


def _policy_rows(rt: Any, count: int, run: Callable[[Callable[[], Any]], Any]) -> list[tuple[str, Any]]:
    """Record `count` policy versions one after another (each changing one template line), then time reading
    one version's diff and a cold start's record of a bundle already known (read the files, one GetItem).
    None when this checkout has no policy history (comparing with an older one)."""
    try:
        from chalicelib.policy.history import Bundle, PolicyHistory, record_in_service
    except ImportError:
        return []
    import shutil

    from chalicelib.console import views

    history = PolicyHistory(rt.dynamodb, rt.settings.table("policies"))
    digests = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "policies"
        shutil.copytree(rt.settings.policies_dir, copy)
        templates = copy / "templates" / "en.yaml"
        original = templates.read_text(encoding="utf-8")
        for n in range(count):
            templates.write_text(original + f"# revision {n}\n", encoding="utf-8")
            recorded = history.record(Bundle.read(copy), "bench", NOW + timedelta(minutes=n))
            if recorded is not None:
                digests.append(recorded.digest)
    record_in_service(rt, "bench")  # the bundle in service, so the timed ones find it known
    return [
        ("one policy version's diff", run(lambda: views.policy_version(rt, digests[-1]))),
        ("cold start: record a known policy bundle", run(lambda: record_in_service(rt, "bench"))),
    ]


if __name__ == "__main__":
    main()

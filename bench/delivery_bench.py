"""Delivery benchmark: replies through the platform sandbox under faults, then a sender killed mid-batch.

    .venv/bin/python bench/delivery_bench.py [--items 1000] [--conversations 50] [--rate 200]

Phase 1: `--items` replies across `--conversations` conversations are decided (written to the outbox) at
`--rate` per second while the local delivery loop (the same sender the stream and schedule call in AWS)
sends them to the sandbox, which fails 10% of requests with 429 (X's integer-second reset), 5% with 500 and
2% with a slow answer (recorded, answered after the client's 0.5 s timeout). Counted on the sandbox's own
record: delivered exactly once, twice, missing, order per conversation; decision → delivered p50/p95;
DynamoDB calls per delivered item (the sender's only). Phase 2: a sender process is killed (SIGKILL)
mid-batch and a new one started: nothing twice, nothing left in `sending`, how long the dead claims took.
Numbers are printed as a markdown table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402 - needs the path above

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="CRITICAL", CAREWIRE_STAGE="local")

TOKEN = "bench-token"
BRAND = "1000000000000000001"
FAULTS = {"429": 0.10, "500": 0.05, "slow": 0.02, "slow_seconds": 1.0, "reset_seconds": 1.0}
LEASE = timedelta(seconds=3)


class Counting:
    """A boto3 client that counts the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr) or name in ("exceptions", "get_paginator", "meta"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def settings_for(prefix: str) -> Any:
    from chalicelib.settings import TABLES, Settings

    return Settings(stage="local", home=Path("/tmp") / prefix, table_names={t: f"{prefix}-{t}" for t in TABLES})


def make_sender(runtime: Any, sandbox_url: str) -> Any:
    from chalicelib.clock import utcnow
    from chalicelib.delivery.sender import Budget, SenderConfig
    from chalicelib.delivery.tokens import Tokens
    from chalicelib.delivery.wiring import build_sender, clients
    from chalicelib.escalations.sweep import LogAlerts

    config = SenderConfig(
        lease=LEASE,
        max_attempts=10,
        backoff_base=0.1,
        backoff_cap=2.0,
        reconcile_after=0.5,
        budgets={"x": Budget(1_000_000, 900)},
    )
    return build_sender(
        runtime,
        clients({"x": sandbox_url, "graph": sandbox_url + "/v21.0"}, timeout=0.5),
        Tokens(runtime.channels, None, fixed={"x-care": TOKEN}),
        config,
        clock=utcnow,
        alerts=LogAlerts(),
    )


def items(n: int, conversations: int, seed: int) -> list[dict[str, Any]]:
    from chalicelib.outbox import outbox_item

    rng = random.Random(seed)
    docs = []
    for i in range(n):
        conversation = f"conv{rng.randrange(conversations)}"
        docs.append(
            outbox_item(
                kind="reply",
                key=(f"x#{seed}{i:06d}",),
                channel="x-care",
                platform="x",
                created_at="",  # set when decided
                text=f"Reply {i} to {conversation}: we are on it.",
                in_reply_to_post_id=f"{seed}{i:06d}",
                conversation_id=conversation,
            )
        )
    return docs


def decide(outbox: Any, docs: list[dict[str, Any]], rate: float) -> None:
    """Write the items as the processor would, at `rate` per second, stamped with the decision time."""
    from chalicelib.clock import iso, utcnow

    started = time.monotonic()
    for n, doc in enumerate(docs):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        now = iso(utcnow())
        outbox.put({**doc, "created_at": now, "updated_at": now})


def wait_settled(outbox: Any, total: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        final = sum(len(outbox.by_status(s, total)) for s in ("sent", "failed", "cancelled"))
        if final >= total:
            break
        time.sleep(0.25)
    return time.monotonic() - started


def audit(sandbox: Any, outbox: Any, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counted on the sandbox's record: once, twice, missing; order per conversation."""
    from chalicelib.clock import parse

    tweets = sandbox.received(kind="tweet")
    counts = Counter(t["in_reply_to"] for t in tweets)
    wanted = [d["in_reply_to_post_id"] for d in docs]
    by_conversation: dict[str, list[str]] = defaultdict(list)
    for doc in docs:
        by_conversation[doc["conversation_id"]].append(doc["in_reply_to_post_id"])
    delivered_order = [t["in_reply_to"] for t in tweets]
    out_of_order = 0
    for expected in by_conversation.values():
        members = set(expected)
        seen = list(dict.fromkeys(r for r in delivered_order if r in members))
        out_of_order += seen != [r for r in expected if r in counts]
    stored = [outbox.get(d["reply_id"]) for d in docs]
    latencies = [
        (parse(i.sent_at) - parse(i.created_at)).total_seconds() for i in stored if i is not None and i.sent_at
    ]
    return {
        "once": sum(1 for r in wanted if counts[r] == 1),
        "twice_or_more": sum(1 for r in wanted if counts[r] > 1),
        "missing": sum(1 for r in wanted if counts[r] == 0),
        "conversations_out_of_order": out_of_order,
        "states": Counter(i.status if i else "absent" for i in stored),
        "p50": pct(latencies, 0.50),
        "p95": pct(latencies, 0.95),
    }


def phase_faults(endpoint: str, n: int, conversations: int, rate: float, faults: dict[str, float]) -> dict[str, Any]:
    from chalicelib.local.delivery import OutboxLoop
    from chalicelib.local.sandbox import Sandbox
    from chalicelib.runtime import Runtime
    from chalicelib.store.outbox import OutboxStore
    from chalicelib.store.tables import create_tables

    settings = settings_for("bench" + uuid.uuid4().hex[:8])
    runtime = Runtime(settings)
    create_tables(runtime.dynamodb, settings)
    producer = OutboxStore(runtime.dynamodb, settings.table("outbox"))
    counting = Counting(runtime.dynamodb)
    runtime.__dict__["dynamodb"] = counting
    docs = items(n, conversations, seed=1)
    with Sandbox({TOKEN: BRAND}, seed=11) as sandbox:
        sandbox.set_faults(faults)
        loop = OutboxLoop(make_sender(runtime, sandbox.url), interval=0.05, workers=8).start()
        started = time.monotonic()
        decide(producer, docs, rate)
        wait_settled(producer, n, timeout=600)
        elapsed = time.monotonic() - started
        loop.stop()
        result = audit(sandbox, producer, docs)
        result.update(
            elapsed=elapsed,
            requests=sandbox.requests,
            injected=dict(sandbox.injected),
            ddb_calls=sum(counting.calls.values()),
            ddb_by_call=dict(counting.calls),
        )
    return result


def phase_kill(endpoint: str, n: int, conversations: int) -> dict[str, Any]:
    from chalicelib.clock import parse, utcnow
    from chalicelib.local.sandbox import Sandbox
    from chalicelib.runtime import Runtime
    from chalicelib.store.outbox import OutboxStore
    from chalicelib.store.tables import create_tables

    prefix = "kill" + uuid.uuid4().hex[:8]
    settings = settings_for(prefix)
    runtime = Runtime(settings)
    create_tables(runtime.dynamodb, settings)
    outbox = OutboxStore(runtime.dynamodb, settings.table("outbox"))
    docs = items(n, conversations, seed=2)
    decide(outbox, docs, rate=100_000)
    with Sandbox({TOKEN: BRAND}, seed=12) as sandbox:
        sandbox.set_faults(FAULTS)
        worker = _worker(endpoint, prefix, sandbox.url)
        while len(sandbox.messages) < n * 0.4 and worker.poll() is None:
            time.sleep(0.01)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = time.monotonic()
        claims = outbox.by_status("sending", n)
        stuck = [i.reply_id for i in claims]
        now = utcnow()
        lease_left = max(((parse(i.lease_until or "") - now).total_seconds() for i in claims), default=0.0)
        sent_before = len(sandbox.messages)
        restarted = _worker(endpoint, prefix, sandbox.url)
        recovered = None
        while time.monotonic() - killed_at < 600:
            if recovered is None and all((outbox.get(r) or _Gone).status != "sending" for r in stuck):
                recovered = time.monotonic() - killed_at
            final = sum(len(outbox.by_status(s, n)) for s in ("sent", "failed", "cancelled"))
            if final >= n and recovered is not None:
                break
            time.sleep(0.2)
        os.kill(restarted.pid, signal.SIGTERM)
        restarted.wait()
        result = audit(sandbox, outbox, docs)
        result.update(
            stuck_at_kill=len(stuck),
            lease_left=lease_left,
            sent_before_kill=sent_before,
            recovered_s=recovered,
            left_in_sending=len(outbox.by_status("sending", n)),
        )
    return result


class _Gone:
    status = "absent"


def _worker(endpoint: str, prefix: str, sandbox_url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB=endpoint)
    return subprocess.Popen([sys.executable, __file__, "--worker", prefix, "--sandbox", sandbox_url], env=env, cwd=ROOT)


def worker(prefix: str, sandbox_url: str) -> None:
    """A sender process: the local delivery loop until SIGTERM (or SIGKILL, mid-send)."""
    from chalicelib.local.delivery import OutboxLoop
    from chalicelib.runtime import Runtime

    runtime = Runtime(settings_for(prefix))
    loop = OutboxLoop(make_sender(runtime, sandbox_url), interval=0.05, workers=8).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    loop.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="decisions per second")
    parser.add_argument("--kill-items", type=int, default=500)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sandbox)
        return
    from chalicelib.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as server:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
        baseline = phase_faults(server.endpoint, args.items, args.conversations, args.rate, {})
        faults = phase_faults(server.endpoint, args.items, args.conversations, args.rate, FAULTS)
        kill = phase_kill(server.endpoint, args.kill_items, args.conversations)
    print(f"\n## Delivery through the sandbox ({args.items} replies, {args.conversations} conversations)\n")
    print(f"Decided at {args.rate:.0f}/s; sender: the local loop, 8 lanes at a time; client timeout 0.5 s.\n")
    print("| measure | no faults | 10% 429, 5% 500, 2% timeout |\n|---|---|---|")
    both: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("delivered exactly once (sandbox record)", lambda r: f"{r['once']} / {args.items}"),
        ("delivered twice or more", lambda r: r["twice_or_more"]),
        ("missing", lambda r: r["missing"]),
        ("conversations out of order", lambda r: f"{r['conversations_out_of_order']} / {args.conversations}"),
        ("decision → delivered p50 / p95", lambda r: f"{r['p50']:.2f} s / {r['p95']:.2f} s"),
        ("all settled after", lambda r: f"{r['elapsed']:.1f} s"),
        (
            "DynamoDB calls per delivered item (sender)",
            lambda r: f"{r['ddb_calls'] / max(r['states'].get('sent', 0), 1):.2f}",
        ),
    ]
    for name, show in both:
        print(f"| {name} | {show(baseline)} | {show(faults)} |")
    print("\n| under faults | value |\n|---|---|")
    rows = [
        (
            "faults served (429 / 500 / slow)",
            " / ".join(str(faults["injected"].get(k, 0)) for k in ("429", "500", "slow")),
        ),
        ("platform requests (sends + lookups)", faults["requests"]),
        ("final states", dict(faults["states"])),
        ("  by call", ", ".join(f"{k} {v}" for k, v in sorted(faults["ddb_by_call"].items()))),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(
        f"\n## Sender killed mid-batch ({args.kill_items} replies, same faults, lease {LEASE.total_seconds():.0f} s)\n"
    )
    print("| measure | value |\n|---|---|")
    rows = [
        ("sent before the kill", kill["sent_before_kill"]),
        ("claims left in `sending` by the dead sender", kill["stuck_at_kill"]),
        ("longest lease they still held at the kill", f"{kill['lease_left']:.1f} s"),
        (
            "those settled after (s since kill)",
            f"{kill['recovered_s']:.1f}" if kill["recovered_s"] is not None else "never",
        ),
        ("delivered exactly once", f"{kill['once']} / {args.kill_items}"),
        ("delivered twice or more", kill["twice_or_more"]),
        ("missing", kill["missing"]),
        ("conversations out of order", kill["conversations_out_of_order"]),
        ("left in `sending` at the end", kill["left_in_sending"]),
        ("final states", dict(kill["states"])),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()

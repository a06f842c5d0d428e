"""Storm replay, end to end on DynamoDB Local, on a simulated clock: one command.

    .venv/bin/python bench/storm_replay.py [--scale 1.0]

Two runs on fresh tables, every post through the real processor (normalise, dedupe, classify, storms,
decide, act) with the storm sweep every simulated minute:
  storm     20,000 ordinary posts over an hour, with 5,000 outage posts from one region (Quezon City) over
            ten minutes from minute 30, rising over the first two;
  ordinary  the same 20,000 ordinary posts alone (false incidents: target 0).
Prints detection delay, incidents, escalations created, public replies during the storm, and DynamoDB calls
per post. The posts are synthetic (written here from a few dozen phrasings), not a dataset.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402

os.environ.update(
    LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="CRITICAL", POWERTOOLS_METRICS_DISABLED="true", CAREWIRE_STAGE="local"
)

START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
"""Simulated time ends before the real now: DynamoDB Local's TTL deletes rate buckets that expired in real time."""
STORM_AT = timedelta(minutes=30)
BRAND = "@bayanitelcares"

ORDINARY = [
    "why is my bill so high this month? I was charged twice",
    "thank you for fixing my line so fast, great service",
    "how do I change my plan to the unli data one?",
    "my phone screen is cracked, where is the nearest repair center",
    "I've been on hold for an hour, nobody answers",
    "can I pay my bill with gcash?",
    "what time does the SM north store open?",
    "the new promo is great, love it",
    "my sim is not activated yet, it's been 2 days",
    "I was charged for roaming but I never left the country",
    "the technician never showed up for my appointment",
    "how do I reset my wifi password",
    "salamat po sa mabilis na tulong",
    "magkano po ang postpaid plan 1299?",
    "is there a promo for students?",
    "my router keeps blinking red, do I need a new one",
    "refund for the double charge please, it's been two weeks",
    "your agent was very rude to me on the phone",
    "the signal in Cebu dropped for a bit this morning",
    "no internet in Davao since last night",
]
STORM = [
    "no signal in {place} since {hour}, what is going on?",
    "NO INTERNET here in {place}!! fix this please",
    "is there an outage in {place}? no data at all",
    "walang signal dito sa {place} since {hour}",
    "internet down again in {place}, I work from home",
    "no service at all in {place} for an hour now",
    "my fiber is down, {place} area. anyone else?",
    "calls keep dropping and no data in {place}",
]
PLACES = ["Quezon City", "QC", "Cubao", "Diliman", "Fairview", "Novaliches", "quezon city"]


class SimClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _tweet(n: int, text: str, at: datetime) -> dict[str, Any]:
    at_ms = int(at.timestamp() * 1000)
    mention = {"screen_name": "bayanitelcares", "id_str": "1000000000000000001", "indices": [0, len(BRAND)]}
    return {
        "id_str": str(9_000_000_000 + n),
        "text": f"{BRAND} {text}",
        "timestamp_ms": str(at_ms),
        "user": {"id_str": str(5_000_000 + n), "screen_name": f"cust{n}", "name": "Customer"},
        "entities": {"user_mentions": [mention]},
    }


def streams(scale: float, seed: int = 7) -> tuple[list[tuple[datetime, str]], list[tuple[datetime, str]]]:
    """(ordinary posts, storm posts), each (time, text), over the simulated hour."""
    rng = random.Random(seed)
    ordinary = [
        (START + timedelta(seconds=rng.uniform(0, 3600)), rng.choice(ORDINARY)) for _ in range(int(20_000 * scale))
    ]
    storm = []
    for _ in range(int(5_000 * scale)):
        offset = rng.triangular(0, 600, 240)  # rises over the first minutes, tails off by minute 10
        text = rng.choice(STORM).format(place=rng.choice(PLACES), hour=rng.choice(["6am", "7am", "this morning"]))
        storm.append((START + STORM_AT + timedelta(seconds=offset), text))
    return sorted(ordinary), sorted(storm)


def run(posts: list[tuple[datetime, str]], storm_window: tuple[datetime, datetime] | None) -> dict[str, Any]:
    from chalicelib.model import Event
    from chalicelib.runtime import Runtime
    from chalicelib.settings import TABLES, Settings
    from chalicelib.store.dynamo import from_item
    from chalicelib.store.tables import create_tables

    clock = SimClock()
    with tempfile.TemporaryDirectory() as home:
        prefix = "storm" + os.urandom(4).hex()
        settings = Settings(stage="local", home=Path(home), table_names={t: f"{prefix}-{t}" for t in TABLES})
        runtime = Runtime(settings, clock=clock)
        create_tables(runtime.dynamodb, runtime.settings)
        runtime.escalation_alerts.notify = lambda subject, message: None  # type: ignore[method-assign]
        calls: Counter[str] = Counter()
        runtime.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
        processor = runtime.processor
        channel = runtime.channels["x-care"].id
        next_sweep = START + timedelta(minutes=1)
        statuses: Counter[str] = Counter()
        started = time.perf_counter()
        for n, (at, text) in enumerate(posts):
            while at >= next_sweep:
                clock.now = next_sweep
                runtime.storms.sweep(next_sweep)
                next_sweep += timedelta(minutes=1)
            clock.now = at
            payload = {"for_user_id": "1000000000000000001", "event": _tweet(n, text, at), "users": {}}
            event = Event(channel, "x", "tweet", payload, at.isoformat())
            statuses[processor.process(event).status] += 1
        wall = time.perf_counter() - started

        def scan(logical: str) -> list[dict[str, Any]]:
            pages = runtime.dynamodb.get_paginator("scan").paginate(TableName=runtime.settings.table(logical))
            return [from_item(i) for page in pages for i in page.get("Items", [])]

        scanned_calls = sum(calls.values())
        escalations = [e for e in scan("escalations") if "post" in e]  # not the queues' counters
        outbox = scan("outbox")
        incidents = runtime.storms.incidents(200)
    public = [o for o in outbox if not o.get("private") and o.get("visibility", "public") == "public"]
    during = public
    if storm_window:
        lo, hi = (t.isoformat().replace("+00:00", "") for t in storm_window)
        during = [o for o in public if lo <= str(o.get("created_at", ""))[:19] <= hi]
    return {
        "posts": len(posts),
        "statuses": dict(statuses),
        "incidents": incidents,
        "escalations": len(escalations),
        "incident_escalations": sum(1 for e in escalations if e.get("incident_id")),
        "network_escalations": sum(1 for e in escalations if e.get("queue") == "network"),
        "public_replies": len(public),
        "public_replies_in_storm": len(during),
        "calls_per_post": scanned_calls / max(1, len(posts)),
        "posts_per_s": len(posts) / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 20,000 + 5,000 posts")
    args = parser.parse_args()
    from chalicelib.local.dynamodb_local import DynamoDBLocal

    ordinary, storm = streams(args.scale)
    window = (START + STORM_AT, START + STORM_AT + timedelta(minutes=10))
    with DynamoDBLocal() as ddb:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF metric lines stay out
            stormy = run(sorted(ordinary + storm), window)
            quiet = run(ordinary, None)
    opened = sorted(stormy["incidents"], key=lambda i: i["opened_at"])
    first = opened[0] if opened else None
    delay = "none detected"
    if first:
        rise = storm[0][0]
        opened_at = datetime.fromisoformat(first["opened_at"].replace("Z", "+00:00"))
        where = first.get("region") or "brand-wide"
        delay = f"{(opened_at - rise).total_seconds():.0f} s after the first storm post ({where})"
    storm_share = len(storm) / (len(storm) + len(ordinary))
    print(f"Storm replay: {len(ordinary):,} ordinary posts over 60 min + {len(storm):,} outage posts from one region")
    print(f"over 10 min (simulated clock), end to end on DynamoDB Local ({storm_share:.0%} storm)\n")
    print("| measure | storm run | ordinary stream alone |")
    print("|---|---|---|")
    print(f"| detection delay | {delay} | — |")
    print(f"| incidents opened | {len(stormy['incidents'])} | {len(quiet['incidents'])} (false incidents) |")
    esc = f"{stormy['escalations']:,} ({stormy['incident_escalations']} incident"
    esc += f", {stormy['network_escalations']:,} network)"
    print(f"| escalations created | {esc} | {quiet['escalations']:,} |")
    attached = sum(int(i.get("posts", 0)) for i in stormy["incidents"])
    print(f"| storm posts attached to the incident | {attached:,} of {len(storm):,} | — |")
    print(f"| public replies queued (all / during the storm window) | {stormy['public_replies']:,} / "
          f"{stormy['public_replies_in_storm']:,} | {quiet['public_replies']:,} |")  # fmt: skip
    print(f"| DynamoDB calls per post | {stormy['calls_per_post']:.2f} | {quiet['calls_per_post']:.2f} |")
    print(
        f"| posts per second (one process, DynamoDB Local) | {stormy['posts_per_s']:.0f} | {quiet['posts_per_s']:.0f} |"
    )
    print(f"\noutcomes: storm run {stormy['statuses']}; ordinary {quiet['statuses']}")
    for incident in opened:
        fields = ("incident_id", "region", "opened_at", "window_count", "baseline_per_minute", "posts")
        print("incident:", json.dumps({k: incident.get(k) for k in fields}))


if __name__ == "__main__":
    main()

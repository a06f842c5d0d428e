"""Policy benchmark: load time per cold start and evaluation (plan) time per post.

    .venv/bin/python bench/policy_bench.py [--posts N]

Load is timed in fresh processes (imports included, as a Lambda cold start pays them), with and without
the digest `carewire package` writes. Evaluation runs the engine — scope, when/unless, guardrails — over
real customer-care tweets classified beforehand, so only the policy is timed. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATASETS = Path(os.environ.get("CAREWIRE_DATASETS", ROOT.parent / "shared" / "datasets"))
LOAD = (
    "import time; t=time.perf_counter(); from pathlib import Path; from chalicelib.policy.loader import load_policy; "
    "load_policy(Path({path!r})); print((time.perf_counter()-t)*1000)"
)


def load_ms(directory: Path, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, "-c", LOAD.format(path=str(directory))],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(done.stdout.strip()))
    return statistics.median(samples)


def tweets(limit: int) -> list[str]:
    path = DATASETS / "twitter_us_airline_sentiment" / "Airline-Sentiment-2-w-AA.csv"
    with path.open(encoding="cp1252", errors="replace") as handle:
        return [row["text"] for row in csv.DictReader(handle)][:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from chalicelib.channels.config import load_channels
    from chalicelib.classify import Classifier
    from chalicelib.policy.context import context_document
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import VALIDATED_MARK, load_policy, policy_digest
    from chalicelib.policy.offline import post_from_doc

    policies = ROOT / "policies"
    with tempfile.TemporaryDirectory() as tmp:
        trusted = Path(tmp) / "policies"
        shutil.copytree(policies, trusted)
        (trusted / VALIDATED_MARK).write_text(policy_digest(trusted), encoding="utf-8")
        full, skipped = load_ms(policies, args.rounds), load_ms(trusted, args.rounds)

    policy = load_policy(policies)
    classifier = Classifier.from_policies(policies)
    channels = load_channels(policies / "channels.yaml")
    cases = []
    for n, text in enumerate(tweets(args.posts)):
        post, channel = post_from_doc({"id": str(n), "text": text.replace("@", "@bayanitelcares ", 1)}, channels)
        classification = classifier.classify(post)
        cases.append(
            (post, classification, context_document(post, classification, channel, "2026-11-23T03:00:00.000Z"))
        )
    fired: dict[str, int] = {}
    started = time.perf_counter()
    for post, classification, context in cases:
        planned = plan(policy, context, post, classification)
        fired[planned.rule or "(none)"] = fired.get(planned.rule or "(none)", 0) + 1
    per_post = (time.perf_counter() - started) / len(cases) * 1e6

    print("| measure | value |\n|---|---|")
    print(f"| policy load, fresh process, all passes (median of {args.rounds}) | {full:.0f} ms |")
    print(f"| policy load, fresh process, digest from `carewire package` (schema pass skipped) | {skipped:.0f} ms |")
    print(
        f"| evaluation (plan: scope, when/unless, guardrails) over {len(cases):,} airline care tweets "
        f"| {per_post:.0f} µs/post ({1e6 / per_post:,.0f} posts/s) |"
    )
    print(f"| rules that decided | {', '.join(f'{k} {v}' for k, v in sorted(fired.items(), key=lambda kv: -kv[1]))} |")


if __name__ == "__main__":
    main()

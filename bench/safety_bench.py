"""Safety benchmark (issue 9, findings 4, 6, 7): the adversarial regex rule, log masking, public-text checks.

    .venv/bin/python bench/safety_bench.py [--posts N]

- the slowest post through `regex_match(post.text, '(a+)+$')` in the engine (plan), by post length, with the
  outcome recorded for the rule; stdlib `re` on short posts for reference (it doubles with each character);
- the `regex` package's import cost (paid once, on the first policy load);
- log lines: cost of masking every field, and raw personal data found in N fuzzed error lines;
- public text: disguised personal data that the raw `find_pii` guard misses and `publishing.problems` refuses,
  and the cost of one check.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import io
import logging
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DISGUISES = (
    "0917 123 4567",  # plain: the control
    "0917\u200b123\u200b4567",
    "0917\u2060123\u20604567",
    "\uff10\uff19\uff11\uff17\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
    "0917\ufeff-123-\ufeff4567",
    "0917 - 123 - 4567",
    "0 9 1 7 1 2 3 4 5 6 7",
)


def regex_rows() -> list[str]:
    import shutil
    import tempfile

    from chalicelib.model import Author, Classification, Post, Sentiment
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import load_policy

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        policies = Path(tmp) / "policies"
        shutil.copytree(ROOT / "policies", policies)
        (policies / "rules" / "00-redos.yaml").write_text(
            "rules:\n  - name: redos\n    order: -1\n    when: \"regex_match(post.text, '(a+)+$')\"\n"
            "    actions: [{type: escalate, queue: care, priority: 1}]\n",
            encoding="utf-8",
        )
        policy = load_policy(policies)
    classification = Classification("other", Sentiment("neutral", 0.0), False, True, "en")
    for length in (28, 31, 280, 1000, 10_000, 25_000):
        text = "a" * length + "!"
        post = Post("x", "x-care", "1", "1", Author("2"), text, "2026-11-23T00:00:00.000Z")
        context = {"post": {"text": text}, "classification": {}, "now": "2026-11-23T00:00:00.000Z"}
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            verdict = plan(policy, context, post, classification)
            samples.append((time.perf_counter() - started) * 1000)
        outcome = next(e for e in verdict.evaluated if e.startswith("redos"))
        rows.append(f"| regex package, 20 ms limit | {length + 1} | {max(samples):.1f} | `{outcome}` |")
    for length in (18, 20, 22):
        text = "a" * length + "!"
        started = time.perf_counter()
        re.search("(a+)+$", text, re.IGNORECASE)
        rows.append(f"| stdlib re (before) | {length + 1} | {(time.perf_counter() - started) * 1000:.1f} | - |")
    return rows


def import_ms() -> float:
    code = "import time; t=time.perf_counter(); import regex; print((time.perf_counter()-t)*1000)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(5)
    ]
    return sorted(samples)[2]


def log_rows(posts: int) -> list[str]:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from chalicelib.observability import MaskingFormatter

    rng = random.Random(7)
    records, secrets = [], []
    for i in range(posts):
        phone = rng.choice(DISGUISES[:5]).replace("123", f"{rng.randrange(100, 999)}")
        email = f"user{i}@example.ph"
        text = f"@bayanitelcares no signal, call {phone} or mail {email}"
        error = f"broken: JMESPathTypeError: In function abs(), invalid type for value: {text}"
        record = logging.LogRecord("carewire", logging.ERROR, __file__, 1, "rule failed on a post", None, None)
        record.rule_error = error
        record.post = {"text": text, "author": {"handle": f"u{i}"}}
        records.append(record)
        secrets.append((phone, email))
    decided = logging.LogRecord("carewire", logging.INFO, __file__, 1, "decided", None, None)
    decided.action, decided.rule = "reply", "outage-acknowledge"
    rows = []
    formatters = (("message only (before)", LambdaPowertoolsFormatter()), ("every field", MaskingFormatter()))
    for name, formatter in formatters:
        formatter.append_keys(channel="x-care", platform="x", post_id="1861234567890123456")
        started = time.perf_counter()
        lines = [formatter.format(r) for r in records]
        per_line = (time.perf_counter() - started) / posts * 1e6
        leaks = sum(1 for line, (phone, email) in zip(lines, secrets, strict=True) if phone in line or email in line)
        started = time.perf_counter()
        for _ in range(posts):
            formatter.format(decided)
        ordinary = (time.perf_counter() - started) / posts * 1e6
        rows.append(f"| {name} | {posts} | {per_line:.1f} | {ordinary:.1f} | {leaks} |")
    return rows


def content_rows() -> list[str]:
    from chalicelib.pii import find_pii
    from chalicelib.policy.loader import load_policy
    from chalicelib.publishing import problems

    rules = load_policy(ROOT / "policies").content_rules["bayanitel"]
    texts = [f"Hi Maria, call me back on {d}" for d in DISGUISES]
    before = sum(1 for t in texts if find_pii(t))
    after = sum(1 for t in texts if problems(t, rules))
    sample = "Sorry for the trouble! Crews are on it; updates at https://bayanitel.example/status @maria_qc"
    started = time.perf_counter()
    for _ in range(2000):
        problems(sample, rules)
    per = (time.perf_counter() - started) / 2000 * 1e6
    return [
        f"| disguised phone numbers refused (of {len(texts)}) | {before} | {after} |",
        f"| one check of a 90-character reply, µs | - | {per:.1f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    args = parser.parse_args()
    out = io.StringIO()
    print("| regex rule `(a+)+$` | post chars | slowest plan, ms (of 5) | rule outcome |", file=out)
    print("|---|---|---|---|", file=out)
    for row in regex_rows():
        print(row, file=out)
    print(
        f"\n`import regex`: {import_ms():.1f} ms (median of 5 fresh processes; paid on the first policy load)\n",
        file=out,
    )
    print("| log formatter | error lines | µs per error line | µs per `decided` line | lines with raw PII |", file=out)
    print("|---|---|---|---|---|", file=out)
    for row in log_rows(args.posts):
        print(row, file=out)
    print("\n| public text | raw find_pii (before) | publishing.problems |", file=out)
    print("|---|---|---|", file=out)
    for row in content_rows():
        print(row, file=out)
    sys.stdout.write(out.getvalue())


if __name__ == "__main__":
    main()

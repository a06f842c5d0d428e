"""Instructions per decide (classify + context + rules), counted by callgrind: steady for comparing code on a shared
machine, where posts/s move by several percent between runs minutes apart.

    .venv/bin/python bench/decide_instructions.py [--posts 1500]     # ~2 min; needs valgrind

Runs the decide loop over the first N US airline care tweets under `valgrind --tool=callgrind` twice, once with
one pass and once with three; the difference is two warm passes (imports, loading and first sights of each token
cancel out), divided by 2 N.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def decide_passes(posts: int, passes: int) -> None:
    """The workload: load everything, then decide the first `posts` tweets `passes` times."""
    from classify_bench import airline, datasets_dir

    from chalicelib.channels.config import load_channels
    from chalicelib.classify import Classifier
    from chalicelib.policy.context import context_document
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import load_policy
    from chalicelib.policy.offline import DEFAULT_NOW, post_from_doc

    texts, _ = airline(datasets_dir())
    policy = load_policy(REPO / "policies")
    channels = load_channels(REPO / "policies" / "channels.yaml")
    docs = [{"id": str(i), "text": t, "addressed_to_brand": True} for i, t in enumerate(texts[:posts])]
    items = [post_from_doc(doc, channels) for doc in docs]
    clf = Classifier.from_policies(REPO / "policies")
    for _ in range(passes):
        for post, channel in items:
            c = clf.classify(post)
            plan(policy, context_document(post, c, channel, DEFAULT_NOW), post, c)


def collected(posts: int, passes: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/out",
                sys.executable,
                __file__,
                "--posts",
                str(posts),
                "--workload",
                str(passes),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=1500)
    parser.add_argument("--workload", type=int, help=argparse.SUPPRESS)  # one run under valgrind
    args = parser.parse_args()
    if args.workload is not None:
        decide_passes(args.posts, args.workload)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed", file=sys.stderr)
        return 2
    one, three = collected(args.posts, 1), collected(args.posts, 3)
    print("| measure | value |\n|---|---|")
    print(f"| instructions, 1 pass / 3 passes of {args.posts} posts | {one:,} / {three:,} |")
    print(f"| instructions per decide (two warm passes) | {(three - one) / (2 * args.posts):,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

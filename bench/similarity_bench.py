"""Near-duplicate detection: Carewire's signature beside datasketch MinHash and rapidfuzz, in one run.

    .venv/bin/python bench/similarity_bench.py     # make bench installs datasketch and rapidfuzz (bench only)

Data: ../shared/datasets/twitter_url_corpus/pairs_dev.tsv (or $CAREWIRE_DATASETS): pairs judged by six
annotators; >= 4 "paraphrase" is a near-duplicate, <= 2 is not, 3 is left out (as the corpus' authors do).
Prints average precision and the best F1 over thresholds per method, and the signature time per post.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chalicelib.incidents.signature import features, signature, similarity  # noqa: E402

_VOTES = re.compile(r"\((\d),6\)")


def load_pairs(path: Path) -> list[tuple[str, str, int]]:
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        votes = _VOTES.match(parts[2].strip())
        if not votes or int(votes.group(1)) == 3:
            continue
        rows.append((parts[0], parts[1], 1 if int(votes.group(1)) >= 4 else 0))
    return rows


def ap_and_best_f1(scored: Sequence[tuple[float, int]]) -> tuple[float, float, float]:
    """Average precision, the best F1 over thresholds, and that threshold."""
    ranked = sorted(scored, key=lambda s: -s[0])
    positives = sum(y for _, y in ranked)
    tp = 0
    ap = best = cut = 0.0
    for i, (score, y) in enumerate(ranked, start=1):
        if y:
            tp += 1
            ap += tp / i
        precision, recall = tp / i, tp / positives
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        if f1 > best:
            best, cut = f1, score
    return ap / positives, best, cut


def main() -> None:
    root = Path(os.environ.get("CAREWIRE_DATASETS") or REPO.parent / "shared" / "datasets")
    pairs = load_pairs(root / "twitter_url_corpus" / "pairs_dev.tsv")
    methods: dict[str, Callable[[str, str], float]] = {
        "carewire signature (bottom-64, content words)": lambda a, b: similarity(signature(a), signature(b)),
        "exact Jaccard, content words": lambda a, b: _jaccard(features(a), features(b)),
    }
    try:
        from datasketch import MinHash
        from rapidfuzz import fuzz

        def minhash(text: str) -> MinHash:
            sketch = MinHash(num_perm=128)
            for word in set(text.lower().split()):
                sketch.update(word.encode("utf-8"))
            return sketch

        methods["datasketch MinHash (128 perms, words)"] = lambda a, b: float(minhash(a).jaccard(minhash(b)))
        methods["rapidfuzz ratio"] = lambda a, b: fuzz.ratio(a, b) / 100
        methods["rapidfuzz token_set_ratio"] = lambda a, b: fuzz.token_set_ratio(a, b) / 100
    except ImportError:
        print("(datasketch/rapidfuzz not installed: `make bench` installs them)\n")
    positives = sum(y for _, _, y in pairs)
    print(f"Twitter URL corpus, dev pairs: {len(pairs)} ({positives} near-duplicates)\n")
    print("| method | average precision | best F1 | at threshold |")
    print("|---|---|---|---|")
    for name, method in methods.items():
        ap, f1, cut = ap_and_best_f1([(method(a, b), y) for a, b, y in pairs])
        print(f"| {name} | {ap:.3f} | {f1:.3f} | {cut:.2f} |")
    texts = [t for a, b, _ in pairs for t in (a, b)]
    for _ in range(2):  # warm
        start = time.perf_counter()
        for text in texts:
            signature(text)
        took = time.perf_counter() - start
    print(f"\nsignature time per post: {took / len(texts) * 1e6:.1f} us ({len(texts)} posts)")


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


if __name__ == "__main__":
    main()

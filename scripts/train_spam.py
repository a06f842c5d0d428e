"""Train the small spam model shipped as policies/lexicon/spam_weights.json (pure Python, deterministic).

Logistic regression on binary word/bigram/shape features (`chalicelib.classify.spam.spam_features`),
plain SGD with L2, fixed order, no randomness. Usage: .venv/bin/python scripts/train_spam.py

Training data (licences in each SOURCE.txt under $CAREWIRE_DATASETS or ../shared/datasets):
  - SMS Spam Collection v.1 rows with crc32(text) % 10 >= 3 (authors: "free for all purposes"; UCI: CC BY 4.0).
    Rows with crc32 % 10 < 3 are held out: the bench evaluates only those.
  - YouTube Spam Collection files Youtube01-Psy, Youtube02-KatyPerry, Youtube03-LMFAO (CC BY 4.0).
    Eminem and Shakira are held out: the bench evaluates only those.
  - Ham only: TweetEval offensive *train* tweets (TweetEval: released without restrictions), so ordinary tweets,
    including rude ones, are not spam. No sentiment or care-tweet data is used.
The split rule and file list are written into the weights' `meta`; bench/classify_bench.py reads them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import zlib
from pathlib import Path

from chalicelib.classify.spam import spam_features
from chalicelib.classify.text import tokenize

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "policies" / "lexicon" / "spam_weights.json"
SPLIT = {"buckets": 10, "test_buckets": 3}
YOUTUBE_TRAIN = ["Youtube01-Psy.csv", "Youtube02-KatyPerry.csv", "Youtube03-LMFAO.csv"]
EPOCHS = 12
L2 = 1e-5
RATE = 0.2
PRUNE = 0.02


def datasets() -> Path:
    env = os.environ.get("CAREWIRE_DATASETS")
    return Path(env) if env else (REPO.parent / "shared" / "datasets").resolve()


def heldout(text: str) -> bool:
    return zlib.crc32(text.encode("utf-8")) % SPLIT["buckets"] < SPLIT["test_buckets"]


def load() -> list[tuple[str, int]]:
    root = datasets()
    rows: list[tuple[str, int]] = []
    for line in (root / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label in ("ham", "spam") and not heldout(text):
            rows.append((text, int(label == "spam")))
    for name in YOUTUBE_TRAIN:
        raw = (root / "youtube_spam_collection" / name).read_text(encoding="utf-8-sig").lstrip()
        rows += [(r["CONTENT"], int(r["CLASS"].strip() == "1")) for r in csv.DictReader(io.StringIO(raw))]
    tweets = (root / "tweeteval" / "offensive" / "train_text.txt").read_text(encoding="utf-8").splitlines()
    rows += [(t, 0) for t in tweets]
    return rows


def featurise(text: str) -> list[str]:
    tokens = tokenize(text)
    words = [t.norm for t in tokens if t.kind in ("word", "hashtag")]
    return sorted(spam_features(text, tokens, words))


def main() -> None:
    data = [(featurise(t), y) for t, y in load()]
    pos = sum(y for _, y in data)
    neg = len(data) - pos
    class_weight = {1: len(data) / (2 * pos), 0: len(data) / (2 * neg)}
    w: dict[str, float] = {}
    b = 0.0
    order = sorted(range(len(data)), key=lambda i: zlib.crc32(str(i).encode()))  # fixed shuffle
    for epoch in range(EPOCHS):
        rate = RATE / (1 + epoch)
        for i in order:
            feats, y = data[i]
            z = b + sum(w.get(f, 0.0) for f in feats)
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - y) * class_weight[y]
            b -= rate * g
            for f in feats:
                wf = w.get(f, 0.0)
                w[f] = wf - rate * (g + L2 * wf)
    kept = {f: round(v, 4) for f, v in sorted(w.items()) if abs(v) >= PRUNE}
    meta = {
        "model": "logistic regression, binary features (chalicelib.classify.spam.spam_features)",
        "trained_on": f"SMS Spam Collection crc32%{SPLIT['buckets']}>={SPLIT['test_buckets']}, "
        + ", ".join(YOUTUBE_TRAIN)
        + ", TweetEval offensive train (as ham)",
        "split": SPLIT,
        "youtube_train_files": YOUTUBE_TRAIN,
        "examples": {"spam": pos, "ham": neg},
        "epochs": EPOCHS,
        "l2": L2,
        "pruned_below": PRUNE,
    }
    OUT.write_text(json.dumps({"meta": meta, "bias": round(b, 4), "weights": kept}, indent=0, sort_keys=True))
    print(f"{len(kept)} weights, {OUT.stat().st_size / 1024:.0f} KiB -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()

"""Training rows for the care model from the shared public sets whose licences allow it (one label each).

    .venv/bin/python scripts/extra_training_rows.py OUT.jsonl     # datasets: $CAREWIRE_DATASETS or ../shared/datasets
    .venv/bin/carewire train --data corpus/care-posts/posts.jsonl --data OUT.jsonl

- TweetEval sentiment *val* (2,000 general tweets) -> `sentiment` only. TweetEval README: released "without any
  restrictions" (restrictions may apply to the underlying SemEval-2017 task, whose terms are unverified here —
  the same caveat as `policies/lexicon/sentiment_weights.json`, which trains on the same rows).
- SMS Spam Collection (CC BY 4.0 per UCI): of the rows the shipped spam model trains on (crc32(text) % 10 >= 3),
  every spam and a quarter of the ham -> `spam` only; the other 30% stay held out for the bench.
- YouTube Spam Collection (CC BY 4.0): Psy, KatyPerry, LMFAO -> `spam` only; Eminem and Shakira stay held out.
- Never: the airline tweets (CC BY-NC-SA: evaluation only), TweetEval emotion/irony, the Filipino or UMass sets.

Each row belongs to a pseudo-operator `<source>-<crc32 % 5>` so the operator folds of `carewire train` spread it
(every row gets an out-of-fold prediction), has a `source` the training report breaks figures down by, and is
marked `domain: general`: it teaches the heads it has a label for, but calibration and thresholds are chosen
on care posts only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SENTIMENT = ("negative", "neutral", "positive")
YOUTUBE_TRAIN = ("Youtube01-Psy.csv", "Youtube02-KatyPerry.csv", "Youtube03-LMFAO.csv")


def datasets() -> Path:
    env = os.environ.get("CAREWIRE_DATASETS")
    return Path(env) if env else (REPO.parent / "shared" / "datasets").resolve()


def row(source: str, number: int, text: str, labels: dict[str, Any]) -> dict[str, Any]:
    group = zlib.crc32(text.encode("utf-8")) % 5
    return {
        "id": f"{source}-{number}",
        "operator": f"{source}-{group}",
        "brand_handle": "",
        "kind": "post",
        "text": text,
        "labels": labels,
        "split": "train",
        "source": source,
        "domain": "general",
    }


def main(out: Path) -> int:
    root = datasets()
    rows: list[dict[str, Any]] = []
    folder = root / "tweeteval" / "sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / "val_labels.txt").read_text(encoding="utf-8").split()
    for i, (text, label) in enumerate(zip(texts, labels, strict=False)):
        rows.append(row("tweeteval", i, text, {"sentiment": SENTIMENT[int(label)]}))
    sms = (root / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(sms):
        label, _, text = line.partition("\t")
        crc = zlib.crc32(text.encode("utf-8"))
        # the spam model's training rows; of their ham only a quarter (by crc32), so SMS does not outweigh the corpus
        if label in ("ham", "spam") and crc % 10 >= 3 and (label == "spam" or crc % 4 == 0):
            rows.append(row("sms", i, text, {"spam": label == "spam"}))
    for name in YOUTUBE_TRAIN:
        raw = (root / "youtube_spam_collection" / name).read_text(encoding="utf-8-sig").lstrip()
        for i, r in enumerate(csv.DictReader(io.StringIO(raw))):
            rows.append(row("youtube", i + 1000 * YOUTUBE_TRAIN.index(name), r["CONTENT"], {"spam": r["CLASS"] == "1"}))
    out.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["source"]] = counts.get(r["source"], 0) + 1
    print(f"wrote {len(rows)} rows to {out}: {counts}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(Path(sys.argv[1])))

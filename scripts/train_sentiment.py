"""Train the sentiment calibration shipped as policies/lexicon/sentiment_weights.json (pure Python, deterministic).

A multinomial logistic regression (negative / neutral / positive) over `Classifier.sentiment_features`: the lexicon
score, how much positive and negative evidence it found, sarcasm, profanity, and text shape (!, ?, link, mention,
caps, hashtag, length). No word features: 2,000 labelled tweets are too few to learn a vocabulary that carries
over to care posts, but enough to learn where the lexicon's evidence puts the neutral band. Class-balanced loss
(the official metric is macro-recall), plain SGD with L2, fixed order, no randomness.

Usage: .venv/bin/python scripts/train_sentiment.py

Training data (licences in $CAREWIRE_DATASETS/tweeteval/SOURCE.txt):
  - TweetEval sentiment *val* (2,000 tweets; SemEval-2017 Task 4A; the TweetEval README releases it "without any
    restrictions", adding that restrictions may apply to the underlying task or to Twitter; SemEval-2017's own
    terms are unverified here). The only sentiment split present,
    so bench/classify_bench.py reports TweetEval with k-fold cross-validation (`cross_validate` below): every
    score is on rows the model that predicted it never saw. The held-out test split is never read.
  - Not used: the airline care tweets (CC BY-NC-SA, evaluation only), TweetEval emotion/irony (licence of the
    underlying SemEval-2018 sets not stated as commercial-use), any other file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from chalicelib.classify import Classifier  # noqa: E402

OUT = REPO / "policies" / "lexicon" / "sentiment_weights.json"
CLASSES = ("negative", "neutral", "positive")
EPOCHS = 20
L2 = 1e-3
RATE = 0.1
FOLDS = 5


def datasets() -> Path:
    env = os.environ.get("CAREWIRE_DATASETS")
    return Path(env) if env else (REPO.parent / "shared" / "datasets").resolve()


def load_tweeteval_val(root: Path) -> tuple[list[str], list[int]]:
    folder = root / "tweeteval" / "sentiment"
    texts = (folder / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [int(x) for x in (folder / "val_labels.txt").read_text(encoding="utf-8").split()]
    return texts[: len(labels)], labels


def fold_of(text: str) -> int:
    return zlib.crc32(text.encode("utf-8")) % FOLDS


def train(data: Sequence[tuple[dict[str, float], int]]) -> dict[str, list[float]]:
    """Multinomial logistic regression by SGD; class-balanced; deterministic order."""
    counts = [sum(1 for _, y in data if y == c) for c in range(3)]
    class_weight = [len(data) / (3 * n) if n else 0.0 for n in counts]
    w: dict[str, list[float]] = {}
    order = sorted(range(len(data)), key=lambda i: (zlib.crc32(str(i).encode()), i))  # fixed shuffle
    for epoch in range(EPOCHS):
        rate = RATE / (1 + 0.5 * epoch)
        for i in order:
            feats, y = data[i]
            z = [0.0, 0.0, 0.0]
            for k, v in feats.items():
                wk = w.get(k)
                if wk is not None:
                    for c in range(3):
                        z[c] += wk[c] * v
            top = max(z)
            e = [math.exp(q - top) for q in z]
            total = sum(e)
            for k, v in feats.items():
                wk = w.setdefault(k, [0.0, 0.0, 0.0])
                for c in range(3):
                    g = (e[c] / total - (1.0 if c == y else 0.0)) * v * class_weight[y]
                    wk[c] -= rate * (g + L2 * wk[c])
    return {k: [round(x, 5) for x in v] for k, v in sorted(w.items())}


def model_doc(weights: dict[str, list[float]], n: int, note: str) -> dict[str, Any]:
    return {
        "meta": {
            "model": "multinomial logistic regression over Classifier.sentiment_features (lexicon + text shape)",
            "trained_on": note,
            "examples": n,
            "epochs": EPOCHS,
            "l2": L2,
            "class_balanced": True,
            "cv_folds": FOLDS,
            "fold_rule": "crc32(text) % cv_folds",
        },
        "classes": list(CLASSES),
        "weights": weights,
    }


def cross_validate(
    clf: Classifier, texts: Sequence[str], labels: Sequence[int], *, addressed_to_brand: bool | None = None
) -> list[str]:
    """Out-of-fold predictions: each row labelled by a classifier whose calibration was trained on the other folds
    only. `clf` with a care model: the calibration is the general reading its domain head blends in (the care
    model and the domain head never saw these rows); without one, the calibration labels alone."""
    base = dataclasses.replace(clf.lexicon, sentiment_model=None)
    feats = [Classifier(base).sentiment_features(t) for t in texts]
    pred = [""] * len(texts)
    for k in range(FOLDS):
        train_rows = [(feats[i], labels[i]) for i in range(len(texts)) if fold_of(texts[i]) != k]
        doc = model_doc(train(train_rows), len(train_rows), f"fold {k} held out")
        if clf.model is not None:
            fold_clf = clf.with_general(clf.general, doc)
        else:
            fold_clf = Classifier(dataclasses.replace(clf.lexicon, sentiment_model=doc))
        for i, t in enumerate(texts):
            if fold_of(t) == k:
                pred[i] = fold_clf.classify_text(t, addressed_to_brand=addressed_to_brand).sentiment.label
    return pred


def main(log: Callable[[str], None] = print) -> None:
    texts, labels = load_tweeteval_val(datasets())
    clf = Classifier.from_policies(REPO / "policies")
    base = Classifier(dataclasses.replace(clf.lexicon, sentiment_model=None))
    data = [(base.sentiment_features(t), y) for t, y in zip(texts, labels, strict=True)]
    doc = model_doc(
        train(data),
        len(data),
        "TweetEval sentiment val (all 2,000 rows; TweetEval README: no restrictions; SemEval-2017 terms unverified)",
    )
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"{len(doc['weights'])} features, {OUT.stat().st_size} bytes -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()

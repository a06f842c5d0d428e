"""Train the care-vs-general domain head shipped as policies/model/general_model.json (pure Python, deterministic).

    .venv/bin/python scripts/train_general_model.py     # datasets: $CAREWIRE_DATASETS or ../shared/datasets

The care model learned sentiment from posts to care accounts, where most posts are complaints: read on general
tweets, its prior says negative. This head says how far a post is about care (p(care)); the classifier blends
the care model's sentiment with the lexicon's general calibration (`policies/lexicon/sentiment_weights.json`,
trained on general tweets) by that p, for mentions and posts (a DM, a reply or a comment on the brand's channel is
care by where it is). One yes/no logistic regression over the care model's own inputs (hashed words, character
n-grams, word pairs, the lexicon's evidence), trained by `chalicelib.cli.training`'s SGD, Platt-scaled on
out-of-fold logits (5 folds: by operator for care posts, by crc32 of the text for general tweets).

Training rows (nothing about sentiment is learned here, and no sentiment split is read):
  - care (yes): the corpus's *train* split (`corpus/care-posts/posts.jsonl`, the project's own), with every @handle
    replaced by "@user" so the head judges the words, not whether a brand handle is there (real posts may come
    anonymised; TweetEval's are).
  - general (no): TweetEval *train* splits of emotion, irony, and a third (crc32(text) % 3 == 0) of hate and
    offensive (TweetEval README: released "without any restrictions", restrictions may apply to the underlying
    SemEval/OffensEval/HatEval tasks or to Twitter). Not the sentiment val split (the bench scores on it), not the
    airline tweets (CC BY-NC-SA, evaluation only), not any test split.
Every row is read as a mention addressed to the brand, so neither the channel nor the handle decides.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from chalicelib.classify import Classifier  # noqa: E402
from chalicelib.classify.learned import GENERAL_FILE  # noqa: E402
from chalicelib.cli import training as T  # noqa: E402

GENERAL_TASKS = ("emotion", "irony", "hate", "offensive")
SUBSAMPLED = {"hate": 3, "offensive": 3}
"""task -> keep one row in n (by crc32 of the text)"""
OPTIONS = T.Options(balance=1.0, prune=10, min_df=2)
HANDLE = re.compile(r"@\w+")


def datasets() -> Path:
    env = os.environ.get("CAREWIRE_DATASETS")
    return Path(env) if env else (REPO.parent / "shared" / "datasets").resolve()


def rows(corpus: Path, root: Path) -> list[T.Row]:
    out: list[T.Row] = []
    for task in GENERAL_TASKS:
        texts = (root / "tweeteval" / task / "train_text.txt").read_text(encoding="utf-8").splitlines()
        for i, text in enumerate(texts):
            crc = zlib.crc32(text.encode("utf-8"))
            if not text.strip() or crc % SUBSAMPLED.get(task, 1):
                continue
            out.append(_row(f"{task}-{i}", text, f"general-{crc % OPTIONS.folds}", False, task))
    for r in T.read_rows(corpus):
        if r.split != "test":
            out.append(_row(r.id, HANDLE.sub("@user", r.text), r.operator, True, "corpus"))
    return out


def _row(rid: str, text: str, operator: str, care: bool, source: str) -> T.Row:
    return T.Row(rid, text, operator, "", "mention", True, {"care": care}, "train", source, general=not care)


def build(classifier: Classifier, data: list[T.Row], log: Any = print) -> dict[str, Any]:
    base = classifier.for_features()
    inputs = [base.model_input(r.text, brand=base.default_brand, kind=r.kind, addressed=True) for r in data]
    layout = T.Layout([{"name": "care", "start": 0, "classes": ["yes"]}], 1)
    xs, dense_ids = T.vectors(inputs, OPTIONS.min_df, OPTIONS.word_scale)
    logits = T._oof_logits(layout, xs, data, OPTIONS, log)
    gold = [bool(r.labels["care"]) for r in data]
    a, b = T.fit_platt([z[0] for z in logits], gold)
    oof: dict[str, float] = {}
    for source in sorted({r.source for r in data}):
        ix = [i for i, r in enumerate(data) if r.source == source]
        right = sum(1 for i in ix if (T._sigmoid(a * logits[i][0] + b) >= 0.5) == gold[i])
        oof[f"read right at p=0.5 ({source})"] = round(right / len(ix), 4)
    log(f"out-of-fold: {oof}")
    weights = T.train_weights(layout, xs, data, OPTIONS)
    sources: dict[str, int] = {}
    for r in data:
        sources[r.source] = sources.get(r.source, 0) + 1
    meta = {
        "model": "care-vs-general domain head (scripts/train_general_model.py)",
        "options": OPTIONS.as_meta(),
        "rows_by_source": dict(sorted(sources.items())),
        "out_of_fold": oof,
        "general": "TweetEval train: emotion, irony, hate and offensive (1 in 3 by crc32); never sentiment",
        "care": "corpus/care-posts train split, @handles as @user",
    }
    calibration = {"platt": {"care": [round(a, 6), round(b, 6)]}}
    doc = T.quantised_doc(layout, weights, {}, dense_ids, OPTIONS, calibration, meta)
    doc["version"] = "general-" + hashlib.sha256(T.dumps({**doc, "version": ""}).encode()).hexdigest()[:12]
    return doc


def main() -> int:
    classifier = Classifier.from_policies(REPO / "policies", learned=False)
    data = rows(REPO / "corpus" / "care-posts" / "posts.jsonl", datasets())
    doc = build(classifier, data)
    out = REPO / "policies" / GENERAL_FILE
    text = T.dumps(doc)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)} ({len(text.encode()) / 1e6:.2f} MB, {doc['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Classifier benchmark: this classifier beside VADER on the shared public datasets, in one run.

    .venv/bin/python bench/classify_bench.py            # datasets from ../shared/datasets or $CAREWIRE_DATASETS

Prints a markdown table and exits 0. Never reports a number on data a shipped weights file was trained on:
learned weights record their training data in their `meta`, and the bench evaluates only the held-out part.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import os
import statistics
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chalicelib.classify import Classifier  # noqa: E402


def datasets_dir() -> Path:
    env = os.environ.get("CAREWIRE_DATASETS")
    return Path(env) if env else (REPO.parent / "shared" / "datasets").resolve()


# ---------------------------------------------------------------------------------------------------- metrics


def recall_macro(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    out = []
    for lab in labels:
        n = sum(1 for g in gold if g == lab)
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        out.append(tp / n if n else 0.0)
    return sum(out) / len(out)


def f1(gold: Sequence[Any], pred: Sequence[Any], positive: Any) -> float:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == positive and p == positive)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != positive and p == positive)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == positive and p != positive)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def f1_macro(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> float:
    return sum(f1(gold, pred, lab) for lab in labels) / len(labels)


def accuracy(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    return sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold)


# ---------------------------------------------------------------------------------------------------- loaders


def tweeteval(root: Path, task: str, split: str) -> tuple[list[str], list[int]]:
    folder = root / "tweeteval" / task
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [int(x) for x in (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()]
    return texts[: len(labels)], labels


def airline(root: Path) -> tuple[list[str], list[str]]:
    path = root / "twitter_us_airline_sentiment" / "Airline-Sentiment-2-w-AA.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp1252", errors="replace"))))
    return [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]


def sms(root: Path) -> list[tuple[str, bool]]:
    out = []
    for line in (root / "sms_spam_collection" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        if label in ("ham", "spam"):
            out.append((text, label == "spam"))
    return out


def youtube(root: Path, name: str) -> list[tuple[str, bool]]:
    raw = (root / "youtube_spam_collection" / name).read_text(encoding="utf-8-sig").lstrip()
    return [(r["CONTENT"], r["CLASS"].strip() == "1") for r in csv.DictReader(io.StringIO(raw))]


def umass(root: Path) -> tuple[list[str], list[bool]]:
    """Definitely English vs definitely not English (ambiguous, code-switched, auto-generated left out)."""
    path = root / "umass_global_english_twitter" / "all_annotated.tsv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
    texts, gold = [], []
    for r in rows:
        if r["Ambiguous"] == "1" or r["Code-Switched"] == "1" or r["Automatically Generated Tweets"] == "1":
            continue
        if r["Definitely English"] == "1" or r["Definitely Not English"] == "1":
            texts.append(r["Tweet"])
            gold.append(r["Definitely English"] == "1")
    return texts, gold


def filipino(root: Path, split: str) -> list[tuple[str, int]]:
    path = root / "filipino_hate_speech_2016" / f"{split}.csv"
    out = []
    for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        if r.get("label") in ("0", "1"):
            out.append((r["text"], int(r["label"])))
    return out


def heldout(text: str, buckets: int, test_buckets: int) -> bool:
    """The split rule training scripts record in their weights' meta: crc32(text) % buckets < test_buckets."""
    return zlib.crc32(text.encode("utf-8")) % buckets < test_buckets


# ---------------------------------------------------------------------------------------------------- the run


def sentiment_trainer() -> Any:
    """scripts/train_sentiment.py as a module (its `cross_validate` gives out-of-fold TweetEval predictions)."""
    spec = importlib.util.spec_from_file_location("train_sentiment", REPO / "scripts" / "train_sentiment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def vader_fn() -> Callable[[str], str] | None:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()

    def label(text: str) -> str:
        c = analyzer.polarity_scores(text)["compound"]
        return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"

    return label


def main() -> int:  # noqa: PLR0915 - one flat report
    root = datasets_dir()
    clf = Classifier.from_policies(REPO / "policies")
    vader = vader_fn()
    rows: list[tuple[str, str, str, str, str]] = []  # task, data, metric, ours, vader
    na = "n/a"

    def fmt(x: float) -> str:
        return f"{x:.3f}"

    sent_names = ["negative", "neutral", "positive"]

    texts, labels = tweeteval(root, "sentiment", "val")
    gold = [sent_names[i] for i in labels]
    senti_meta = (clf.lexicon.sentiment_model or {}).get("meta", {})
    if clf.lexicon.sentiment_model is not None:
        # The shipped calibration was trained on these rows: score each row with a model that never saw it.
        folds = int(senti_meta.get("cv_folds", 5))
        ours = sentiment_trainer().cross_validate(clf, texts, labels)
        data_note = f"TweetEval sentiment val, {folds}-fold CV ({len(texts)})"
    else:
        ours = [clf.classify_text(t).sentiment.label for t in texts]
        data_note = f"TweetEval sentiment val ({len(texts)})"
    lexicon_only = Classifier(dataclasses.replace(clf.lexicon, sentiment_model=None))
    lex_pred = [lexicon_only.classify_text(t).sentiment.label for t in texts]
    vad = [vader(t) for t in texts] if vader else []
    rows.append(
        (
            "sentiment",
            data_note,
            "macro-recall",
            fmt(recall_macro(gold, ours, sent_names)),
            fmt(recall_macro(gold, vad, sent_names)) if vad else na,
        )
    )
    rows.append(
        (
            "sentiment",
            "TweetEval sentiment val, lexicon only (nothing learned)",
            "macro-recall",
            fmt(recall_macro(gold, lex_pred, sent_names)),
            fmt(recall_macro(gold, vad, sent_names)) if vad else na,
        )
    )
    rows.append(
        (
            "sentiment",
            "TweetEval sentiment val",
            "accuracy",
            fmt(accuracy(gold, ours)),
            fmt(accuracy(gold, vad)) if vad else na,
        )
    )

    texts, gold = airline(root)
    ours = [clf.classify_text(t).sentiment.label for t in texts]
    vad = [vader(t) for t in texts] if vader else []
    rows.append(
        (
            "sentiment",
            f"US airline care tweets ({len(texts)})",
            "accuracy",
            fmt(accuracy(gold, ours)),
            fmt(accuracy(gold, vad)) if vad else na,
        )
    )
    rows.append(
        (
            "sentiment",
            "US airline care tweets",
            "macro-F1",
            fmt(f1_macro(gold, ours, sent_names)),
            fmt(f1_macro(gold, vad, sent_names)) if vad else na,
        )
    )
    rows.append(
        (
            "sentiment",
            "US airline care tweets",
            "macro-recall",
            fmt(recall_macro(gold, ours, sent_names)),
            fmt(recall_macro(gold, vad, sent_names)) if vad else na,
        )
    )

    for task in ("offensive", "hate"):
        texts, labels = tweeteval(root, task, "test")
        pred = [int(clf.classify_text(t).abuse) for t in texts]
        rows.append(
            (
                "abuse",
                f"TweetEval {task} test ({len(texts)})",
                "macro-F1 of abuse flag",
                fmt(f1_macro(labels, pred, [0, 1])),
                na,
            )
        )

    meta = (clf.lexicon.spam_model or {}).get("meta", {})
    split = meta.get("split", {"buckets": 10, "test_buckets": 10})  # no model: every row is held out
    trained_on_youtube = set(meta.get("youtube_train_files", []))
    sms_rows = [(t, y) for t, y in sms(root) if heldout(t, split["buckets"], split["test_buckets"])]
    note = (
        "all" if split["test_buckets"] == split["buckets"] else f"held-out {split['test_buckets']}/{split['buckets']}"
    )
    pred_b = [clf.classify_text(t).spam for t, _ in sms_rows]
    rows.append(
        (
            "spam",
            f"SMS Spam Collection, {note} ({len(sms_rows)})",
            "F1 of spam flag",
            fmt(f1([y for _, y in sms_rows], pred_b, True)),
            na,
        )
    )
    yt_files = [f"Youtube0{i}" for i in range(1, 6)]
    yt_rows: list[tuple[str, bool]] = []
    used = []
    for path in sorted((root / "youtube_spam_collection").glob("Youtube0*.csv")):
        if path.name in trained_on_youtube:
            continue
        used.append(path.stem.split("-")[-1])
        yt_rows += youtube(root, path.name)
    del yt_files
    pred_b = [clf.classify_text(t).spam for t, _ in yt_rows]
    rows.append(
        (
            "spam",
            f"YouTube comments {'+'.join(used)} ({len(yt_rows)})",
            "F1 of spam flag",
            fmt(f1([y for _, y in yt_rows], pred_b, True)),
            na,
        )
    )

    texts, is_en = umass(root)
    pred_en = [clf.classify_text(t).language == "en" for t in texts]
    rows.append(
        (
            "language",
            f"UMass global tweets, definite en/not-en ({len(texts)})",
            "accuracy en vs not",
            fmt(accuracy(is_en, pred_en)),
            na,
        )
    )
    rows.append(
        ("language", "UMass global tweets", "macro-F1 en vs not", fmt(f1_macro(is_en, pred_en, [True, False])), na)
    )
    fil = filipino(root, "test")
    langs = [clf.classify_text(t).language for t, _ in fil]
    rows.append(
        (
            "language",
            f"Filipino election tweets test ({len(fil)})",
            "share labelled tl",
            fmt(sum(1 for x in langs if x == "tl") / len(langs)),
            na,
        )
    )
    rows.append(
        (
            "language",
            "Filipino election tweets test",
            "share labelled es (wrong)",
            fmt(sum(1 for x in langs if x == "es") / len(langs)),
            na,
        )
    )

    # throughput: one core, in-process, full classify_text on the airline tweets
    texts, _ = airline(root)
    rates = []
    for _ in range(3):  # median of three passes: the machine may be shared
        start = time.process_time()
        for t in texts:
            clf.classify_text(t)
        rates.append(len(texts) / (time.process_time() - start))
    ours_rate = statistics.median(rates)
    vader_rate = na
    if vader:
        start = time.process_time()
        for t in texts:
            vader(t)
        vader_rate = f"{len(texts) / (time.process_time() - start):,.0f}"
    rows.append(
        (
            "speed",
            f"US airline care tweets ({len(texts)})",
            "posts/s, one core (median of 3)",
            f"{ours_rate:,.0f}",
            vader_rate,
        )
    )

    print(f"Datasets: {root}")
    if meta:
        print(f"Spam weights trained on: {meta.get('trained_on')}")
    if senti_meta:
        print(
            f"Sentiment calibration trained on: {senti_meta.get('trained_on')}; TweetEval row = out-of-fold "
            f"predictions ({senti_meta.get('cv_folds')}-fold CV by {senti_meta.get('fold_rule')}); "
            "airline tweets never trained on (evaluation only)"
        )
    print()
    print("| task | data | metric | Carewire | VADER |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

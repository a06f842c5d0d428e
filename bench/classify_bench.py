"""Classifier benchmark: the learned care model beside today's lexicon-only classifier and VADER, in one run.

    .venv/bin/python bench/classify_bench.py     # corpus: $CAREWIRE_CORPUS or corpus/care-posts/posts.jsonl;
                                                 # datasets: $CAREWIRE_DATASETS or ../shared/datasets

Prints markdown tables and exits 0. Never reports a number on data a shipped weights file was trained on: the
care model is scored on the corpus's held-out operators (`split: test`, never trained or tuned on); learned
weights record their training data in their `meta`, and the bench evaluates only the held-out part elsewhere.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from chalicelib.classify import Classifier  # noqa: E402
from chalicelib.cli.evaluation import figures, predict, prf, recall_at_precision  # noqa: E402
from chalicelib.cli.training import Row, read_rows  # noqa: E402
from chalicelib.labels import TOPICS  # noqa: E402


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


def corpus_path() -> Path:
    env = os.environ.get("CAREWIRE_CORPUS")
    return Path(env) if env else REPO / "corpus" / "care-posts" / "posts.jsonl"


SENT = ["negative", "neutral", "positive"]
Line = tuple[str, str, str, str, str, str]
"""task, data, metric, learned, lexicon only, VADER"""
NA = "n/a"


def fmt(x: float | None) -> str:
    return NA if x is None else f"{x:.3f}"


# ---------------------------------------------------------------------------------------------------- the pack


def pack_outcomes(clf: Classifier, rows: Sequence[Row]) -> list[dict[str, bool]]:
    """What the default pack does with each post (escalate / reply / hide), judged for the post's own brand."""
    from chalicelib.channels.config import load_channels
    from chalicelib.policy.context import context_document
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import load_policy
    from chalicelib.policy.offline import DEFAULT_NOW, post_from_doc

    policy = load_policy(REPO / "policies")
    channels = load_channels(REPO / "policies" / "channels.yaml")
    gazetteer = clf.lexicon.gazetteer
    out = []
    for row in rows:
        doc = {
            "id": row.id,
            "text": row.text,
            "is_dm": row.kind == "dm",
            "in_reply_to": "parent" if row.kind in ("reply", "comment") else None,
            "addressed_to_brand": row.addressed,
        }
        post, channel = post_from_doc(doc, channels)
        brand = gazetteer.brand_named(row.operator, row.handle) if gazetteer is not None else None
        # with the text it replies to, as the live pipeline reads a reply (chalicelib/threads.py)
        c = clf.classify_text(
            row.text, addressed_to_brand=row.addressed, brand=brand, kind=row.kind, context=row.context or None
        )
        planned = plan(policy, context_document(post, c, channel, DEFAULT_NOW), post, c)
        kinds = {a.type for a in planned.actions}
        out.append(
            {"escalate": "escalate" in kinds, "reply": bool(kinds & {"reply", "notice"}), "hide": "hide" in kinds}
        )
    return out


def care_corpus(  # noqa: PLR0915 - one flat report
    learned: Classifier, lexicon: Classifier, vader: Callable[[str], str] | None
) -> list[Line]:
    path = corpus_path()
    if not path.is_file():
        print(f"(no corpus at {path}: the care rows are skipped)")
        return []
    rows = [r for r in read_rows(path) if r.split == "test"]
    ops = sorted({r.operator for r in rows})
    data = f"corpus held-out operators ({len(ops)} ops, {len(rows)} posts)"
    print(f"Held-out operators: {', '.join(ops)}")
    preds = {name: predict(clf, rows) for name, clf in (("learned", learned), ("lexicon", lexicon))}
    figs = {name: figures(rows, p) for name, p in preds.items()}
    out: list[Line] = []

    def both(metric: str, key: str, vad: str = NA) -> None:
        out.append(
            ("care", data, metric, fmt(figs["learned"].values.get(key)), fmt(figs["lexicon"].values.get(key)), vad)
        )

    both("topic macro-F1 (8 topics)", "topic macro-F1")
    both("topic accuracy", "topic accuracy")
    sent_rows = [r for r in rows if "sentiment" in r.labels]
    vad_recall = NA
    if vader:
        gold = [r.labels["sentiment"] for r in sent_rows]
        vad_recall = fmt(recall_macro(gold, [vader(r.text) for r in sent_rows], SENT))
    both("sentiment macro-recall", "sentiment macro-recall", vad_recall)
    for label in ("churn_risk", "needs_human", "spam", "abuse", "addressed_to_brand"):
        both(f"{label} recall", f"{label} recall")
        both(f"{label} precision", f"{label} precision")
    nh = [(r, i) for i, r in enumerate(rows) if "needs_human" in r.labels]
    gold_nh = [bool(r.labels["needs_human"]) for r, _ in nh]
    probs = [preds["learned"][i]["needs_human_p"] for _, i in nh]
    rec, cut = recall_at_precision(probs, gold_nh, 0.80)
    out.append(("care", data, f"needs_human recall at precision >= 0.80 (p cut {cut:.2f})", fmt(rec), NA, NA))
    packs = {name: pack_outcomes(clf, [r for r, _ in nh]) for name, clf in (("learned", learned), ("lexicon", lexicon))}
    for metric, k in (("recall", 1), ("precision", 0)):
        vals = {}
        for name, outcome in packs.items():
            p, r, _, _ = prf(gold_nh, [o["escalate"] for o in outcome], True)
            vals[name] = (p, r)[k]
        out.append(
            (
                "care",
                data,
                f"needs_human caught by `escalate` in the default pack: {metric}",
                fmt(vals["learned"]),
                fmt(vals["lexicon"]),
                NA,
            )
        )
    replies = [r for r in rows if r.context]
    if replies:  # what the replied-to text is worth: the live pipeline reads it (chalicelib/threads.py)
        alone = [dataclasses.replace(r, context="") for r in replies]
        with_text = figures(replies, predict(learned, replies)).values
        without = figures(alone, predict(learned, alone)).values
        for metric, key in (("topic macro-F1", "topic macro-F1"), ("needs_human recall", "needs_human recall")):
            line = f"{metric} of replies ({len(replies)}): with the text replied to / without"
            out.append(("care", data, line, f"{with_text.get(key, 0):.3f} / {without.get(key, 0):.3f}", NA, NA))
    spam_rows = [i for i, (r, _) in enumerate(nh) if r.labels.get("spam")]
    for name in ("learned", "lexicon"):
        answered = sum(1 for i in spam_rows if packs[name][i]["reply"])
        hidden = sum(1 for i in spam_rows if packs[name][i]["hide"])
        print(f"  spam posts ({len(spam_rows)}), {name}: hidden {hidden}, answered {answered}")
    per_topic = figs["learned"].per_class.get("topic", {})
    lex_topic = figs["lexicon"].per_class.get("topic", {})
    print()
    print("| topic (held-out operators) | support | learned P / R / F1 | lexicon only P / R / F1 |")
    print("|---|---|---|---|")
    for t in TOPICS:
        if t in per_topic:
            p, r, f, n = per_topic[t]
            lp, lr, lf, _ = lex_topic[t]
            print(f"| {t} | {n} | {p:.2f} / {r:.2f} / {f:.2f} | {lp:.2f} / {lr:.2f} / {lf:.2f} |")
    print()
    by_op: dict[str, Any] = {}
    for op in ops:
        ix = [i for i, r in enumerate(rows) if r.operator == op]
        sub = figures([rows[i] for i in ix], [preds["learned"][i] for i in ix])
        by_op[op] = sub
    print("| held-out operator | posts | topic macro-F1 | sentiment macro-recall | churn R / P | needs_human R / P |")
    print("|---|---|---|---|---|---|")
    for op, f in by_op.items():
        v = f.values
        print(
            f"| {op} | {f.n} | {v.get('topic macro-F1', 0):.2f} | {v.get('sentiment macro-recall', 0):.2f} | "
            f"{v.get('churn_risk recall', 0):.2f} / {v.get('churn_risk precision', 0):.2f} | "
            f"{v.get('needs_human recall', 0):.2f} / {v.get('needs_human precision', 0):.2f} |"
        )
    print()
    return out


# ---------------------------------------------------------------------------------------------------- public sets


def tweeteval_sentiment(learned: Classifier, lexicon: Classifier, vader: Callable[[str], str] | None) -> list[Line]:
    root = datasets_dir()
    rows: list[Line] = []
    texts, labels = tweeteval(root, "sentiment", "val")
    gold = [SENT[i] for i in labels]
    senti_meta = (lexicon.lexicon.sentiment_model or {}).get("meta", {})
    meta = learned.model.meta if learned.model is not None else {}
    trained_on_tweeteval = "tweeteval" in meta.get("rows_by_source", {})
    # the care model reads posts that reached a brand (a mention, reply, comment or DM): read each tweet as one
    trainer = sentiment_trainer() if lexicon.lexicon.sentiment_model is not None else None
    if learned.general is not None and trainer is not None:
        # The domain head blends in the lexicon's calibration, which was trained on these rows: each row is read
        # by the learned classifier with a calibration trained on the other folds (the care model and the domain
        # head never saw any of them).
        ours = trainer.cross_validate(learned, texts, labels, addressed_to_brand=True)
        how = "learned: read as mentions, 5-fold out-of-fold for the calibration its domain head blends in"
    else:
        ours = [learned.classify_text(t, addressed_to_brand=True).sentiment.label for t in texts]
        how = "learned: never trained on, read as mentions"
    if trainer is not None:
        # The lexicon's calibration was trained on these rows: score each row with a calibration that never saw it.
        lex = trainer.cross_validate(lexicon, texts, labels)
        note = f"{senti_meta.get('cv_folds', 5)}-fold CV for the lexicon's calibration"
    else:
        lex = [lexicon.classify_text(t).sentiment.label for t in texts]
        note = "lexicon"
    vad = [vader(t) for t in texts] if vader else []
    if trained_on_tweeteval:
        # The care model learned from these rows: report its out-of-fold figure (each row scored by a model
        # trained without its fold), computed by `carewire train` and kept in the model's meta.
        oof = meta.get("out_of_fold", {})
        learned_recall = fmt(oof.get("sentiment macro-recall (tweeteval)"))
        learned_accuracy = NA
        data = f"TweetEval sentiment val ({len(texts)}; learned: 5-fold out-of-fold from training; {note})"
    else:
        learned_recall = fmt(recall_macro(gold, ours, SENT))
        learned_accuracy = fmt(accuracy(gold, ours))
        data = f"TweetEval sentiment val ({len(texts)}; {how}; {note})"
    rows.append(
        (
            "sentiment",
            data,
            "macro-recall",
            learned_recall,
            fmt(recall_macro(gold, lex, SENT)),
            fmt(recall_macro(gold, vad, SENT)) if vad else NA,
        )
    )
    rows.append(
        (
            "sentiment",
            "TweetEval sentiment val",
            "accuracy",
            learned_accuracy,
            fmt(accuracy(gold, lex)),
            fmt(accuracy(gold, vad)) if vad else NA,
        )
    )

    return rows


def public_sets(learned: Classifier, lexicon: Classifier, vader: Callable[[str], str] | None) -> list[Line]:
    root = datasets_dir()
    rows: list[Line] = tweeteval_sentiment(learned, lexicon, vader)
    texts, gold = airline(root)
    preds = {
        n: [c.classify_text(t, addressed_to_brand=True).sentiment.label for t in texts]
        for n, c in (("learned", learned), ("lexicon", lexicon))
    }
    vad = [vader(t) for t in texts] if vader else []
    data = f"US airline care tweets ({len(texts)}, evaluation only)"
    for metric, fn in (("macro-recall", recall_macro), ("macro-F1", f1_macro)):
        rows.append(
            (
                "sentiment",
                data,
                metric,
                fmt(fn(gold, preds["learned"], SENT)),
                fmt(fn(gold, preds["lexicon"], SENT)),
                fmt(fn(gold, vad, SENT)) if vad else NA,
            )
        )
    rows.append(
        (
            "sentiment",
            data,
            "accuracy",
            fmt(accuracy(gold, preds["learned"])),
            fmt(accuracy(gold, preds["lexicon"])),
            fmt(accuracy(gold, vad)) if vad else NA,
        )
    )

    for task in ("offensive", "hate"):
        texts, labels = tweeteval(root, task, "test")
        a, b = (
            fmt(f1_macro(labels, [int(c.classify_text(t).abuse) for t in texts], [0, 1])) for c in (learned, lexicon)
        )
        rows.append(("abuse", f"TweetEval {task} test ({len(texts)})", "macro-F1 of abuse flag", a, b, NA))

    meta = (lexicon.lexicon.spam_model or {}).get("meta", {})
    split = meta.get("split", {"buckets": 10, "test_buckets": 10})
    trained_on_youtube = set(meta.get("youtube_train_files", []))
    sms_rows = [(t, y) for t, y in sms(root) if heldout(t, split["buckets"], split["test_buckets"])]
    note = (
        "all" if split["test_buckets"] == split["buckets"] else f"held-out {split['test_buckets']}/{split['buckets']}"
    )
    gold_b = [y for _, y in sms_rows]
    a, b = (fmt(f1(gold_b, [c.classify_text(t).spam for t, _ in sms_rows], True)) for c in (learned, lexicon))
    rows.append(("spam", f"SMS Spam Collection, {note} ({len(sms_rows)})", "F1 of spam flag", a, b, NA))
    yt_rows: list[tuple[str, bool]] = []
    used = []
    for path in sorted((root / "youtube_spam_collection").glob("Youtube0*.csv")):
        if path.name in trained_on_youtube:
            continue
        used.append(path.stem.split("-")[-1])
        yt_rows += youtube(root, path.name)
    gold_b = [y for _, y in yt_rows]
    a, b = (fmt(f1(gold_b, [c.classify_text(t).spam for t, _ in yt_rows], True)) for c in (learned, lexicon))
    rows.append(("spam", f"YouTube comments {'+'.join(used)} ({len(yt_rows)})", "F1 of spam flag", a, b, NA))

    texts, is_en = umass(root)
    pred_en = [learned.classify_text(t).language == "en" for t in texts]
    rows.append(
        (
            "language",
            f"UMass global tweets, definite en/not-en ({len(texts)})",
            "macro-F1 en vs not",
            fmt(f1_macro(is_en, pred_en, [True, False])),
            "same",
            NA,
        )
    )
    fil = filipino(root, "test")
    langs = [learned.classify_text(t).language for t, _ in fil]
    rows.append(
        (
            "language",
            f"Filipino election tweets test ({len(fil)})",
            "share labelled tl",
            fmt(sum(1 for x in langs if x == "tl") / len(langs)),
            "same",
            NA,
        )
    )
    return rows


# ---------------------------------------------------------------------------------------------------- speed


def speed(learned: Classifier, lexicon: Classifier, vader: Callable[[str], str] | None) -> list[Line]:
    """classify and decide (classify + context + rules + guardrails) per second of one core's CPU time."""
    from chalicelib.channels.config import load_channels
    from chalicelib.policy.context import context_document
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import load_policy
    from chalicelib.policy.offline import DEFAULT_NOW, post_from_doc

    texts, _ = airline(datasets_dir())
    policy = load_policy(REPO / "policies")
    channels = load_channels(REPO / "policies" / "channels.yaml")
    posts = [
        post_from_doc({"id": str(i), "text": t, "addressed_to_brand": True}, channels) for i, t in enumerate(texts)
    ]

    def rate(fn: Callable[[], None]) -> float:
        found = []
        for _ in range(3):  # median of three passes: the machine may be shared
            start = time.process_time()
            fn()
            found.append(len(texts) / (time.process_time() - start))
        return statistics.median(found)

    def classify_all(clf: Classifier) -> Callable[[], None]:
        def run() -> None:
            for post, _ in posts:
                clf.classify(post)

        return run

    def decide_all(clf: Classifier) -> Callable[[], None]:
        def run() -> None:
            for post, channel in posts:
                c = clf.classify(post)
                plan(policy, context_document(post, c, channel, DEFAULT_NOW), post, c)

        return run

    data = f"US airline care tweets ({len(texts)})"
    vader_rate = NA
    if vader:
        start = time.process_time()
        for t in texts:
            vader(t)
        vader_rate = f"{len(texts) / (time.process_time() - start):,.0f}"
    return [
        (
            "speed",
            data,
            "classify posts/s, one core (median of 3)",
            f"{rate(classify_all(learned)):,.0f}",
            f"{rate(classify_all(lexicon)):,.0f}",
            vader_rate,
        ),
        (
            "speed",
            data,
            "decide posts/s (classify + rules), one core",
            f"{rate(decide_all(learned)):,.0f}",
            f"{rate(decide_all(lexicon)):,.0f}",
            NA,
        ),
    ]


COLD = """
import sys, time
t0 = time.perf_counter()
import app
from pathlib import Path
from chalicelib.classify import Classifier
from chalicelib.policy.loader import load_policy
t1 = time.perf_counter()
clf = Classifier.from_policies(Path(sys.argv[1]), learned=sys.argv[2] == "learned")
t2 = time.perf_counter()
load_policy(Path(sys.argv[1]))
t3 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)
"""


def packaged_policies() -> Path:
    """A copy of policies/ as `carewire package` ships it: validated, with the digest that lets the Lambda skip
    the schema pass when it loads the rules."""
    from chalicelib.packaging import validate_policies

    copy = Path(tempfile.mkdtemp()) / "policies"
    shutil.copytree(REPO / "policies", copy, ignore=shutil.ignore_patterns("tests"))
    validate_policies(copy)
    return copy


def cold_start() -> list[Line]:
    """A fresh interpreter: import app, load the classifier (lexicon + weights) and the policy, as the processor's
    first event does (median of 5; interpreter start-up itself not counted) — from policies/ as the package ships
    it (what the Lambda runs) and, for comparison, from the repo's policies/ (where the rules' schema pass runs)."""
    layouts = {"packaged": packaged_policies(), "repo": REPO / "policies"}
    found: dict[tuple[str, bool], list[tuple[float, ...]]] = {}
    try:
        for layout, policies in layouts.items():
            for learned in (True, False):
                for _ in range(5):
                    done = subprocess.run(
                        [sys.executable, "-c", COLD, str(policies), "learned" if learned else "lexicon"],
                        cwd=REPO,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    found.setdefault((layout, learned), []).append(tuple(float(x) for x in done.stdout.split()))
    finally:
        shutil.rmtree(layouts["packaged"].parent)
    med = {k: [statistics.median(v[i] for v in vals) for i in range(3)] for k, vals in found.items()}
    weights = REPO / "policies" / "model" / "care_model.json"
    size = f"{weights.stat().st_size / 1e6:.2f} MB" if weights.is_file() else "no weights"
    return [
        (
            "cold start",
            "fresh process, median of 5, policies as packaged",
            "import app + classifier + policy, ms",
            f"{sum(med['packaged', True]):.0f}",
            f"{sum(med['packaged', False]):.0f}",
            NA,
        ),
        (
            "cold start",
            "the same from the repo's policies/ (schema pass)",
            "import app + classifier + policy, ms",
            f"{sum(med['repo', True]):.0f}",
            f"{sum(med['repo', False]):.0f}",
            NA,
        ),
        (
            "cold start",
            f"weights {size}",
            "of which classifier load (lexicon + weights), ms",
            f"{med['packaged', True][1]:.0f}",
            f"{med['packaged', False][1]:.0f}",
            NA,
        ),
    ]


SECTIONS = ("corpus", "public", "speed", "cold")


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", help=f"comma-separated sections to run (of {', '.join(SECTIONS)}; default all)")
    only = set((parser.parse_args().only or ",".join(SECTIONS)).split(","))
    if only - set(SECTIONS):
        parser.error(f"unknown section(s): {', '.join(sorted(only - set(SECTIONS)))}")
    learned = Classifier.from_policies(REPO / "policies")
    lexicon = Classifier.from_policies(REPO / "policies", learned=False)
    vader = vader_fn()
    print(f"Datasets: {datasets_dir()}; corpus: {corpus_path()}")
    if learned.model is None:
        print("(no learned model in policies/model/: the learned column is the lexicon)")
    else:
        meta = learned.model.meta
        print(f"Care model {learned.model.version}, trained on {meta.get('trained_on')}")
    rows: list[Line] = []
    if "corpus" in only:
        rows += care_corpus(learned, lexicon, vader)
    if "public" in only:
        rows += public_sets(learned, lexicon, vader)
    if "speed" in only:
        rows += speed(learned, lexicon, vader)
    if "cold" in only:
        rows += cold_start()
    print()
    print("| task | data | metric | learned (Carewire) | lexicon only (before) | VADER |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

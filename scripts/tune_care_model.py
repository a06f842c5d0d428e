"""Choose the care model's training options by cross-validation on the corpus's TRAIN split only, by operator.

    .venv/bin/python scripts/tune_care_model.py [--corpus PATH] [--extra ROWS.jsonl] [--grid NAME]
    .venv/bin/python scripts/tune_care_model.py --fractions 0.25,0.5,0.75,1     # a learning curve
    .venv/bin/python scripts/tune_care_model.py --ablate-round 3                # what one writing round adds

Each option set is trained k times, each time holding out a fifth of the training operators, and scored on the
operators it never saw (out-of-fold): topic macro-F1, sentiment macro-recall, churn and needs_human precision /
recall at the thresholds calibration picks. Rows with `split: test` are dropped before anything else: no choice
is ever made on the held-out operators. Prints a table; writes nothing.

`--fractions`: the learning curve instead — each fold trains on that share of its training rows (a seeded sample)
and is scored on all of its held-out operators, so a rising curve says more labelled posts would help.

`--ablate-round N`: each fold is trained twice, without and with the corpus's writing round N, and both are scored
on the same held-out operators — on all their rows, on the rows of the other rounds (labelled before round N was
written) and on round N's own rows: a paired answer to "did that round help on operators never seen?".
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from chalicelib.classify import Classifier  # noqa: E402
from chalicelib.classify.features import ModelInput  # noqa: E402
from chalicelib.cli import training as T  # noqa: E402

GRIDS: dict[str, list[dict[str, float | int]]] = {
    "default": [{}],
    "rate": [{"rate": 0.02}, {"rate": 0.05}, {"rate": 0.2}],
    "epochs": [{"epochs": 4}, {"epochs": 6}, {"epochs": 10}],
    "balance": [{"balance": 0.0}, {"balance": 0.5}, {"balance": 1.0}],
    "size": [{"min_df": 2, "prune": 8}, {"min_df": 3, "prune": 8}, {"min_df": 2, "prune": 20}],
    "l2": [{"l2": 0.0}, {"l2": 0.05}, {"l2": 0.15}],
}
COLUMNS = (
    "topic macro-F1",
    "sentiment macro-recall",
    "sentiment macro-recall (tweeteval)",
    "sentiment macro-recall (corpus.jsonl)",
    "churn_risk recall",
    "churn_risk precision",
    "needs_human recall",
    "needs_human precision",
    "spam recall (corpus.jsonl)",
    "spam precision (corpus.jsonl)",
    "spam recall",
    "spam precision",
)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus" / "care-posts" / "posts.jsonl")
    parser.add_argument("--extra", type=Path, default=None, help="rows from scripts/extra_training_rows.py")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="default")
    parser.add_argument("--fractions", default=None, help="comma-separated shares of the training rows, e.g. 0.5,1")
    parser.add_argument("--ablate-round", type=int, default=None, help="train each fold without and with this round")
    args = parser.parse_args()
    rows = [r for r in T.read_rows(args.corpus) if r.split != "test"]
    if args.extra is not None and args.ablate_round is not None:
        raise SystemExit("--ablate-round reads the corpus alone (no --extra)")
    if args.extra is not None:
        rows += T.read_rows(args.extra)
    base = Classifier.from_policies(REPO / "policies", learned=False)
    inputs = T.featurize(base.for_features(), rows)
    layout = T.Layout.build()
    if args.fractions:
        return learning_curve(layout, inputs, rows, [float(f) for f in args.fractions.split(",")])
    if args.ablate_round is not None:
        from corpus.build import round_of

        return ablate_round(layout, inputs, rows, [round_of(r.id) for r in rows], args.ablate_round)
    print(f"{len(rows)} training rows ({len({r.operator for r in rows})} operators); grid {args.grid}")
    print("| options | " + " | ".join(COLUMNS) + " | seconds |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for change in GRIDS[args.grid]:
        options = replace(T.Options(), **change)  # type: ignore[arg-type]
        start = time.perf_counter()
        xs, _ = T.vectors(inputs, options.min_df, options.word_scale)
        logits = T._oof_logits(layout, xs, rows, options, lambda _: None)
        calibration, oof = T.calibrate(layout, logits, rows, options)
        took = time.perf_counter() - start
        cells = [f"{oof[c]:.3f}" if c in oof else "-" for c in COLUMNS]
        print(f"| {change or 'defaults'} | " + " | ".join(cells) + f" | {took:.0f} |")
        print(f"|   thresholds {calibration['thresholds']} temperature {calibration['temperature']} |")
    return 0


def learning_curve(layout: T.Layout, inputs: list[ModelInput], rows: list[T.Row], fractions: list[float]) -> int:
    options = T.Options()
    xs, _ = T.vectors(inputs, options.min_df, options.word_scale)
    folds = T.operator_folds(rows, options.folds)
    print(f"{len(rows)} training rows ({len({r.operator for r in rows})} operators); learning curve, out of fold")
    print("| share of training rows | rows per fold (mean) | " + " | ".join(COLUMNS[:1] + COLUMNS[4:8]) + " |")
    print("|---" * 7 + "|")
    for share in fractions:
        logits: list[list[float]] = [[] for _ in rows]
        sizes = []
        for k in range(options.folds):
            train_ix = [i for i, f in enumerate(folds) if f != k]
            random.Random(options.seed + k).shuffle(train_ix)
            train_ix = sorted(train_ix[: round(len(train_ix) * share)])
            sizes.append(len(train_ix))
            w = T.train_weights(layout, [xs[i] for i in train_ix], [rows[i] for i in train_ix], options)
            for i, f in enumerate(folds):
                if f == k:
                    logits[i] = w.logits(xs[i])
        _, oof = T.calibrate(layout, logits, rows, options)
        cells = [f"{oof[c]:.3f}" if c in oof else "-" for c in COLUMNS[:1] + COLUMNS[4:8]]
        print(f"| {share:g} | {sum(sizes) // len(sizes)} | " + " | ".join(cells) + " |", flush=True)
    return 0


def ablate_round(layout: T.Layout, inputs: list[ModelInput], rows: list[T.Row], rounds: list[int], ablated: int) -> int:
    options = T.Options()
    xs, _ = T.vectors(inputs, options.min_df, options.word_scale)
    folds = T.operator_folds(rows, options.folds)
    runs: dict[str, list[list[float]]] = {"without": [[] for _ in rows], "with": [[] for _ in rows]}
    for k in range(options.folds):
        train_ix = [i for i, f in enumerate(folds) if f != k]
        for name, ix in (("without", [i for i in train_ix if rounds[i] != ablated]), ("with", train_ix)):
            w = T.train_weights(layout, [xs[i] for i in ix], [rows[i] for i in ix], options)
            for i, f in enumerate(folds):
                if f == k:
                    runs[name][i] = w.logits(xs[i])
    columns = COLUMNS[:2] + COLUMNS[4:8]
    print(f"{len(rows)} training rows; each fold trained without and with round {ablated}, scored out of fold")
    print("| held-out rows | trained | rows | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 3) + "|")
    every = range(len(rows))
    for title, sel in (
        ("all", list(every)),
        (f"not round {ablated}", [i for i in every if rounds[i] != ablated]),
        (f"round {ablated}", [i for i in every if rounds[i] == ablated]),
    ):
        for name, logits in runs.items():
            _, oof = T.calibrate(layout, [logits[i] for i in sel], [rows[i] for i in sel], options)
            cells = [f"{oof[c]:.3f}" if c in oof else "-" for c in columns]
            print(f"| {title} | {name} round {ablated} | {len(sel)} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

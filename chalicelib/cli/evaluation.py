"""Scoring a classifier on labelled rows: per-label precision / recall / F1, as `carewire train` and the bench
print them. Rows are classified through the serving code (`Classifier.classify_text`), never a shortcut."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.classify import Classifier
from chalicelib.cli.training import BINARY, Row
from chalicelib.labels import SENTIMENTS, TOPICS


@dataclass(frozen=True)
class Figures:
    n: int
    values: dict[str, float]
    """metric name -> value (e.g. 'topic macro-F1', 'churn_risk recall')"""
    per_class: dict[str, dict[str, tuple[float, float, float, int]]]
    """label -> class -> (precision, recall, F1, support)"""

    def score(self) -> float:
        """One number to compare two models on the same rows (higher is better)."""
        keys = ("topic macro-F1", "sentiment macro-recall", "churn_risk F1", "needs_human F1", "spam F1")
        found = [self.values[k] for k in keys if k in self.values]
        return sum(found) / len(found) if found else 0.0


def prf(gold: Sequence[Any], pred: Sequence[Any], positive: Any) -> tuple[float, float, float, int]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == positive and p == positive)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != positive and p == positive)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == positive and p != positive)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp + fn


def predict(classifier: Classifier, rows: Sequence[Row]) -> list[dict[str, Any]]:
    gazetteer = classifier.lexicon.gazetteer
    out = []
    for row in rows:
        brand = gazetteer.brand_named(row.operator, row.handle) if gazetteer is not None else None
        c = classifier.classify_text(
            row.text, addressed_to_brand=row.addressed, brand=brand, kind=row.kind, context=row.context or None
        )
        out.append(
            {
                "topic": c.topic,
                "intent": c.intent or "general",
                "sentiment": c.sentiment.label,
                "churn_risk": c.churn_risk,
                "needs_human": c.needs_human["value"],
                "needs_human_p": c.needs_human["p"],
                "addressed_to_brand": c.addressed_to_brand,
                "spam": c.spam,
                "abuse": c.abuse,
            }
        )
    return out


def figures(rows: Sequence[Row], predictions: Sequence[dict[str, Any]]) -> Figures:
    values: dict[str, float] = {}
    per_class: dict[str, dict[str, tuple[float, float, float, int]]] = {}
    for label, classes in (("topic", TOPICS), ("sentiment", SENTIMENTS)):
        pairs = [(r.labels[label], p[label]) for r, p in zip(rows, predictions, strict=True) if label in r.labels]
        if not pairs:
            continue
        gold = [g for g, _ in pairs]
        pred = [p for _, p in pairs]
        table = {c: prf(gold, pred, c) for c in classes}
        per_class[label] = table
        present = [c for c in classes if table[c][3]]
        values[f"{label} macro-F1"] = sum(table[c][2] for c in present) / len(present)
        values[f"{label} macro-recall"] = sum(table[c][1] for c in present) / len(present)
        values[f"{label} accuracy"] = sum(1 for g, p in pairs if g == p) / len(pairs)
    intents = [
        (r.labels["intent"], p["intent"])
        for r, p in zip(rows, predictions, strict=True)
        if "intent" in r.labels and r.labels.get("topic") == p["topic"]
    ]
    if intents:
        values["intent accuracy (topic right)"] = sum(1 for g, p in intents if g == p) / len(intents)
    for label in BINARY:
        pairs = [(r.labels[label], p[label]) for r, p in zip(rows, predictions, strict=True) if label in r.labels]
        if not pairs:
            continue
        precision, recall, f1, support = prf([g for g, _ in pairs], [p for _, p in pairs], True)
        per_class[label] = {"yes": (precision, recall, f1, support)}
        values[f"{label} precision"] = precision
        values[f"{label} recall"] = recall
        values[f"{label} F1"] = f1
    return Figures(len(rows), values, per_class)


OPERATORS_TO_RESAMPLE = 5
"""with at least this many operators in the rows, `score_gap` resamples operators; with fewer, rows"""


@dataclass(frozen=True)
class ScoreGap:
    gap: float
    """new score - current score on the rows as they are"""
    low: float
    high: float
    """the 95% interval of the gap over `draws` resamples"""
    unit: str
    """what was resampled: `operators` (whole operators, the unit a model must generalise over) or `rows`"""
    draws: int

    @property
    def verdict(self) -> str:
        """What the interval says, in words."""
        if self.low > 0:
            return "above 0: better on operators like these"
        if self.high < 0:
            return "below 0: worse on operators like these"
        return "across 0: these rows cannot tell the two apart"


def score_gap(
    rows: Sequence[Row],
    new: Sequence[dict[str, Any]],
    current: Sequence[dict[str, Any]],
    *,
    draws: int = 400,
    seed: int = 0,
) -> ScoreGap:
    """How far the new model's score is from the current one's on the same rows, and how much of that a different
    draw of operators like these could move: a paired bootstrap (both models scored on each resample), so a
    reviewer can tell a real gain or loss from the noise of a small held-out set. Deterministic for a seed."""
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.operator, []).append(i)
    unit = "operators" if len(groups) >= OPERATORS_TO_RESAMPLE else "rows"
    clusters = [groups[op] for op in sorted(groups)] if unit == "operators" else [[i] for i in range(len(rows))]
    rng = random.Random(seed)
    gaps = []
    for _ in range(draws):
        ix = [i for _ in clusters for i in rng.choice(clusters)]
        sample = [rows[i] for i in ix]
        gaps.append(figures(sample, [new[i] for i in ix]).score() - figures(sample, [current[i] for i in ix]).score())
    gaps.sort()
    point = figures(rows, new).score() - figures(rows, current).score()
    return ScoreGap(point, gaps[int(0.025 * draws)], gaps[max(0, int(0.975 * draws) - 1)], unit, draws)


def recall_at_precision(probs: Sequence[float], gold: Sequence[bool], min_precision: float) -> tuple[float, float]:
    """(best recall among cuts with precision >= min_precision, that cut); (0, 1) when none reaches it."""
    pairs = sorted(zip(probs, gold, strict=True), key=lambda p: -p[0])
    total = sum(1 for g in gold if g)
    tp = fp = 0
    best = (0.0, 1.0)
    for i, (p, g) in enumerate(pairs):
        tp += g
        fp += not g
        if i + 1 < len(pairs) and pairs[i + 1][0] == p:
            continue
        if tp / (tp + fp) >= min_precision and total and tp / total > best[0]:
            best = (tp / total, p)
    return best


def table(figs: Figures) -> list[str]:
    lines = [f"  rows: {figs.n}"]
    for name, value in figs.values.items():
        lines.append(f"  {name:<34} {value:.3f}")
    for label in ("topic", "sentiment"):
        for cls, (p, r, f, n) in figs.per_class.get(label, {}).items():
            lines.append(f"  {label + ' ' + cls:<34} P {p:.2f}  R {r:.2f}  F1 {f:.2f}  n={n}")
    return lines

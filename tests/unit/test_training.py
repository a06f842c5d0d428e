"""Training the care model: deterministic, never on held-out rows, and what it writes is what inference reads."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chalicelib.classify import Classifier
from chalicelib.cli import training as T
from chalicelib.cli.evaluation import figures, predict, score_gap
from chalicelib.labels import TOPICS

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "classify" / "care_corpus_sample.jsonl"
FAST = T.Options(folds=3, epochs=3)


@pytest.fixture(scope="module")
def base() -> Classifier:
    return Classifier.from_policies(POLICIES, learned=False)


@pytest.fixture(scope="module")
def rows() -> list[T.Row]:
    return T.read_rows(SAMPLE)


def _train(base: Classifier, rows: list[T.Row]) -> T.Trained:
    return T.train(base, [r for r in rows if r.split != "test"], FAST, {"data": "sample"}, log=lambda _: None)


def test_the_same_rows_give_the_same_file_byte_for_byte(base: Classifier, rows: list[T.Row]) -> None:
    first = T.dumps(_train(base, rows).doc)
    again = T.dumps(_train(Classifier.from_policies(POLICIES, learned=False), T.read_rows(SAMPLE)).doc)
    assert first == again
    assert json.loads(first)["version"].startswith("care-")
    # it says what inputs it was trained on, so a classifier builds the same for it
    from chalicelib.classify.features import FEATURES

    assert json.loads(first)["features"] == FEATURES == T.model_from_doc(json.loads(first)).features


def test_inference_reads_the_features_training_wrote(base: Classifier, rows: list[T.Row]) -> None:
    """The quantised model's logits at serving time equal the trained weights' logits on the training encoding."""
    trained = _train(base, rows)
    model = T.model_from_doc(trained.doc)
    inputs = T.featurize(base.for_features(), rows)
    xs, dense_ids = T.vectors(inputs, 1, FAST.word_scale)
    step = model.step
    names = {i: n for n, i in dense_ids.items()}
    for x, encoded in zip(inputs, xs, strict=True):
        served = model.logits(x)
        # the same sum from the stored integers, feature by feature
        hashed = [0.0] * model.dims
        for f, v in encoded.hashed:
            packed = model.hashed.get(f)
            if packed is not None:
                flat = [int(p) for p in packed.split(",")]
                for j in range(0, len(flat), 2):
                    hashed[flat[j]] += flat[j + 1] * step * v
        expected = [b + encoded.scale * h for b, h in zip(model.bias, hashed, strict=True)]
        for f, v in encoded.dense:
            for i, w in model.dense.get(names[f], {}).items():
                expected[i] += w * v
        assert served == pytest.approx(expected, abs=1e-9)
        n_keys = sum(v for _, v in encoded.hashed)
        assert encoded.scale == pytest.approx(FAST.word_scale * (1 / n_keys**0.5 if n_keys else 1.0))


def test_held_out_rows_are_never_trained_on(base: Classifier, rows: list[T.Row]) -> None:
    scrambled = [
        r if r.split != "test" else replace(r, text="lorem ipsum " + r.text[::-1], labels={"topic": "praise"})
        for r in rows
    ]
    assert T.dumps(_train(base, rows).doc) == T.dumps(_train(base, scrambled).doc)


def test_partial_labels_train_only_their_heads(base: Classifier, rows: list[T.Row]) -> None:
    sentiment_only = [replace(r, labels={"sentiment": r.labels["sentiment"]}) for r in rows if r.split != "test"]
    trained = T.train(base, sentiment_only, FAST, {}, log=lambda _: None)
    model = T.model_from_doc(trained.doc)
    topic = model.heads["topic"]
    assert all(q == 0 for q in trained.doc["bias"][topic.start : topic.end])
    assert "topic" not in trained.doc["temperature"] and "sentiment" in trained.doc["temperature"]


def test_the_trained_model_scores_its_training_rows(base: Classifier, rows: list[T.Row]) -> None:
    train_rows = [r for r in rows if r.split != "test"]
    learned = base.with_model(T.model_from_doc(_train(base, rows).doc))
    figs = figures(train_rows, predict(learned, train_rows))
    assert figs.values["topic accuracy"] > 0.8
    assert figs.values["sentiment macro-recall"] > 0.8


def test_a_bad_row_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "ok", "labels": {"topic": "other"}}\n{"labels": {}}\n', encoding="utf-8")
    with pytest.raises(T.TrainingError, match=r"rows.jsonl:2"):
        T.read_rows(path)


def test_labels_may_sit_at_top_level_and_unknown_values_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    line = {"text": "no signal", "topic": "outage", "intent": "no_service", "sentiment": "meh", "needs_human": 1}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    [row] = T.read_rows(path)
    assert row.labels == {"topic": "outage", "intent": "no_service", "needs_human": True}


def test_thresholds_give_the_most_recall_at_the_precision_asked() -> None:
    probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    gold = [True, True, False, True, False, False]
    assert T.pick_threshold(probs, gold, 0.75) == 0.6  # 3 of 4 above 0.6 are right
    assert T.pick_threshold(probs, gold, 1.0) == 0.8


def test_a_cut_for_a_rarer_prevalence_is_stricter() -> None:
    """Half the rows are positive here; where only a fifth of posts are, each false alarm weighs 4 times as much
    against a hit: 3 right and 1 wrong above 0.6 is 3 / (3 + 4) = 0.43 precision, so 0.75 needs the cut at 0.8."""
    probs = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    gold = [True, True, False, True, False, False]
    assert T.prior_weights(3, 6, 0.2) == pytest.approx((0.4, 1.6))
    assert T.pick_threshold(probs, gold, 0.75, prevalence=0.2) == 0.8
    assert T.pick_threshold(probs, gold, 0.75, prevalence=0.5) == 0.6  # the rows' own share: as unweighted
    assert T.prior_weights(0, 6, 0.2) == (1.0, 1.0)  # nothing to weigh


def test_prior_offsets_move_the_mean_probabilities_to_the_prior_asked() -> None:
    """Two rows read 50/50 embody a prior of 50/50; to move it to 80/20 each class's probability is multiplied by
    real / implied (1.6 and 0.4), which with a temperature T is an offset of T * log(ratio) on the logits."""
    for t in (1.0, 2.0):
        offsets = T.prior_offsets([[0.0, 0.0], [1.0, 1.0]], t, [0.8, 0.2])
        assert offsets == pytest.approx([t * math.log(1.6), t * math.log(0.4)])
        e = [math.exp(o / t) for o in offsets]
        assert [v / sum(e) for v in e] == pytest.approx([0.8, 0.2])
    assert T.prior_offsets([[0.0, 0.0]], 1.0, [1.0, 0.0]) == [0.0, 0.0]  # a class with no share: no shift
    assert T.prior_offsets([], 1.0, [0.5, 0.5]) == [0.0, 0.0]


def test_rows_can_be_weighted_to_other_class_shares() -> None:
    """Three rows of class 0 and one of class 1 weighted to 50/50: each class-0 row counts 2/3, the class-1 row 2;
    a macro-F1 with those weights counts the one class-1 miss as much as the three class-0 hits."""
    weights = T.prevalence_weights([3, 1], [0.5, 0.5])
    assert weights == pytest.approx([2 / 3, 2.0])
    gold, zs = [0, 0, 0, 1], [[1.0, 0.0]] * 4  # everything read as class 0
    assert T._macro(gold, zs, 2)[0] == pytest.approx((6 / 7 + 0.0) / 2)
    assert T._macro(gold, zs, 2, weights)[0] == pytest.approx((2 * 2 / (2 * 2 + 2) + 0.0) / 2)


def test_churn_is_calibrated_for_what_the_classifier_delivers() -> None:
    """A post the topic head reads as a cancellation is reported as churn risk whatever the churn head says, so the
    churn cut is chosen on the head's yes or that reading: here two posts read as cancellations are not churn, and
    the cut must rise to keep the delivered precision at the floor (0.5 here)."""
    layout = T.Layout.build()
    topic, churn = layout.head("topic"), layout.head("churn")
    cancel = topic["start"] + TOPICS.index("cancellation")

    def z(churn_logit: float, cancellation: bool = False) -> list[float]:
        out = [0.0] * layout.dims
        out[cancel if cancellation else topic["start"] + TOPICS.index("outage")] = 5.0
        out[churn["start"]] = churn_logit
        return out

    logits = [z(3.0), z(2.0), z(1.0), z(0.0), z(-1.0), z(-2.0), z(-3.0, True), z(-3.0, True)]
    gold = [True, True, False, True, False, False, False, False]
    rows = [T.Row(str(i), "x", "op", "@op", "mention", True, {"churn_risk": g}) for i, g in enumerate(gold)]
    read = T._read_as_cancellation(layout, logits, None)
    assert read == {6, 7}
    # with an offset that makes cancellation unlikely, nothing is read as a cancellation
    assert T._read_as_cancellation(layout, logits, [-10.0 if c == "cancellation" else 0.0 for c in TOPICS]) == set()
    options = T.Options(prevalence={}, churn_precision=0.5)
    found: tuple[dict[str, list[float]], dict[str, float], dict[str, object]] = ({}, {}, {})
    ix = list(range(len(rows)))
    T._binary_head("churn_risk", layout, logits, rows, (ix, ix), options, {"churn_risk": 0.5}, found, frozenset())
    alone = found[1]["churn"]
    T._binary_head("churn_risk", layout, logits, rows, (ix, ix), options, {"churn_risk": 0.5}, found, read)
    delivered = found[1]["churn"]
    # alone, 3 of 6 above the churn logit -2 hold 0.5; with the two cancellations always in, the cut must rise
    assert delivered > alone
    a, b = found[0]["churn"]
    said = [i in read or 1 / (1 + math.exp(-(a * z[churn["start"]] + b))) >= delivered for i, z in enumerate(logits)]
    tp = sum(1 for s_, g in zip(said, gold, strict=True) if s_ and g)
    fp = sum(1 for s_, g in zip(said, gold, strict=True) if s_ and not g)
    assert found[2]["churn_risk precision"] == round(tp / (tp + fp), 4)  # the figures count the forced rows
    assert fp >= 2


def test_platt_scaling_orders_and_calibrates() -> None:
    scores = [-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0]
    gold = [False, False, False, True, False, True, True, True]
    a, b = T.fit_platt(scores, gold)
    assert a > 0
    assert T._sigmoid(a * 3 + b) > 0.8
    assert T._sigmoid(a * -3 + b) < 0.2


def test_folds_keep_each_operator_whole(rows: list[T.Row]) -> None:
    folds = T.operator_folds(rows, 3)
    by_operator: dict[str, set[int]] = {}
    for r, f in zip(rows, folds, strict=True):
        by_operator.setdefault(r.operator, set()).add(f)
    assert all(len(f) == 1 for f in by_operator.values())
    assert len(set(folds)) == 3


def test_the_needs_human_cut_is_chosen_for_what_the_pack_escalates() -> None:
    """Posts showing churn risk are escalated whatever needs_human says, so the needs_human cut can go lower while
    what the pack escalates keeps the precision asked; spam is hidden before any escalation."""
    layout = T.Layout.build()
    nh, churn, spam = (layout.head(h)["start"] for h in ("needs_human", "churn", "spam"))
    topic_other = layout.head("topic")["start"] + list(TOPICS).index("other")

    def logit(p_nh: float, churn_risk: bool = False, is_spam: bool = False) -> list[float]:
        z = [0.0] * layout.dims
        z[topic_other] = 5.0
        z[nh] = math.log(p_nh / (1 - p_nh))
        z[churn] = 5.0 if churn_risk else -5.0
        z[spam] = 5.0 if is_spam else -5.0
        return z

    cases = [(0.9, True, False, False)] * 6 + [(0.2, True, True, False)] * 6  # churn: escalated anyway
    cases += [(0.6, True, False, False), (0.55, False, False, False), (0.5, True, False, False)]
    cases += [(0.4, False, False, False), (0.3, True, False, False)] + [(0.1, False, False, False)] * 3
    cases += [(0.95, False, False, True)] * 3  # spam: hidden, never escalated
    rows = [T.Row(str(i), "x", f"op{i}", "", "mention", True, {"needs_human": c[1]}) for i, c in enumerate(cases)]
    logits = [logit(p, c, s) for p, _, c, s in cases]
    thresholds = {"needs_human": 0.59, "churn": 0.5, "spam": 0.5}
    platt = {"needs_human": [1.0, 0.0], "churn": [1.0, 0.0], "spam": [1.0, 0.0]}
    oof: dict[str, float] = {}
    options = T.Options(escalation_precision=0.8, escalation_recall=0.9, prevalence={})
    T._escalation_threshold(layout, logits, rows, options, platt, thresholds, oof)
    # at 0.3: 17 escalated, 15 right (precision 0.88, recall 1.0: 0.08 and 0.10 above the floors); at 0.5: 15
    # escalated, 14 right (0.93, 0.93: 0.13 and 0.03); at 0.1: precision 0.75. The head alone (0.59) would
    # escalate 12 + 1 and miss 2
    assert thresholds["needs_human"] == 0.3
    assert oof["escalation precision"] == round(15 / 17, 4)
    assert oof["escalation recall"] == 1.0
    # where a person is needed by 52.6% of posts, not the 65% here, each false alarm weighs 1.36 against 0.81 for a
    # hit: at 0.3 precision is 0.816 (0.016 above its floor), at 0.5 it is 0.892 with recall 0.933 (0.033): 0.5
    weighted = T.Options(escalation_precision=0.8, escalation_recall=0.9, prevalence={"needs_human": 0.526})
    T._escalation_threshold(layout, logits, rows, weighted, platt, thresholds, oof)
    assert thresholds["needs_human"] == 0.5
    assert oof["escalation precision at prevalence 0.526"] == 0.8923
    assert oof["escalation recall"] == round(14 / 15, 4)


def _gap_rows(operators: int, per_operator: int) -> tuple[list[T.Row], list[dict[str, Any]]]:
    """Rows with every label, and predictions that match them (a perfect model)."""
    rows: list[T.Row] = []
    right: list[dict[str, Any]] = []
    for op in range(operators):
        for i in range(per_operator):
            topic = TOPICS[(op + i) % len(TOPICS)]
            labels = {
                "topic": topic,
                "intent": "general",
                "sentiment": ("negative", "neutral", "positive")[i % 3],
                "churn_risk": i % 4 == 0,
                "needs_human": i % 2 == 0,
                "spam": i % 9 == 0,
            }
            rows.append(T.Row(f"{op}-{i}", "text", f"op{op}", "", "mention", True, labels, "test"))
            right.append({**labels, "needs_human_p": 0.5, "addressed_to_brand": True, "abuse": False})
    return rows, right


def test_the_score_gap_says_whether_held_out_rows_can_tell_two_models_apart() -> None:
    rows, right = _gap_rows(operators=8, per_operator=24)
    same = score_gap(rows, right, right)
    assert same.unit == "operators"
    assert (same.gap, same.low, same.high) == (0.0, 0.0, 0.0)
    assert same.verdict.startswith("across 0")

    # wrong on every needs_human of one operator: the loss is real on that operator, so it depends on whether the
    # draw picks it — the interval reaches 0 (draws without it) and the point estimate is below
    one_bad = [
        {**p, "needs_human": not p["needs_human"]} if r.operator == "op3" else p
        for r, p in zip(rows, right, strict=True)
    ]
    local = score_gap(rows, one_bad, right)
    assert local.gap < 0
    assert local.low < local.gap < local.high == 0.0
    assert local.verdict.startswith("across 0")

    # wrong on needs_human everywhere: every draw sees the loss
    all_bad = [{**p, "needs_human": not p["needs_human"]} for p in right]
    everywhere = score_gap(rows, all_bad, right)
    assert everywhere.high < 0
    assert everywhere.verdict.startswith("below 0")
    assert score_gap(rows, right, all_bad).verdict.startswith("above 0")
    assert score_gap(rows, all_bad, right) == everywhere  # deterministic

    few, few_right = _gap_rows(operators=2, per_operator=30)
    assert score_gap(few, few_right, few_right).unit == "rows"

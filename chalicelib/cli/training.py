"""Training the care model (`carewire train`): deterministic, pure Python, byte-for-byte reproducible.

Labelled JSONL rows (the shipped corpus, an operator's own labelled history, exported agent corrections) →
`ModelInput` through the same classifier code that serves posts → multinomial logistic regression heads trained
by plain SGD in a fixed order (a seeded shuffle per epoch) → temperature / Platt calibration and thresholds chosen
on out-of-fold predictions (folds by operator, so every choice is made on operators the fold never saw) → integer
weights, sparse, sorted, written with sorted keys. Rows whose `split` is `test` are never trained on; they are
only scored.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import zlib
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import add
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib.classify import Classifier
from chalicelib.classify.features import FEATURES, ModelInput, bucket, word_keys
from chalicelib.classify.learned import FORMAT, CareModel
from chalicelib.json_input import JsonRejected, text_objects
from chalicelib.labels import INTENTS, SENTIMENTS, TOPICS

BINARY = ("churn_risk", "needs_human", "spam", "abuse", "addressed_to_brand")
HEAD_OF = {
    "churn_risk": "churn",
    "needs_human": "needs_human",
    "spam": "spam",
    "abuse": "abuse",
    "addressed_to_brand": "addressed",
}
EXTRA_BINARY = ("care",)
"""yes/no labels of companion models (the care-vs-general domain head of `general_model.json`)"""
LABEL_OF = {**{head: label for label, head in HEAD_OF.items()}, "care": "care"}
"""head -> the row label it learns"""
CHANNEL_KINDS = {
    "x_dm": "dm",
    "messenger": "dm",
    "whatsapp": "dm",
    "x_reply": "reply",
    "forum": "comment",
    "fb_comment": "comment",
    "ig_comment": "comment",
    "x_mention": "mention",
}


class TrainingError(ValueError):
    """Training data or options that cannot produce a model; the message says which row or option."""


REAL_PREVALENCE = {"churn_risk": 0.057, "needs_human": 0.526}
"""The shares in round 1 of the corpus (its train rows), the round written in realistic proportions ("complaints
dominate, as in real care traffic"). Later rounds leaned: rounds 2, 4 and 6 toward leaving (11.5-12.6% churn), rounds
2-4, 6, 7 and 15 toward posts that need a person (58-74%); all train rows after round 16: 8.1% and 60.1%."""

REAL_TOPIC_PREVALENCE = {
    "outage": 0.272,
    "billing": 0.179,
    "other": 0.146,
    "account": 0.125,
    "praise": 0.096,
    "device": 0.066,
    "service_complaint": 0.066,
    "cancellation": 0.050,
}
"""The topics' shares in round 1's train rows, for the same reason. Later rounds leaned toward devices, leaving and
posts that are none of the core problems, so the train rows after round 16 hold fewer outages (21% against 27%)
and bills (13% against 18%) and more `other` (22% against 15%) and cancellations (7.0% against 5.0%)."""


@dataclass(frozen=True)
class Options:
    epochs: int = 6
    rate: float = 0.2
    l2: float = 0.0
    """weight decay per epoch"""
    seed: int = 20261130
    folds: int = 5
    min_df: int = 3
    """hashed features seen in fewer training posts are dropped. 3, not 2, since corpus round 5: out of fold the
    same topic, churn, needs_human and escalation figures (sentiment -0.001, spam recall -0.007), and a weights file
    of 6.7 MB instead of 8.0 (70k rows instead of 95k), which the cold start pays for"""
    step: float = 0.001
    """quantisation step of stored weights"""
    prune: int = 8
    """stored weights with |w| < prune * step are dropped"""
    word_scale: float = 3.0
    """the hashed block (words, n-grams, pairs) of a post is scaled to this norm: 1/sqrt(keys) times word_scale"""
    balance: float = 0.5
    """class weights (n / (k * n_class)) ** balance for softmax heads (0 = none, 1 = fully balanced)"""
    needs_human_precision: float = 0.82
    """the needs_human head's own precision floor (used when `escalation_precision` is 0)"""
    escalation_precision: float = 0.80
    escalation_recall: float = 0.90
    """the product's floors for what the default pack escalates — needs_human, churn risk or a cancellation, never
    spam — on operators never seen. The needs_human cut is the one that keeps the escalations furthest above both
    out of fold: the largest min(precision - escalation_precision, recall - escalation_recall), so neither floor is
    met by spending all of the other's margin (escalation_precision 0: the head's own floor above instead)."""
    churn_precision: float = 0.65
    prevalence: Mapping[str, float] = field(default_factory=lambda: dict(REAL_PREVALENCE))
    """label -> the share of posts with that label in the traffic the head's cut is for (a label not here: the
    training rows' own share). Precision at a cut falls with the share of positives, and the corpus's later rounds
    leaned on purpose toward what the model read worst (leaving, care complaints, devices...): a cut chosen for its
    precision at the corpus's own share holds it on the corpus but not on real traffic. So these heads are
    calibrated to this prior (Platt's intercept moves by the odds ratio) and their cuts keep their precision at it
    (the needs_human cut: what the default pack escalates)."""
    topic_prevalence: Mapping[str, float] = field(default_factory=lambda: dict(REAL_TOPIC_PREVALENCE))
    """topic -> its share in the traffic the topic head is for (empty: no shift). The topic head's calibrated
    probabilities are moved from the prior they embody on the training rows (their mean out of fold) to this one
    (Saerens et al. 2002): p(k|x) times real_k / implied_k, renormalised — a fixed offset per class, stored as
    `priors` in the model and added to the logits before the temperature divides them."""
    spam_precision: float = 0.9

    def as_meta(self) -> dict[str, Any]:
        return {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.__dict__.items()}


@dataclass
class Row:
    id: str
    text: str
    operator: str
    handle: str
    kind: str
    addressed: bool
    labels: dict[str, Any]
    split: str = "train"
    source: str = ""
    context: str = ""
    """the message this post replies to, when the data has it"""
    general: bool = False
    """not a care post (public tweets, SMS, comments): teaches the heads it has labels for, never calibrates"""


@dataclass
class Layout:
    """Where each head's logits sit in the one output vector."""

    heads: list[dict[str, Any]] = field(default_factory=list)
    dims: int = 0

    @classmethod
    def build(cls) -> Layout:
        layout = cls()
        layout.heads.append({"name": "topic", "start": 0, "classes": list(TOPICS)})
        start = len(TOPICS)
        layout.heads.append({"name": "sentiment", "start": start, "classes": list(SENTIMENTS)})
        start += len(SENTIMENTS)
        for label in BINARY:
            layout.heads.append({"name": HEAD_OF[label], "start": start, "classes": ["yes"]})
            start += 1
        layout.dims = start
        return layout

    def head(self, name: str) -> dict[str, Any]:
        return next(h for h in self.heads if h["name"] == name)


# ---------------------------------------------------------------------------------------------------- rows


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    return None


def read_rows(path: Path, *, source: str | None = None) -> list[Row]:
    """Labelled posts from JSONL: labels under `labels` or at top level; any label may be missing."""
    rows: list[Row] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TrainingError(f"{path}: {exc}") from exc
    try:
        docs = list(text_objects(lines))
    except JsonRejected as exc:
        raise TrainingError(f"{path}:{exc}") from None
    for number, doc in docs:
        nested = doc.get("labels")
        raw: dict[str, Any] = nested if isinstance(nested, dict) else doc
        labels: dict[str, Any] = {}
        if raw.get("topic") in TOPICS:
            labels["topic"] = raw["topic"]
            intent = raw.get("intent")
            if intent in INTENTS[raw["topic"]]:
                labels["intent"] = intent
        if raw.get("sentiment") in SENTIMENTS:
            labels["sentiment"] = raw["sentiment"]
        for name in BINARY:
            value = _bool(raw.get(name))
            if value is not None:
                labels[name] = value
        channel = str(doc.get("channel") or "")
        kind = CHANNEL_KINDS.get(channel) or str(doc.get("kind") or "mention")
        text = doc["text"]
        handle = str(doc.get("brand_handle") or "")
        # Every channel in the corpus reaches the brand (a DM, a reply in its thread, a comment on its page, a
        # mention of its handle): the platform calls each of them addressed; the label may still say no.
        addressed = kind != "post"
        rows.append(
            Row(
                id=str(doc.get("id") or f"{path.name}:{number}"),
                text=text,
                operator=str(doc.get("operator") or ""),
                handle=handle,
                kind=kind,
                addressed=addressed,
                labels=labels,
                split=str(doc.get("split") or ""),
                source=source or str(doc.get("source") or "") or path.name,
                general=doc.get("domain") == "general",
                context=str(doc.get("context") or ""),
            )
        )
    return rows


def featurize(classifier: Classifier, rows: Sequence[Row]) -> list[ModelInput]:
    gazetteer = classifier.lexicon.gazetteer
    out = []
    for row in rows:
        brand = gazetteer.brand_named(row.operator, row.handle) if gazetteer is not None else classifier.default_brand
        out.append(
            classifier.model_input(
                row.text, brand=brand, kind=row.kind, addressed=row.addressed, context=row.context or None
            )
        )
    return out


# ---------------------------------------------------------------------------------------------------- vectors

DENSE_BASE = 1 << 20


class Encoded(NamedTuple):
    """One row as training sees it: z = bias + dense . W + scale * (hashed . W), as inference sums it."""

    hashed: list[tuple[int, float]]
    """bucket, how many of the post's hashed keys fall in it"""
    dense: list[tuple[int, float]]
    """named feature id, value"""
    scale: float


def encode(x: ModelInput, dense_ids: Mapping[str, int]) -> Encoded:
    """Feature ids and values, as inference sums them: each hashed key adds its bucket's row once."""
    acc: dict[int, float] = {}
    for w in x.words:
        for key in word_keys(w):
            b = bucket(key)
            acc[b] = acc.get(b, 0.0) + 1.0
    for key in x.pairs:
        b = bucket(key)
        acc[b] = acc.get(b, 0.0) + 1.0
    dense: dict[int, float] = {}
    for name, value in x.dense:
        fid = dense_ids.get(name)
        if fid is not None and value:
            dense[fid] = dense.get(fid, 0.0) + value
    return Encoded(sorted(acc.items()), sorted(dense.items()), x.scale)


def vectors(inputs: Sequence[ModelInput], min_df: int, word_scale: float = 1.0) -> tuple[list[Encoded], dict[str, int]]:
    names = sorted({name for x in inputs for name, _ in x.dense})
    dense_ids = {name: DENSE_BASE + i for i, name in enumerate(names)}
    encoded = [encode(x, dense_ids) for x in inputs]
    df: dict[int, int] = {}
    for e in encoded:
        for f, _ in e.hashed:
            df[f] = df.get(f, 0) + 1
    kept = [Encoded([(f, v) for f, v in e.hashed if df[f] >= min_df], e.dense, e.scale * word_scale) for e in encoded]
    return kept, dense_ids


# ---------------------------------------------------------------------------------------------------- SGD


@dataclass
class Weights:
    bias: list[float]
    rows: dict[int, list[float]]

    def logits(self, e: Encoded) -> list[float]:
        rows = self.rows
        zh: list[float] | None = None
        for f, v in e.hashed:
            r = rows.get(f)
            if r is None:
                continue
            if zh is None:
                zh = r if v == 1.0 else [v * b for b in r]
            else:
                zh = list(map(add, zh, r)) if v == 1.0 else [a + v * b for a, b in zip(zh, r, strict=True)]
        z = self.bias
        for f, v in e.dense:
            r = rows.get(f)
            if r is not None:
                z = list(map(add, z, r)) if v == 1.0 else [a + v * b for a, b in zip(z, r, strict=True)]
        if zh is None:
            return list(z)
        s = e.scale
        return [a + s * b for a, b in zip(z, zh, strict=True)]


def _softmax(z: Sequence[float]) -> list[float]:
    m = max(z)
    e = [math.exp(v - m) for v in z]
    t = sum(e)
    return [v / t for v in e]


def _sigmoid(z: float) -> float:
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def class_weights(rows: Sequence[Row], balance: float) -> dict[str, dict[Any, float]]:
    out: dict[str, dict[Any, float]] = {}
    labels = (("topic", TOPICS), ("sentiment", SENTIMENTS), *((b, (True, False)) for b in (*BINARY, *EXTRA_BINARY)))
    for name, classes in labels:
        counts = {c: sum(1 for r in rows if r.labels.get(name) == c) for c in classes}
        n = sum(counts.values())
        k = sum(1 for c in counts.values() if c)
        out[name] = {c: ((n / (k * m)) ** balance if m else 0.0) for c, m in counts.items()}
    return out


def residual(
    layout: Layout, z: Sequence[float], labels: Mapping[str, Any], cw: Mapping[str, Mapping[Any, float]]
) -> list[float]:
    """d(loss)/d(logits) for one row: zero for heads the row has no label for."""
    g = [0.0] * layout.dims
    for h in layout.heads:
        name = h["name"]
        classes = h["classes"]
        s = h["start"]
        if len(classes) > 1:
            gold_class = labels.get(name)
            if gold_class is None:
                continue
            p = _softmax(z[s : s + len(classes)])
            w = cw[name][gold_class]
            gold = classes.index(gold_class)
            for j, pj in enumerate(p):
                g[s + j] = w * (pj - (1.0 if j == gold else 0.0))
            continue
        label = LABEL_OF[name]
        value = labels.get(label)
        if value is not None:
            g[s] = cw[label][value] * (_sigmoid(z[s]) - (1.0 if value else 0.0))
    return g


def _add_step(rows_w: dict[int, list[float]], features: list[tuple[int, float]], step: list[float]) -> None:
    for f, v in features:
        r = rows_w.get(f)
        if r is None:
            rows_w[f] = step if v == 1.0 else [v * s for s in step]
        elif v == 1.0:
            rows_w[f] = list(map(add, r, step))
        else:
            rows_w[f] = [a + v * s for a, s in zip(r, step, strict=True)]


def train_weights(layout: Layout, xs: Sequence[Encoded], rows: Sequence[Row], options: Options) -> Weights:
    cw = class_weights(rows, options.balance)
    weights = Weights([0.0] * layout.dims, {})
    rows_w = weights.rows
    order = list(range(len(xs)))
    for epoch in range(options.epochs):
        random.Random(options.seed + epoch).shuffle(order)
        rate = options.rate / (1.0 + epoch)
        for i in order:
            x = xs[i]
            z = weights.logits(x)
            g = residual(layout, z, rows[i].labels, cw)
            step = [-rate * v for v in g]
            weights.bias = list(map(add, weights.bias, step))
            _add_step(rows_w, x.dense, step)
            _add_step(rows_w, x.hashed, [x.scale * v for v in step])
        if options.l2:  # weight decay once per epoch (keeps the updates above pure C-speed additions)
            decay = 1.0 - options.l2
            for f, r in rows_w.items():
                rows_w[f] = [a * decay for a in r]
    return weights


def train_intents(
    inputs: Sequence[ModelInput], xs: Sequence[Encoded], rows: Sequence[Row], options: Options
) -> dict[str, Weights]:
    """One softmax per topic over its intents, from the words (no character n-grams) and the named features of
    the rows labelled with that topic; each row touches only its own topic's few classes."""
    out: dict[str, Weights] = {}
    for topic in TOPICS:
        classes = INTENTS[topic]
        ix = [i for i, r in enumerate(rows) if r.labels.get("topic") == topic and "intent" in r.labels]
        if len(classes) < 2 or not ix:
            continue
        feats = {i: intent_features(inputs[i], xs[i]) for i in ix}
        weights = Weights([0.0] * len(classes), {})
        rows_w = weights.rows
        order = list(ix)
        for epoch in range(options.epochs):
            random.Random(options.seed + epoch).shuffle(order)
            rate = options.rate / (1.0 + epoch)
            for i in order:
                x = feats[i]
                p = _softmax(weights.logits(x))
                gold = classes.index(rows[i].labels["intent"])
                step = [-rate * (pj - (1.0 if j == gold else 0.0)) for j, pj in enumerate(p)]
                weights.bias = list(map(add, weights.bias, step))
                _add_step(rows_w, x.dense, step)
                _add_step(rows_w, x.hashed, step)
        out[topic] = weights
    return out


def intent_features(x: ModelInput, encoded: Encoded) -> Encoded:
    """What the intent heads read: the post's word unigrams (once each, unscaled) and its named features."""
    kept = {f for f, _ in encoded.hashed}
    unigrams = sorted({b for b in (bucket("w:" + w) for w in x.words) if b in kept})
    return Encoded([(b, 1.0) for b in unigrams], encoded.dense, 1.0)


# ---------------------------------------------------------------------------------------------------- folds


def operator_folds(rows: Sequence[Row], k: int) -> list[int]:
    """Fold of each row: operators (largest first, ties by name) go to the currently smallest fold."""
    sizes: dict[str, int] = {}
    for r in rows:
        sizes[r.operator] = sizes.get(r.operator, 0) + 1
    fold_of: dict[str, int] = {}
    totals = [0] * k
    for op in sorted(sizes, key=lambda o: (-sizes[o], zlib.crc32(o.encode()))):
        j = min(range(k), key=lambda i: (totals[i], i))
        fold_of[op] = j
        totals[j] += sizes[op]
    return [fold_of[r.operator] for r in rows]


# ---------------------------------------------------------------------------------------------------- calibration


def fit_temperature(logits: Sequence[Sequence[float]], gold: Sequence[int]) -> float:
    best_t, best_nll = 1.0, math.inf
    for i in range(10, 401, 5):
        t = i / 100
        nll = 0.0
        for z, y in zip(logits, gold, strict=True):
            m = max(z)
            lse = m / t + math.log(sum(math.exp((v - m) / t) for v in z))
            nll += lse - z[y] / t
        if nll < best_nll - 1e-12:
            best_t, best_nll = t, nll
    return best_t


def fit_platt(scores: Sequence[float], gold: Sequence[bool]) -> tuple[float, float]:
    """sigmoid(a * z + b) by Newton's method on the log-loss (Platt 1999, with his label smoothing)."""
    pos = sum(1 for y in gold if y)
    neg = len(gold) - pos
    if not pos or not neg:
        return 1.0, 0.0
    hi, lo = (pos + 1) / (pos + 2), 1 / (neg + 2)
    t = [hi if y else lo for y in gold]
    a, b = 1.0, 0.0
    for _ in range(50):
        ga = gb = haa = hab = hbb = 0.0
        for z, ti in zip(scores, t, strict=True):
            p = _sigmoid(a * z + b)
            d = p - ti
            w = max(p * (1 - p), 1e-12)
            ga += d * z
            gb += d
            haa += w * z * z
            hab += w * z
            hbb += w
        det = haa * hbb - hab * hab
        if abs(det) < 1e-18:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-9 and abs(db) < 1e-9:
            break
    return a, b


def pick_threshold(
    probs: Sequence[float], gold: Sequence[bool], min_precision: float, prevalence: float = 0.0
) -> float:
    """The lowest cut whose precision is at least `min_precision` (most recall); else the best-F1 cut.
    `prevalence` (0 < p < 1): precision as it would be where that share of posts is positive (`prior_weights`)."""
    pairs = sorted(zip(probs, gold, strict=True), key=lambda p: -p[0])
    total = sum(1 for g in gold if g)
    w_pos, w_neg = prior_weights(total, len(gold), prevalence)
    tp = fp = 0
    best_cut, best_f1, chosen = 0.5, -1.0, None
    for i, (p, g) in enumerate(pairs):
        tp += g
        fp += not g
        if i + 1 < len(pairs) and pairs[i + 1][0] == p:
            continue
        precision = weighted_precision(tp, fp, w_pos, w_neg)
        recall = tp / total if total else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best_f1:
            best_f1, best_cut = f1, p
        if precision >= min_precision:
            chosen = p
    cut = chosen if chosen is not None else best_cut
    return round(min(0.99, max(0.01, cut)), 4)


def weighted_precision(tp: int, fp: int, w_pos: float = 1.0, w_neg: float = 1.0) -> float:
    """tp / (tp + fp) with each hit weighing `w_pos` and each false alarm `w_neg` (`prior_weights`); 0 for none."""
    return w_pos * tp / (w_pos * tp + w_neg * fp) if tp + fp else 0.0


def prior_weights(positives: int, n: int, prevalence: float) -> tuple[float, float]:
    """Weights of a positive and a negative row that make positives `prevalence` of the total (1, 1 when
    `prevalence` is 0 or there is nothing to weigh)."""
    if not 0.0 < prevalence < 1.0 or not 0 < positives < n:
        return 1.0, 1.0
    w_pos, w_neg = prevalence_weights([positives, n - positives], [prevalence, 1.0 - prevalence])
    return w_pos, w_neg


# ---------------------------------------------------------------------------------------------------- writing


def quantised_doc(
    layout: Layout,
    weights: Weights,
    intents: Mapping[str, Weights],
    dense_ids: Mapping[str, int],
    options: Options,
    calibration: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    step = options.step

    def q(values: Sequence[float]) -> list[int]:
        flat: list[int] = []
        for i, v in enumerate(values):
            n = round(v / step)
            if abs(n) >= options.prune:
                flat += [i, n]
        return flat

    names = {fid: name for name, fid in dense_ids.items()}

    def split(w: Weights) -> tuple[dict[str, list[int]], list[int], str]:
        """Named features' rows, and the hashed ones as their buckets and their rows (same order)."""
        dense: dict[str, list[int]] = {}
        buckets: list[int] = []
        hashed: list[str] = []
        for f in sorted(w.rows):
            flat = q(w.rows[f])
            if not flat:
                continue
            if f >= DENSE_BASE:
                dense[names[f]] = flat
            else:
                buckets.append(f)
                hashed.append(",".join(map(str, flat)))
        return dense, buckets, " ".join(hashed)

    dense, buckets, hashed = split(weights)
    intent_doc = {}
    for topic, w in intents.items():
        i_dense, i_buckets, i_hashed = split(w)
        intent_doc[topic] = {
            "classes": list(INTENTS[topic]),
            "bias": [round(v / step) for v in w.bias],
            "dense": i_dense,
            "hashed_buckets": i_buckets,
            "hashed": i_hashed,
        }
    return {
        "intents": intent_doc,
        "format": FORMAT,
        "features": FEATURES,
        "dims": layout.dims,
        "step": step,
        "word_scale": options.word_scale,
        "heads": layout.heads,
        "bias": [round(v / step) for v in weights.bias],
        "dense": dense,
        "hashed_buckets": buckets,
        "hashed": hashed,
        **calibration,
        "meta": dict(meta),
    }


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_from_doc(doc: Mapping[str, Any]) -> CareModel:
    return CareModel(json.loads(dumps(doc)), source="(trained)")


# ---------------------------------------------------------------------------------------------------- the run


@dataclass
class Trained:
    doc: dict[str, Any]
    oof: dict[str, Any]
    """out-of-fold figures (by operator) that every calibration choice was made on"""


def _oof_logits(
    layout: Layout, xs: Sequence[Encoded], rows: Sequence[Row], options: Options, log: Any
) -> list[list[float]]:
    folds = operator_folds(rows, options.folds)
    out: list[list[float]] = [[] for _ in rows]
    for k in range(options.folds):
        train_ix = [i for i, f in enumerate(folds) if f != k]
        test_ix = [i for i, f in enumerate(folds) if f == k]
        if not test_ix or not train_ix:
            continue
        w = train_weights(layout, [xs[i] for i in train_ix], [rows[i] for i in train_ix], options)
        for i in test_ix:
            out[i] = w.logits(xs[i])
        ops = sorted({rows[i].operator for i in test_ix})
        log(f"  fold {k + 1}/{options.folds}: {len(test_ix)} rows, operators held out: {', '.join(ops)}")
    return out


def _macro(
    gold: Sequence[int], zs: Sequence[Sequence[float]], k: int, weights: Sequence[float] | None = None
) -> tuple[float, float]:
    """(macro-F1, macro-recall) of argmax predictions over the classes present in `gold`; `weights`: per class, the
    weight of a row whose gold label is that class (counts as if the classes had other shares)."""
    pred = [max(range(k), key=z.__getitem__) for z in zs]
    w = weights or [1.0] * k
    f1s, recalls = [], []
    for c in sorted(set(gold)):
        tp = sum(w[g] for g, p in zip(gold, pred, strict=True) if g == p == c)
        fp = sum(w[g] for g, p in zip(gold, pred, strict=True) if p == c and g != c)
        fn = sum(w[g] for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    return sum(f1s) / len(f1s), sum(recalls) / len(recalls)


def _shifted(zs: Sequence[Sequence[float]], offsets: Sequence[float]) -> list[list[float]]:
    return [[v + o for v, o in zip(z, offsets, strict=True)] for z in zs]


def prior_offsets(zs: Sequence[Sequence[float]], temperature: float, real: Sequence[float]) -> list[float]:
    """Per class, what to add to a softmax head's logits so its probabilities (softmax(z / temperature)) move from
    the prior they embody on these rows — their mean probability per class — to `real` (Bayes: p times real /
    implied, renormalised). Zeros when `real` misses a class or there are no rows."""
    k = len(real)
    if not zs or any(r <= 0.0 for r in real):
        return [0.0] * k
    implied = [0.0] * k
    for z in zs:
        m = max(z)
        e = [math.exp((v - m) / temperature) for v in z]
        total = sum(e)
        for c in range(k):
            implied[c] += e[c] / total
    total_real = sum(real)
    return [temperature * math.log((r / total_real) / (m / len(zs))) for r, m in zip(real, implied, strict=True)]


def prevalence_weights(counts: Sequence[int], real: Sequence[float]) -> list[float]:
    """Per class (`counts[c]` rows of it), the weight of one of its rows that makes the classes' shares `real`
    (1 for a class with no rows)."""
    n = sum(counts)
    total_real = sum(real)
    return [(r / total_real) * n / c if c else 1.0 for r, c in zip(real, counts, strict=True)]


def _by_source(rows: Sequence[Row], ix: Sequence[int]) -> dict[str, list[int]]:
    """Positions in `ix` per row source (only when there is more than one source)."""
    sources = sorted({rows[i].source for i in ix})
    if len(sources) < 2:
        return {}
    return {f" ({src})": [n for n, i in enumerate(ix) if rows[i].source == src] for src in sources}


def calibrate(
    layout: Layout, logits: Sequence[Sequence[float]], rows: Sequence[Row], options: Options
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Temperatures, Platt scalings and thresholds from out-of-fold logits; and the out-of-fold figures.

    Calibration and thresholds are fitted on care posts only when there are any (rows marked `general` — public
    tweets, SMS — teach the heads but would pull the thresholds toward their own base rates); the figures are
    given for care posts, and per source when there are several."""
    temperature: dict[str, float] = {}
    priors: dict[str, list[float]] = {}
    platt: dict[str, list[float]] = {}
    thresholds: dict[str, float] = {}
    oof: dict[str, Any] = {}
    ok = [i for i, z in enumerate(logits) if z]

    def fitted(label: str) -> tuple[list[int], list[int]]:
        every = [i for i in ok if label in rows[i].labels]
        care = [i for i in every if not rows[i].general]
        return (care or every), every

    for name, classes in (("topic", TOPICS), ("sentiment", SENTIMENTS)):
        s = layout.head(name)["start"]
        ix, every = fitted(name)
        if not ix:
            continue
        k = len(classes)
        gold = [classes.index(rows[i].labels[name]) for i in ix]
        temperature[name] = fit_temperature([logits[i][s : s + k] for i in ix], gold)
        zs = [logits[i][s : s + k] for i in ix]
        offsets = [0.0] * k
        if name == "topic" and options.topic_prevalence:
            offsets = prior_offsets(zs, temperature[name], [options.topic_prevalence.get(c, 0.0) for c in classes])
            if any(offsets):
                priors[name] = [round(o, 6) for o in offsets]
                counts = [gold.count(c) for c in range(k)]
                weights = prevalence_weights(counts, [options.topic_prevalence[c] for c in classes])
                oof[f"{name} macro-F1 without the prior shift"] = round(_macro(gold, zs, k)[0], 4)
                oof[f"{name} macro-F1 at real prevalence"] = round(
                    _macro(gold, _shifted(zs, offsets), k, weights)[0], 4
                )
                oof[f"{name} macro-F1 at real prevalence, without the shift"] = round(
                    _macro(gold, zs, k, weights)[0], 4
                )
        f1, recall = _macro(gold, _shifted(zs, offsets), k)
        oof[f"{name} macro-F1"] = round(f1, 4)
        oof[f"{name} macro-recall"] = round(recall, 4)
        for suffix, members in _by_source(rows, every).items():
            sub = [every[n] for n in members]
            f1, recall = _macro(
                [classes.index(rows[i].labels[name]) for i in sub],
                _shifted([logits[i][s : s + k] for i in sub], offsets),
                k,
            )
            oof[f"{name} macro-recall{suffix}"] = round(recall, 4)
    floors = {
        "needs_human": options.needs_human_precision,
        "churn_risk": options.churn_precision,
        "spam": options.spam_precision,
        "abuse": 0.8,
    }
    cancelled = _read_as_cancellation(layout, logits, priors.get("topic"))
    for label in BINARY:
        ix, every = fitted(label)
        if ix:
            forced = cancelled if label == "churn_risk" else frozenset()
            _binary_head(label, layout, logits, rows, (ix, every), options, floors, (platt, thresholds, oof), forced)
    if options.escalation_precision and "needs_human" in thresholds:
        _escalation_threshold(layout, logits, rows, options, platt, thresholds, oof, cancelled)
    return {"temperature": temperature, "priors": priors, "platt": platt, "thresholds": thresholds}, oof


def _read_as_cancellation(
    layout: Layout, logits: Sequence[Sequence[float]], offsets: Sequence[float] | None
) -> frozenset[int]:
    """The rows whose topic, as the model reads it (with the prior shift), is `cancellation`: the classifier
    reports churn risk for each of them whatever the churn head says (`judgement.apply_model`)."""
    topic = layout.head("topic")
    classes = list(topic["classes"])
    s, k = topic["start"], len(classes)
    shift = list(offsets) if offsets else [0.0] * k
    cancel = classes.index("cancellation")
    return frozenset(
        i for i, z in enumerate(logits) if z and max(range(k), key=lambda c: z[s + c] + shift[c]) == cancel
    )


def _binary_head(
    label: str,
    layout: Layout,
    logits: Sequence[Sequence[float]],
    rows: Sequence[Row],
    sets: tuple[list[int], list[int]],
    options: Options,
    floors: Mapping[str, float],
    out: tuple[dict[str, list[float]], dict[str, float], dict[str, Any]],
    forced: frozenset[int] = frozenset(),
) -> None:
    """One yes/no head's Platt scaling and cut (fitted on `sets[0]`, figures on `sets[1]` too), into `out`.
    `forced`: rows the classifier calls positive whatever this head says (churn risk for a post read as a
    cancellation): the cut is chosen, and the figures given, for what is delivered — the head's yes or forced."""
    ix, every = sets
    platt, thresholds, oof = out
    start = layout.head(HEAD_OF[label])["start"]
    gold_b = [bool(rows[i].labels[label]) for i in ix]
    a, b = fit_platt([logits[i][start] for i in ix], gold_b)
    prevalence = options.prevalence.get(label, 0.0)
    w_pos, w_neg = prior_weights(sum(gold_b), len(gold_b), prevalence)
    b += math.log(w_pos / w_neg)  # Bayes: p's odds move by the ratio of the priors' odds
    platt[HEAD_OF[label]] = [round(a, 6), round(b, 6)]
    probs = [_sigmoid(a * logits[i][start] + b) for i in ix]
    if label == "addressed_to_brand":
        # the cut below which a post the platform calls addressed is read as talk among others
        flip = [(1 - p, not g) for p, g, i in zip(probs, gold_b, ix, strict=True) if rows[i].addressed]
        if flip:
            cut = pick_threshold([f for f, _ in flip], [g for _, g in flip], 0.9)
            thresholds["addressed"] = round(1 - cut, 4)
        return
    # a forced row is positive at every cut: it counts as if its p were above them all
    cut = pick_threshold(
        [math.inf if i in forced else q for q, i in zip(probs, ix, strict=True)], gold_b, floors[label], prevalence
    )
    thresholds[HEAD_OF[label]] = cut
    every_probs = {i: math.inf if i in forced else _sigmoid(a * logits[i][start] + b) for i in every}
    groups = {"": ix, **{sfx: [every[n] for n in m] for sfx, m in _by_source(rows, every).items()}}
    for suffix, members in groups.items():
        tp = sum(1 for i in members if rows[i].labels[label] and every_probs[i] >= cut)
        fp = sum(1 for i in members if not rows[i].labels[label] and every_probs[i] >= cut)
        pos = sum(1 for i in members if rows[i].labels[label])
        oof[f"{label} precision{suffix}"] = round(tp / (tp + fp), 4) if tp + fp else 0.0
        oof[f"{label} recall{suffix}"] = round(tp / pos, 4) if pos else 0.0
    if w_pos != w_neg:
        tp = sum(1 for i, g in zip(ix, gold_b, strict=True) if g and every_probs[i] >= cut)
        fp = sum(1 for i, g in zip(ix, gold_b, strict=True) if not g and every_probs[i] >= cut)
        at = weighted_precision(tp, fp, w_pos, w_neg)
        oof[f"{label} precision at prevalence {prevalence:g}"] = round(at, 4)


def _escalation_threshold(
    layout: Layout,
    logits: Sequence[Sequence[float]],
    rows: Sequence[Row],
    options: Options,
    platt: Mapping[str, Sequence[float]],
    thresholds: dict[str, float],
    oof: dict[str, Any],
    cancelled: frozenset[int] = frozenset(),
) -> None:
    """The needs_human cut chosen for what the default pack does: it escalates a post that needs a person, shows
    churn risk or asks to cancel, and hides spam first; the cut is the one whose out-of-fold escalations stand
    furthest above both of `Options`' escalation floors (on care posts; precision weighted to `Options.prevalence`'s
    share of needs_human when given), the lowest such cut on a tie."""
    ix = [i for i, z in enumerate(logits) if z and "needs_human" in rows[i].labels and not rows[i].general]
    total = sum(1 for i in ix if rows[i].labels["needs_human"])
    if not total:
        return
    w_pos, w_neg = prior_weights(total, len(ix), options.prevalence.get("needs_human", 0.0))

    def p(head: str, z: Sequence[float]) -> float:
        a, b = platt.get(head, (1.0, 0.0))
        return _sigmoid(a * z[layout.head(head)["start"]] + b)

    scored: list[tuple[float, bool, bool]] = []
    """(p needs_human, escalated anyway, needs a person) of each post the pack does not hide as spam"""
    for i in ix:
        z = logits[i]
        if "spam" in thresholds and p("spam", z) >= thresholds["spam"]:
            continue
        churn = "churn" in thresholds and p("churn", z) >= thresholds["churn"]
        scored.append((p("needs_human", z), churn or i in cancelled, bool(rows[i].labels["needs_human"])))
    base_tp = sum(1 for _, anyway, g in scored if anyway and g)
    base_fp = sum(1 for _, anyway, g in scored if anyway and not g)
    rest = sorted((q, g) for q, anyway, g in scored if not anyway)
    qs = [q for q, _ in rest]
    pos_above = [0] * (len(rest) + 1)  # pos_above[k]: needs-a-person posts among rest[k:]
    for k in range(len(rest) - 1, -1, -1):
        pos_above[k] = pos_above[k + 1] + rest[k][1]
    best: tuple[float, float, int, int] | None = None
    for cut in sorted({round(min(0.99, max(0.01, q)), 4) for q in qs}):  # the cut as it ships, rounded
        k = bisect_left(qs, cut)
        tp = base_tp + pos_above[k]
        fp = base_fp + (len(rest) - k) - pos_above[k]
        precision = weighted_precision(tp, fp, w_pos, w_neg)
        margin = min(precision - options.escalation_precision, tp / total - options.escalation_recall)
        if best is None or margin > best[0]:
            best = (margin, cut, tp, fp)
    if best is None:
        return
    _, cut, tp, fp = best
    thresholds["needs_human"] = cut
    head_tp = sum(1 for i in ix if rows[i].labels["needs_human"] and p("needs_human", logits[i]) >= cut)
    head_fp = sum(1 for i in ix if not rows[i].labels["needs_human"] and p("needs_human", logits[i]) >= cut)
    oof["escalation precision"] = round(weighted_precision(tp, fp), 4)
    oof["escalation recall"] = round(tp / total, 4)
    oof["needs_human precision"] = round(weighted_precision(head_tp, head_fp), 4)
    oof["needs_human recall"] = round(head_tp / total, 4)
    if w_pos != w_neg:  # and the head's own figure at its own floor no longer holds: this is its cut now
        share = options.prevalence["needs_human"]
        oof[f"escalation precision at prevalence {share:g}"] = round(weighted_precision(tp, fp, w_pos, w_neg), 4)
        oof[f"needs_human precision at prevalence {share:g}"] = round(
            weighted_precision(head_tp, head_fp, w_pos, w_neg), 4
        )


def train(
    classifier: Classifier, rows: Sequence[Row], options: Options, meta: Mapping[str, Any], log: Any = print
) -> Trained:
    """Train on `rows` (callers pass only rows that may be trained on), calibrate out of fold, quantise."""
    if len(rows) < options.folds * 4:
        raise TrainingError(f"{len(rows)} labelled rows are too few to train and calibrate ({options.folds} folds)")
    layout = Layout.build()
    log(f"features for {len(rows)} rows ...")
    inputs = featurize(classifier.for_features(), rows)
    xs, dense_ids = vectors(inputs, options.min_df, options.word_scale)
    log(f"  {len({f for x in xs for f, _ in x.hashed})} distinct hashed features after min_df={options.min_df}")
    log(f"out-of-fold by operator ({options.folds} folds) for calibration and thresholds ...")
    logits = _oof_logits(layout, xs, rows, options, log)
    calibration, oof = calibrate(layout, logits, rows, options)
    log("final model on every training row ...")
    weights = train_weights(layout, xs, rows, options)
    intents = train_intents(inputs, xs, rows, options)
    sources: dict[str, int] = {}
    for r in rows:
        sources[r.source] = sources.get(r.source, 0) + 1
    full_meta = {
        **meta,
        "options": options.as_meta(),
        "rows": len(rows),
        "rows_by_source": dict(sorted(sources.items())),
        "out_of_fold": oof,
        "features": {"buckets": 1 << 18, "char_ngrams": [3, 4], "dense": len(dense_ids)},
    }
    doc = quantised_doc(layout, weights, intents, dense_ids, options, calibration, full_meta)
    doc["version"] = "care-" + hashlib.sha256(dumps({**doc, "version": ""}).encode()).hexdigest()[:12]
    return Trained(doc, oof)

"""The learned care model: multinomial logistic regression heads over `features.ModelInput`, pure Python.

Weights live in `policies/model/care_model.json` (written by `carewire train`): integers (weight / `step`),
sparse — only non-zero entries are stored — with per-head calibration (temperature for softmax heads, Platt
scaling for yes/no heads) and the decision thresholds chosen on held-out folds. Inference adds, per distinct
word, one memoised vector (the word's unigram and character n-gram weights summed), then the word pairs and the
named features; a few hundred additions per post.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from chalicelib.classify.features import ModelInput, bucket, word_keys

FORMAT = "carewire-care-model/2"
"""/2: each `hashed` block may come as `hashed_buckets` (a JSON list of ints) and `hashed` (the rows, same order,
space-separated), which loads in C; /1 (`hashed` = 'bucket,i,q,... bucket,...') is still read."""
READABLE_FORMATS = frozenset({"carewire-care-model/1", FORMAT})
MODEL_FILE = Path("model") / "care_model.json"
"""Relative to the policies directory."""
GENERAL_FILE = Path("model") / "general_model.json"
"""The care-vs-general domain head (scripts/train_general_model.py), relative to the policies directory."""
WORD_MEMO_MAX = 250_000
BINARY_HEADS = ("churn", "needs_human", "spam", "abuse", "addressed")
UNEXPLAINED = frozenset({"addressed"})
"""heads whose strongest features no evidence line shows"""


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Head:
    name: str
    start: int
    classes: tuple[str, ...]
    """softmax heads: the classes; yes/no heads: ('yes',) — one logit"""

    @property
    def end(self) -> int:
        return self.start + len(self.classes)


class Prediction(NamedTuple):
    probabilities: dict[str, dict[str, float]]
    """softmax heads: class -> p; yes/no heads: {'yes': p}"""
    evidence: dict[str, list[str]]
    """per head, the strongest contributions to the chosen class"""


def _hashed_rows(block: Mapping[str, Any]) -> dict[int, str]:
    """A model's (or an intent table's) hashed rows: {bucket: 'i,q,i,q'}, unpacked only when a post first uses one."""
    buckets = block.get("hashed_buckets")
    if buckets is None:
        return _rows(block["hashed"])
    packed: str = block["hashed"]
    rows = packed.split(" ") if packed else []
    if len(rows) != len(buckets):
        raise ValueError(f"{len(buckets)} hashed buckets but {len(rows)} rows")
    return dict(zip(buckets, rows, strict=True))


def _rows(packed: str) -> dict[int, str]:
    """'bucket,i,q,i,q bucket,i,q ...' -> {bucket: 'i,q,i,q'}: a string loads ~30x faster than JSON numbers, and
    a row is only unpacked when a post first uses it."""
    rows: dict[int, str] = {}
    for chunk in packed.split(" ") if packed else ():
        key, _, rest = chunk.partition(",")
        rows[int(key)] = rest
    return rows


def _unpack(packed: str) -> list[int]:
    return [int(v) for v in packed.split(",")]


def _dense_vector(flat: Sequence[int], step: float, size: int) -> list[float]:
    vec = [0.0] * size
    for i in range(0, len(flat), 2):
        vec[int(flat[i])] = flat[i + 1] * step
    return vec


def _dequantise(flat: Sequence[int], step: float) -> dict[int, float]:
    return {int(flat[i]): flat[i + 1] * step for i in range(0, len(flat), 2)}


class CareModel:
    def __init__(self, doc: Mapping[str, Any], *, source: str = "") -> None:
        if doc.get("format") not in READABLE_FORMATS:
            raise ModelError(f"{source}: format {doc.get('format')!r}, expected {FORMAT!r}")
        self.doc = doc
        self.source = source
        self.dims = int(doc["dims"])
        step = float(doc["step"])
        self.heads: dict[str, Head] = {}
        for h in doc["heads"]:
            self.heads[h["name"]] = Head(h["name"], int(h["start"]), tuple(h["classes"]))
        self.bias = [q * step for q in doc["bias"]]
        self.dense = {name: _dequantise(flat, step) for name, flat in doc["dense"].items()}
        self.step = step
        self.word_scale = float(doc.get("word_scale", 1.0))
        self.features = int(doc.get("features", 1))
        """the version of `features.model_input` it was trained on, and reads"""
        self.hashed = _hashed_rows(doc)
        self.intents: dict[str, IntentTable] = {
            topic: IntentTable(
                tuple(t["classes"]),
                [q * step for q in t["bias"]],
                {name: _dense_vector(flat, step, len(t["classes"])) for name, flat in t["dense"].items()},
                _hashed_rows(t),
                step,
            )
            for topic, t in doc.get("intents", {}).items()
        }
        self.temperature: dict[str, float] = {k: float(v) for k, v in doc.get("temperature", {}).items()}
        self.priors: dict[str, list[float]] = {k: [float(o) for o in v] for k, v in doc.get("priors", {}).items()}
        """softmax head -> per class, the offset that moves its probabilities to the prior of real traffic; added to
        the head's bias here, once, so every logit a post gets already carries it"""
        for name, offsets in self.priors.items():
            start = self.heads[name].start
            for c, o in enumerate(offsets):
                self.bias[start + c] += o
        self.platt: dict[str, tuple[float, float]] = {
            k: (float(v[0]), float(v[1])) for k, v in doc.get("platt", {}).items()
        }
        self.thresholds: dict[str, float] = {k: float(v) for k, v in doc.get("thresholds", {}).items()}
        self.meta: dict[str, Any] = dict(doc.get("meta", {}))
        self.version = str(doc.get("version", ""))
        self._words: dict[str, _WordEntry] = {}
        self._pairs: dict[str, Any] = {}
        self._scalars: dict[str, float | None] = {}
        """one-output models: word or pair key -> its summed weight (None: no weight), memoised"""
        self.dense_vectors = {name: [row.get(i, 0.0) for i in range(self.dims)] for name, row in self.dense.items()}
        self.domain: CareModel | None = None
        """a one-output model (the domain head) summed in the same pass: its logit is z[dims]"""

    def with_domain(self, domain: CareModel) -> CareModel | None:
        """This model with `domain`'s one logit summed in the same pass over the post's features (one memo, one
        lookup per word) — the same sums, in the same order, as each alone; `predict` adds its p as 'care'. None
        when the two cannot share a pass (a domain of more than one output, another word scale or step)."""
        if domain.dims != 1 or domain.word_scale != self.word_scale or domain.domain is not None:
            return None
        both = copy.copy(self)
        both.domain = domain
        both.bias = [*self.bias, domain.bias[0]]
        zeros = [0.0] * self.dims
        both.dense_vectors = {
            name: [*self.dense_vectors.get(name, zeros), domain.dense_vectors.get(name, [0.0])[0]]
            for name in dict.fromkeys([*self.dense_vectors, *domain.dense_vectors])
        }
        both._words = {}
        both._pairs = {}
        both._scalars = {}
        return both

    @classmethod
    def load(cls, path: Path) -> CareModel:
        try:
            raw = path.read_bytes()
            doc = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: {exc}") from exc
        if not isinstance(doc, dict):
            raise ModelError(f"{path}: expected a JSON object")
        try:
            model = cls(doc, source=str(path))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"{path}: malformed model: {exc!r}") from exc
        if not model.version:
            model.version = "sha256:" + hashlib.sha256(raw).hexdigest()[:12]
        return model

    # ------------------------------------------------------------------------------------------ inference

    def _word(self, word: str) -> _WordEntry:
        """The word's summed weight vector (None when none of its features has a weight) and its unigram's bucket."""
        domain = self.domain
        dims = self.dims
        vec = [0.0] * (dims if domain is None else dims + 1)
        hit = False
        hashed = self.hashed
        step = self.step
        for key in word_keys(word):
            b = bucket(key)
            packed = hashed.get(b)
            if packed is not None:
                hit = True
                row = _unpack(packed)
                for j in range(0, len(row), 2):
                    vec[row[j]] += row[j + 1] * step
            if domain is not None:
                packed = domain.hashed.get(b)
                if packed is not None:
                    hit = True
                    row = _unpack(packed)
                    for j in range(0, len(row), 2):
                        vec[dims + row[j]] += row[j + 1] * domain.step
        entry = (vec if hit else None, bucket("w:" + word))
        if len(self._words) >= WORD_MEMO_MAX:
            self._words.clear()
        self._words[word] = entry
        return entry

    def _pair(self, key: str) -> list[float] | None:
        """The weights of a hashed key (a word pair or symbol) as a full vector; memoised, None without any."""
        found = self._pairs.get(key, _UNSEEN)
        if found is _UNSEEN:
            b = bucket(key)
            domain = self.domain
            dims = self.dims
            packed = self.hashed.get(b)
            found = None
            if packed is not None:
                found = [0.0] * (dims if domain is None else dims + 1)
                row = _unpack(packed)
                for j in range(0, len(row), 2):
                    found[row[j]] = row[j + 1] * self.step
            if domain is not None:
                packed = domain.hashed.get(b)
                if packed is not None:
                    if found is None:
                        found = [0.0] * (dims + 1)
                    row = _unpack(packed)
                    for j in range(0, len(row), 2):
                        found[dims + row[j]] = row[j + 1] * domain.step
            if len(self._pairs) >= WORD_MEMO_MAX:
                self._pairs.clear()
            self._pairs[key] = found
        return found  # type: ignore[no-any-return]

    def _columns(self, x: ModelInput) -> _Contributions:
        """The logits; and per output dimension, each feature's contribution (`columns[k][j]`, named
        `names[j]`): z = bias + named features + scale * (words and pairs), as training summed it."""
        vecs: list[list[float]] = []
        names: list[str] = []
        unigrams: list[int] = []
        words = self._words
        for w in x.words:
            vec, unigram = words.get(w) or self._word(w)
            unigrams.append(unigram)
            if vec is not None:
                vecs.append(vec)
                names.append(w)
        pairs = self._pairs
        for key in x.pairs:
            vec = pairs.get(key, _UNSEEN)
            if vec is _UNSEEN:
                vec = self._pair(key)
            if vec is not None:
                vecs.append(vec)
                names.append(key[2:])
        n_hashed = len(vecs)
        dense = self.dense_vectors
        for name, value in x.dense:
            vec = dense.get(name)
            if vec is not None:
                vecs.append(vec if value == 1.0 else [v * value for v in vec])
                names.append(name)
        s = x.scale * self.word_scale
        if not vecs:
            return _Contributions(list(self.bias), [], names, s, 0, unigrams)
        # per output, sum(words and pairs) and sum(named features) — the column sums, in feature order
        named = list(map(sum, zip(*vecs[n_hashed:], strict=False))) if len(vecs) > n_hashed else None
        if n_hashed:
            hashed = map(sum, zip(*vecs[:n_hashed], strict=False))
            if named is None:
                z = [b + s * h + 0 for b, h in zip(self.bias, hashed, strict=True)]
            else:
                z = [b + s * h + d for b, h, d in zip(self.bias, hashed, named, strict=True)]
        else:
            assert named is not None
            z = [b + d for b, d in zip(self.bias, named, strict=True)]
        return _Contributions(z, vecs, names, s, n_hashed, unigrams)

    def logits(self, x: ModelInput) -> list[float]:
        return self._columns(x).z

    def yes_probability(self, x: ModelInput) -> float:
        """p(yes) of a model with one yes/no output (the domain head), without per-feature columns or evidence:
        the same sums, in the same order, as `predict`."""
        head = next(iter(self.heads.values()))
        scalars = self._scalars
        hashed_sum: float = 0
        for w in x.words:
            v = scalars.get(w, _UNSEEN)
            if v is _UNSEEN:
                v = self._scalar(w, word_keys(w))
            if v is not None:
                hashed_sum += v
        for key in x.pairs:
            v = scalars.get(key, _UNSEEN)
            if v is _UNSEEN:
                v = self._scalar(key, (key,))
            if v is not None:
                hashed_sum += v
        dense_sum: float = 0
        dense = self.dense_vectors
        for name, value in x.dense:
            vec = dense.get(name)
            if vec is not None:
                dense_sum += vec[0] if value == 1.0 else vec[0] * value
        z = self.bias[0] + x.scale * self.word_scale * hashed_sum + dense_sum
        a, b = self.platt.get(head.name, (1.0, 0.0))
        return _sigmoid(a * z + b)

    def _scalar(self, memo_key: str, keys: Sequence[str]) -> float | None:
        total = 0.0
        hit = False
        for key in keys:
            packed = self.hashed.get(bucket(key))
            if packed is not None:
                hit = True
                row = _unpack(packed)
                for j in range(0, len(row), 2):
                    if row[j] == 0:
                        total += row[j + 1] * self.step
        found = total if hit else None
        if len(self._scalars) >= WORD_MEMO_MAX:
            self._scalars.clear()
        self._scalars[memo_key] = found
        return found

    def predict(self, x: ModelInput, *, explain: bool = True) -> Prediction:
        parts = self._columns(x)
        z = parts.z
        probs: dict[str, dict[str, float]] = {}
        if self.domain is not None:
            a, b = self.domain.platt.get(next(iter(self.domain.heads)), (1.0, 0.0))
            probs["care"] = {"yes": _sigmoid(a * z[self.dims] + b)}
        for name, head in self.heads.items():
            if len(head.classes) == 1:
                a, b = self.platt.get(name, (1.0, 0.0))
                probs[name] = {"yes": _sigmoid(a * z[head.start] + b)}
            else:
                probs[name] = softmax(z[head.start : head.end], self.temperature.get(name, 1.0), head.classes)
        topic = probs.get("topic")
        if topic is not None:
            table = self.intents.get(max(topic, key=topic.__getitem__))
            if table is not None:
                probs["intent"] = table.probabilities(parts.unigrams, x.dense)
        evidence = self._explain(parts, probs) if explain else {}
        return Prediction(probs, evidence)

    # ------------------------------------------------------------------------------------------ evidence

    def _explain(self, parts: _Contributions, probs: Mapping[str, Mapping[str, float]]) -> dict[str, list[str]]:
        """Why: for the topic and sentiment chosen, and each yes/no head that says yes (p >= its threshold or 0.5),
        the three features that pushed it most (not for `addressed`, whose evidence says only its p)."""
        out: dict[str, list[str]] = {}
        if not parts.names:
            return out
        n, s, names = parts.n_hashed, parts.scale, parts.names
        for name, head in self.heads.items():
            if name in UNEXPLAINED:
                continue
            p = probs.get(name)
            if p is None:
                continue
            if len(head.classes) == 1:
                if p["yes"] < self.thresholds.get(name, 0.5):
                    continue
                k = head.start
            else:
                k = head.start + head.classes.index(max(p, key=p.__getitem__))
            col = [vec[k] for vec in parts.vectors]
            values = [v * s for v in col[:n]] + col[n:] if n and s != 1.0 else col
            out[name] = [_feature(names[j], values[j], j < n) for j in _top3(values) if values[j] > 0]
        return out


def _top3(values: list[float]) -> list[int]:
    """The positions of the three largest values, largest first, ties in order of position — what
    `sorted(range(n), key=values.__getitem__, reverse=True)[:3]` gives, without a key call per value."""
    top: list[int] = []
    for v in sorted(values, reverse=True)[:3]:
        j = values.index(v)
        while j in top:
            j = values.index(v, j + 1)
        top.append(j)
    return top


def _feature(what: str, v: float, text: bool) -> str:
    """A word or word pair (`text`) in quotes, a named feature (`lt:outage`, `urgency`) as it is."""
    return f"'{what}' {v:+.2f}" if text else f"{what} {v:+.2f}"


_WordEntry = tuple[list[float] | None, int]


class _Contributions(NamedTuple):
    z: list[float]
    vectors: list[list[float]]
    """per feature, its weight times its value for each output (words and pairs not yet scaled)"""
    names: list[str]
    scale: float
    n_hashed: int
    """the first n_hashed features are words and pairs (scaled by `scale`)"""
    unigrams: list[int]
    """the bucket of each word's unigram key, in the post's word order (what the intent tables read)"""


_UNSEEN: Any = object()


class IntentTable(NamedTuple):
    """The intents of one topic: a softmax over the post's words and named features."""

    classes: tuple[str, ...]
    bias: list[float]
    dense: dict[str, list[float]]
    """named feature -> its weight per intent"""
    hashed: dict[int, Any]
    """bucket -> packed row (str) until first used, then its weight per intent (list)"""
    step: float

    def probabilities(self, unigrams: list[int], named: list[tuple[str, float]]) -> dict[str, float]:
        """`unigrams`: the buckets of the post's words' unigram keys; `named`: its named features."""
        vecs = [self.bias]
        hashed = self.hashed
        for b in unigrams:
            row = hashed.get(b)
            if row is not None:
                if type(row) is str:  # unpacked on first use, then kept
                    flat = _unpack(row)
                    row = [0.0] * len(self.classes)
                    for j in range(0, len(flat), 2):
                        row[flat[j]] = flat[j + 1] * self.step
                    hashed[b] = row
                vecs.append(row)
        dense = self.dense
        for name, value in named:
            vec = dense.get(name)
            if vec is not None:
                vecs.append(vec if value == 1.0 else [v * value for v in vec])
        return softmax(list(map(sum, zip(*vecs, strict=False))), 1.0, self.classes)


def _sigmoid(z: float) -> float:
    if z > 30.0:  # clamped to +-30 as training does (cheaper than max/min on the hot path)
        z = 30.0
    elif z < -30.0:
        z = -30.0
    return 1.0 / (1.0 + math.exp(-z))


def softmax(z: Sequence[float], temperature: float = 1.0, classes: Sequence[str] | None = None) -> dict[str, float]:
    scaled = [v / temperature for v in z]
    m = max(scaled)
    e = [math.exp(v - m) for v in scaled]
    total = sum(e)
    names = classes if classes is not None else [str(i) for i in range(len(z))]
    return {n: v / total for n, v in zip(names, e, strict=True)}

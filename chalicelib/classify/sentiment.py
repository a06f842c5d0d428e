"""Lexicon sentiment for social text: negation, boosters, caps, elongation, emoji, contrast, sarcasm."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from chalicelib.classify.lexicon import Lexicon, Match, Scan
from chalicelib.classify.text import TextStats, Token, single_letter_variant
from chalicelib.model import SentimentLabel

CAPS_BOOST = 0.733
"""VADER's empirically derived ALL-CAPS increment (Hutto & Gilbert 2014)."""
NEGATION_SCALAR = -0.74
"""VADER's negation scalar: "not good" is less negative than "bad" is."""
EXCLAIM_BOOST = 0.292
ELONGATION_BOOST = 0.3
NORMALISE_ALPHA = 15.0
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5


class SentimentResult(NamedTuple):
    score: float
    """-1..+1"""
    positive: float
    negative: float
    sarcasm: bool
    evidence: list[str]


_BACK = ((1, 1.0), (2, 0.95), (3, 0.9))


def _booster(lex: Lexicon, words: list[str], i: int, valence: float) -> float:
    boosters = lex.boosters
    scalar = 0.0
    for back, decay in _BACK:
        j = i - back
        if j < 0:
            break
        w = words[j]
        b = boosters.get(w)
        if b is None and len(w) > 2 and w[-1] == w[-2]:  # "soo", "sooo" -> "so"
            b = boosters.get(single_letter_variant(w))
        if b is not None:
            scalar += b * decay if valence > 0 else -b * decay
    return scalar


def _negated(lex: Lexicon, words: list[str], i: int) -> str | None:
    negators = lex.negators
    for j in range(i - 1, i - 4, -1):
        if j < 0:
            return None
        w = words[j]
        if w in negators:
            nxt = words[j + 1] if j + 1 < len(words) else ""
            if nxt in lex.negation_exceptions:
                return None
            return w
        if w.endswith("n't"):
            return w
    return None


def _word_valences(
    lex: Lexicon, scan: Scan, word_tokens: list[Token], stats: TextStats
) -> list[tuple[int, float, str]]:
    words = scan.words
    all_caps_text = stats.all_caps
    # contrast: weight words before the last contrast word down, after it up
    contrasts = scan.find(lex.contrast)  # left to right
    contrast_at = contrasts[-1].start if contrasts else -1
    valences: list[tuple[int, float, str]] = []  # (word index, valence, what)
    elongated = stats.elongated
    matches = _elongated_matches(lex, scan, word_tokens, elongated) if elongated else scan.find(lex.valence)
    for m in matches:
        if m.value == 0.0:
            continue
        v = m.value
        sign = 1.0 if v > 0 else -1.0
        notes = [m.phrase]
        if word_tokens[m.start].caps and not all_caps_text:
            v += sign * CAPS_BOOST
            notes.append("CAPS")
        if elongated and any(word_tokens[k].elongated for k in range(m.start, m.end)):
            v += sign * ELONGATION_BOOST
            notes.append("elongated")
        boost = _booster(lex, words, m.start, v)
        if boost:
            v += boost
            notes.append("intensified" if boost * sign > 0 else "diminished")
        negator = _negated(lex, words, m.start)
        if negator:
            v *= NEGATION_SCALAR
            notes.append(f"negated by '{negator}'")
        if contrast_at >= 0:
            v *= CONTRAST_BEFORE if m.start < contrast_at else CONTRAST_AFTER
        valences.append((m.start, v, " ".join(notes)))
    return valences


def _elongated_matches(lex: Lexicon, scan: Scan, word_tokens: list[Token], elongated: list[int]) -> list[Match[float]]:
    """The valence matches when some words are elongated: those may also match as their one-letter variant."""
    words = scan.words
    out: list[Match[float]] = []
    covered = 0
    for i in sorted(set(scan.starts_of(lex.valence)) | set(elongated)):
        if i < covered:
            continue
        m: Match[float] | None = lex.valence.at(words, i)
        if m is None and word_tokens[i].elongated:
            v0 = lex.valence.at([single_letter_variant(words[i])], 0)
            if v0 is not None:
                m = Match(i, i + 1, v0.phrase, v0.value)
        if m is None:
            continue
        covered = m.end
        out.append(m)
    return out


def _sarcasm(lex: Lexicon, scan: Scan, valences: list[tuple[int, float, str]]) -> str | None:
    """Explicit cue, or a positive word beside a problem marker with no sign the problem is over."""
    cue = scan.find(lex.sarcasm_cues)
    if cue:
        return f"sarcasm cue '{cue[0].phrase}'"
    if not lex.sarcasm_positive.isdisjoint(scan.words):
        markers = scan.find(lex.sarcasm_markers)
        has_negative = any(v < 0 for _, v, _ in valences)
        if markers and has_negative and not scan.find(lex.resolution):
            return f"sarcasm: positive word with '{markers[0].phrase}' and a complaint"
    return None


def score_sentiment(lex: Lexicon, stats: TextStats, scan: Scan, word_tokens: list[Token]) -> SentimentResult:
    """`scan.words` are the normalised word tokens, `word_tokens` the same tokens (for caps/elongation flags)."""
    evidence: list[str] = []
    valences = _word_valences(lex, scan, word_tokens, stats)
    for t in stats.symbols:
        ev = lex.emoji.get(t.norm)
        if ev is not None:
            valences.append((-1, ev, f"emoji {t.raw}"))

    why = _sarcasm(lex, scan, valences)
    if why:
        evidence.append(why)
        valences = [(k, -abs(v) if v > 0 else v, f"{what} (sarcastic)" if v > 0 else what) for k, v, what in valences]
        if not valences:
            valences.append((-1, -1.5, "sarcasm"))

    pos: float = 0  # as sum() of nothing (an int 0)
    neg: float = 0
    if valences:
        pos = sum(v for _, v, _ in valences if v > 0)
        neg = sum(v for _, v, _ in valences if v < 0)
    total = pos + neg
    if total:
        exclaims = min(4, stats.exclaims)
        if exclaims:
            total += math.copysign(exclaims * EXCLAIM_BOOST, total)
            evidence.append(f"{exclaims}x '!'")
        if len(word_tokens) >= 2 and stats.all_caps:
            total *= 1.2
            evidence.append("ALL CAPS post")
    score = total / math.sqrt(total * total + NORMALISE_ALPHA)
    evidence[:0] = [f"{what} ({v:+.2f})" for _, v, what in valences]
    return SentimentResult(score, pos, neg, why is not None, evidence)


SENTIMENT_LABELS: tuple[SentimentLabel, SentimentLabel, SentimentLabel] = ("negative", "neutral", "positive")
_LENGTHS = ("$len:short", "$len:mid", "$len:long")


def sentiment_features(
    result: SentimentResult, score: float, stats: TextStats, word_tokens: list[Token]
) -> dict[str, float]:
    """Inputs of the learned sentiment calibration (`sentiment_weights.json`): what the lexicon found, never words.

    `score` is the lexicon score after the profanity rule. Every feature is generic text shape or lexicon output,
    so the model only learns where the lexicon's evidence puts the neutral band on real tweets. Sarcasm and
    profanity are deliberately not inputs: they already act on `score`, and general tweets (the training data)
    use them differently from complaints to a brand ("damn good" is praise there), so a weight learned for them
    would undo the care-specific rules.
    """
    feats = {
        "$bias": 1.0,
        "$score": score,
        "$pos": min(result.positive, 8.0) / 4.0,
        "$neg": min(-result.negative, 8.0) / 4.0,
    }
    if not result.positive and not result.negative:
        feats["$nolex"] = 1.0
    elif result.positive and result.negative:
        feats["$mixed"] = 1.0
    if stats.exclaims:
        feats["$exclaim"] = 1.0
    if stats.question:
        feats["$question"] = 1.0
    if stats.url:
        feats["$url"] = 1.0
    if stats.mention:
        feats["$mention"] = 1.0
    if stats.caps >= 2:
        feats["$caps"] = 1.0
    n = len(word_tokens)
    feats[_LENGTHS[0 if n < 8 else 1 if n < 16 else 2]] = 1.0
    if stats.hashtag:
        feats["$hashtag"] = 1.0
    return feats


class SentimentModel:
    """Multinomial logistic regression over `sentiment_features` (weights from scripts/train_sentiment.py)."""

    def __init__(self, model: dict[str, Any]) -> None:
        classes = tuple(model.get("classes", SENTIMENT_LABELS))
        if classes != SENTIMENT_LABELS:
            raise ValueError(f"sentiment model classes must be {SENTIMENT_LABELS}, got {classes}")
        self.weights: dict[str, tuple[float, float, float]] = {
            str(k): (float(v[0]), float(v[1]), float(v[2])) for k, v in model["weights"].items()
        }
        w = self.weights.get
        self._dense = (w("$bias"), w("$score"), w("$pos"), w("$neg"))
        self._flags = {
            k: w(k)
            for k in ("$nolex", "$mixed", "$exclaim", "$question", "$url", "$mention", "$caps", "$hashtag", *_LENGTHS)
        }

    def probabilities(self, feats: dict[str, float]) -> tuple[float, float, float]:
        zn = zu = zp = 0.0
        weights = self.weights
        for k, v in feats.items():
            w = weights.get(k)
            if w is not None:
                zn += w[0] * v
                zu += w[1] * v
                zp += w[2] * v
        m = max(zn, zu, zp)
        en, eu, ep = math.exp(zn - m), math.exp(zu - m), math.exp(zp - m)
        total = en + eu + ep
        return en / total, eu / total, ep / total

    def probabilities_of(
        self, result: SentimentResult, score: float, stats: TextStats, n_words: int
    ) -> tuple[float, float, float]:
        """`probabilities(sentiment_features(result, score, stats, word_tokens))` without the feature dict: the same
        products, added in the same order (`n_words`: len(word_tokens))."""
        zn = zu = zp = 0.0
        bias, w_score, w_pos, w_neg = self._dense
        if bias is not None:
            zn += bias[0] * 1.0
            zu += bias[1] * 1.0
            zp += bias[2] * 1.0
        if w_score is not None:
            zn += w_score[0] * score
            zu += w_score[1] * score
            zp += w_score[2] * score
        positive, negative = result.positive, result.negative
        if w_pos is not None:
            v = min(positive, 8.0) / 4.0
            zn += w_pos[0] * v
            zu += w_pos[1] * v
            zp += w_pos[2] * v
        if w_neg is not None:
            v = min(-negative, 8.0) / 4.0
            zn += w_neg[0] * v
            zu += w_neg[1] * v
            zp += w_neg[2] * v
        # the binary features, each adding its weights times 1.0, in `sentiment_features` order
        flags = self._flags
        on: list[tuple[float, float, float] | None] = [
            flags["$nolex"] if not positive and not negative else flags["$mixed"] if positive and negative else None
        ]
        if stats.exclaims:
            on.append(flags["$exclaim"])
        if stats.question:
            on.append(flags["$question"])
        if stats.url:
            on.append(flags["$url"])
        if stats.mention:
            on.append(flags["$mention"])
        if stats.caps >= 2:
            on.append(flags["$caps"])
        on.append(flags[_LENGTHS[0 if n_words < 8 else 1 if n_words < 16 else 2]])
        if stats.hashtag:
            on.append(flags["$hashtag"])
        for w in on:
            if w is not None:
                zn += w[0] * 1.0
                zu += w[1] * 1.0
                zp += w[2] * 1.0
        m = max(zn, zu, zp)
        en, eu, ep = math.exp(zn - m), math.exp(zu - m), math.exp(zp - m)
        total = en + eu + ep
        return en / total, eu / total, ep / total

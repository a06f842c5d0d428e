"""Lexicon sentiment for social text: negation, boosters, caps, elongation, emoji, contrast, sarcasm."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.classify.lexicon import Lexicon, Match
from chalicelib.classify.text import Token, single_letter_variant

CAPS_BOOST = 0.733
"""VADER's empirically derived ALL-CAPS increment (Hutto & Gilbert 2014)."""
NEGATION_SCALAR = -0.74
"""VADER's negation scalar: "not good" is less negative than "bad" is."""
EXCLAIM_BOOST = 0.292
ELONGATION_BOOST = 0.3
NORMALISE_ALPHA = 15.0
CONTRAST_BEFORE = 0.5
CONTRAST_AFTER = 1.5


@dataclass(frozen=True)
class SentimentResult:
    score: float
    """-1..+1"""
    positive: float
    negative: float
    sarcasm: bool
    evidence: list[str]


def _booster(lex: Lexicon, words: list[str], i: int, valence: float) -> float:
    scalar = 0.0
    for back, decay in ((1, 1.0), (2, 0.95), (3, 0.9)):
        j = i - back
        if j < 0:
            break
        b = lex.boosters.get(words[j])
        if b is None and len(words[j]) > 2 and words[j][-1] == words[j][-2]:  # "soo", "sooo" -> "so"
            b = lex.boosters.get(single_letter_variant(words[j]))
        if b is not None:
            scalar += b * decay if valence > 0 else -b * decay
    return scalar


def _negated(lex: Lexicon, words: list[str], i: int) -> str | None:
    for back in (1, 2, 3):
        j = i - back
        if j < 0:
            return None
        w = words[j]
        if w in lex.negators:
            nxt = words[j + 1] if j + 1 < len(words) else ""
            if nxt in lex.negation_exceptions:
                return None
            return w
        if w.endswith("n't"):
            return w
    return None


def _word_valences(lex: Lexicon, words: list[str], word_tokens: list[Token]) -> list[tuple[int, float, str]]:
    all_caps_text = bool(word_tokens) and all(t.caps or len(t.raw) < 2 for t in word_tokens)
    # contrast: weight words before the last contrast word down, after it up
    contrast_at = max((c.start for c in lex.contrast.find_all(words)), default=-1)
    valences: list[tuple[int, float, str]] = []  # (word index, valence, what)
    covered = 0
    candidates = lex.valence.starts(words)
    elongated = [i for i, t in enumerate(word_tokens) if t.elongated]
    if elongated:
        candidates = sorted(set(candidates) | set(elongated))
    for i in candidates:
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
        if m.value == 0.0:
            continue
        v = m.value
        sign = 1.0 if v > 0 else -1.0
        notes = [m.phrase]
        if word_tokens[m.start].caps and not all_caps_text:
            v += sign * CAPS_BOOST
            notes.append("CAPS")
        if any(word_tokens[k].elongated for k in range(m.start, m.end)):
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


def _sarcasm(lex: Lexicon, words: list[str], valences: list[tuple[int, float, str]]) -> str | None:
    """Explicit cue, or a positive word beside a problem marker with no sign the problem is over."""
    cue = lex.sarcasm_cues.find_all(words)
    if cue:
        return f"sarcasm cue '{cue[0].phrase}'"
    if any(w in lex.sarcasm_positive for w in words):
        markers = lex.sarcasm_markers.find_all(words)
        has_negative = any(v < 0 for _, v, _ in valences)
        if markers and has_negative and not lex.resolution.find_all(words):
            return f"sarcasm: positive word with '{markers[0].phrase}' and a complaint"
    return None


def score_sentiment(lex: Lexicon, tokens: list[Token], words: list[str], word_tokens: list[Token]) -> SentimentResult:
    """`words` are the normalised word tokens, `word_tokens` the same tokens (for caps/elongation flags)."""
    evidence: list[str] = []
    valences = _word_valences(lex, words, word_tokens)
    for t in tokens:
        if t.kind in ("emo", "sym"):
            ev = lex.emoji.get(t.norm)
            if ev is not None:
                valences.append((-1, ev, f"emoji {t.raw}"))

    why = _sarcasm(lex, words, valences)
    if why:
        evidence.append(why)
        valences = [(k, -abs(v) if v > 0 else v, f"{what} (sarcastic)" if v > 0 else what) for k, v, what in valences]
        if not valences:
            valences.append((-1, -1.5, "sarcasm"))

    pos = sum(v for _, v, _ in valences if v > 0)
    neg = sum(v for _, v, _ in valences if v < 0)
    total = pos + neg
    if total:
        exclaims = min(4, sum(1 for t in tokens if t.raw == "!"))
        if exclaims:
            total += math.copysign(exclaims * EXCLAIM_BOOST, total)
            evidence.append(f"{exclaims}x '!'")
        if len(word_tokens) >= 2 and all(t.caps or len(t.raw) < 2 for t in word_tokens):
            total *= 1.2
            evidence.append("ALL CAPS post")
    score = total / math.sqrt(total * total + NORMALISE_ALPHA)
    evidence[:0] = [f"{what} ({v:+.2f})" for _, v, what in valences]
    return SentimentResult(score, pos, neg, why is not None, evidence)

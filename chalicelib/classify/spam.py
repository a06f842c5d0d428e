"""Spam (promotions, scams, channel plugs) and abuse (insults, slurs, threats aimed at people)."""

from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any

from chalicelib.classify.lexicon import Lexicon
from chalicelib.classify.text import Token

_MONEY = re.compile(r"[£$€₱]\s?\d|\d\s?(?:usd|php|pesos|gbp|eur)\b", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"\d{5,}")
_WINDOW = 3


def spam_score(lex: Lexicon, text: str, tokens: list[Token], words: list[str]) -> tuple[float, list[str]]:
    score = 0.0
    evidence: list[str] = []
    cues = lex.spam_cues.find_all(words)
    for m in cues:
        score += m.value
        evidence.append(f"cue '{m.phrase}'")
    if any(t.kind == "url" for t in tokens):
        score += lex.spam_url_weight
        evidence.append("link")
    if _MONEY.search(text):
        score += lex.spam_money_weight
        evidence.append("money amount")
    if _LONG_DIGITS.search(text) and any(m.value > 0 for m in cues):
        score += lex.spam_digits_weight
        evidence.append("number with promo cue")
    return score, evidence


def abuse_flags(lex: Lexicon, words: list[str]) -> tuple[bool, bool, list[str]]:
    """(abuse, profanity, evidence). Abuse: a slur or threat anywhere, or an insult/profanity aimed at a person."""
    evidence: list[str] = []
    abuse = False
    for m in lex.slurs.find_all(words):
        abuse = True
        evidence.append(f"slur '{m.phrase}'")
    for m in lex.threats.find_all(words):
        abuse = True
        evidence.append(f"threat '{m.phrase}'")
    targets = [m.start for m in lex.abuse_targets.find_all(words)]
    insults = lex.insults.find_all(words)
    for m in insults:
        if any(abs(t - m.start) <= _WINDOW for t in targets):
            abuse = True
            evidence.append(f"insult '{m.phrase}' aimed at a person")
    profane = lex.profanity.find_all(words)
    masked = [w for w in words if "*" in w and w[0].isalpha()]
    for m in profane:
        after = words[m.end : m.end + 2]
        if after and after[0] in ("you", "u", "ya", "off", "kayo", "ka", "mo", "nyo", "niyo"):
            abuse = True
            evidence.append(f"profanity '{m.phrase}' aimed at a person")
    if profane or masked:
        evidence.append("profanity: " + ", ".join([m.phrase for m in profane] + masked))
    return abuse, bool(profane or masked), evidence


def spam_features(text: str, tokens: list[Token], words: list[str]) -> set[str]:
    """Binary features of the learned spam model (scripts/train_spam.py uses this same function)."""
    feats = {f"w:{w}" for w in words}
    feats.update(f"b:{a} {b}" for a, b in pairwise(words))
    if any(t.kind == "url" for t in tokens):
        feats.add("$url")
    if _MONEY.search(text):
        feats.add("$money")
    if _LONG_DIGITS.search(text):
        feats.add("$digits5")
    caps = sum(1 for t in tokens if t.caps)
    if caps >= 3:
        feats.add("$caps3")
    if sum(1 for t in tokens if t.raw == "!") >= 2:
        feats.add("$excl2")
    if any(t.kind == "mention" for t in tokens):
        feats.add("$mention")
    n = len(words)
    feats.add("$len:" + ("short" if n < 6 else "mid" if n < 20 else "long"))
    return feats


def spam_probability(model: dict[str, Any], feats: set[str]) -> float:
    weights: dict[str, float] = model["weights"]
    z = float(model["bias"]) + sum(weights.get(f, 0.0) for f in feats)
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))

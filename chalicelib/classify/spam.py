"""Spam (promotions, scams, channel plugs) and abuse (insults, slurs, threats aimed at people)."""

from __future__ import annotations

import math
import re
from itertools import pairwise, repeat
from typing import Any

from chalicelib.classify.lexicon import Lexicon, Scan
from chalicelib.classify.text import TextStats, Token

_MONEY = re.compile(r"[£$€₱]\s?\d|\d\s?(?:usd|php|pesos|gbp|eur)\b", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"\d{5,}")
_DIGIT = re.compile(r"\d")
_WINDOW = 3


def spam_score(lex: Lexicon, text: str, stats: TextStats, scan: Scan) -> tuple[float, list[str]]:
    score = 0.0
    evidence: list[str] = []
    cues = scan.find(lex.spam_cues)
    for m in cues:
        score += m.value
        evidence.append(f"cue '{m.phrase}'")
    if stats.url:
        score += lex.spam_url_weight
        evidence.append("link")
    digit = _DIGIT.search(text) is not None
    if digit and _MONEY.search(text):
        score += lex.spam_money_weight
        evidence.append("money amount")
    if digit and any(m.value > 0 for m in cues) and _LONG_DIGITS.search(text):
        score += lex.spam_digits_weight
        evidence.append("number with promo cue")
    return score, evidence


def abuse_flags(lex: Lexicon, scan: Scan) -> tuple[bool, bool, list[str]]:
    """(abuse, profanity, evidence). Abuse: a slur or threat anywhere, or an insult/profanity aimed at a person."""
    words = scan.words
    evidence: list[str] = []
    abuse = False
    for m in scan.find(lex.slurs):
        abuse = True
        evidence.append(f"slur '{m.phrase}'")
    for m in scan.find(lex.threats):
        abuse = True
        evidence.append(f"threat '{m.phrase}'")
    insults = scan.find(lex.insults)
    targets = [m.start for m in scan.find(lex.abuse_targets)] if insults else []
    for m in insults:
        if any(abs(t - m.start) <= _WINDOW for t in targets):
            abuse = True
            evidence.append(f"insult '{m.phrase}' aimed at a person")
    profane = scan.find(lex.profanity)
    masked = [w for w in words if "*" in w and w[0].isalpha()] if "*" in "".join(words) else []
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


class SpamModel:
    """`spam_probability(model, spam_features(...))` without building the feature strings: the weights are
    split by feature kind at load time (unigram, bigram as first word -> second word -> weight, shape)."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.bias = float(model["bias"])
        self.unigrams: dict[str, float] = {}
        self.bigrams: dict[str, dict[str, float]] = {}
        self.shapes: dict[str, float] = {}
        for feat, weight in model["weights"].items():
            kind, rest = feat[:2], feat[2:]
            if kind == "w:":
                self.unigrams[rest] = float(weight)
            elif kind == "b:":
                first, _, second = rest.partition(" ")
                self.bigrams.setdefault(first, {})[second] = float(weight)
            else:
                self.shapes[feat] = float(weight)

    def probability(self, text: str, stats: TextStats, words: list[str]) -> float:
        unique = set(words)
        z = self.bias + sum(map(self.unigrams.get, unique, repeat(0.0)))
        bigrams = self.bigrams
        if not bigrams.keys().isdisjoint(unique):
            seen: set[tuple[str, str]] = set()
            for a, b in pairwise(words):
                nxt = bigrams.get(a)
                if nxt is not None:
                    v = nxt.get(b)
                    if v is not None and (a, b) not in seen:
                        seen.add((a, b))
                        z += v
        shapes = self.shapes
        if stats.url:
            z += shapes.get("$url", 0.0)
        if stats.mention:
            z += shapes.get("$mention", 0.0)
        if stats.caps >= 3:
            z += shapes.get("$caps3", 0.0)
        if stats.exclaims >= 2:
            z += shapes.get("$excl2", 0.0)
        if _DIGIT.search(text) is not None:
            if _MONEY.search(text):
                z += shapes.get("$money", 0.0)
            if _LONG_DIGITS.search(text):
                z += shapes.get("$digits5", 0.0)
        n = len(words)
        z += shapes.get("$len:" + ("short" if n < 6 else "mid" if n < 20 else "long"), 0.0)
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))


def spam_probability(model: dict[str, Any], feats: set[str]) -> float:
    weights: dict[str, float] = model["weights"]
    z = float(model["bias"]) + sum(weights.get(f, 0.0) for f in feats)
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))

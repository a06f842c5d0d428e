"""The learned model's inputs: hashed words, character n-grams and word pairs, plus the lexicon's own evidence.

Built from the one scanner pass and the lexicon's reading of the post, so there is one tokenisation. Training
(`chalicelib/cli/training.py`) and inference (`learned.CareModel`) read the same `ModelInput`.
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any, NamedTuple

from chalicelib.classify.brands import Brand
from chalicelib.classify.lexicon import Lexicon, Scan
from chalicelib.classify.text import TextStats, Token

BUCKETS = 1 << 18
CHAR_NGRAMS = (3, 4)
MAX_WORD = 24
"""Longer 'words' (hashes, glued URLs) give no character n-grams."""
_DIGITS = re.compile(r"\d+")
POST_KINDS = ("dm", "reply", "comment", "mention", "post")
FEATURES = 2
"""What `model_input` builds, as a model file records it (`features`; absent: 1). 2: an operator's name in the words
is one placeholder word — US for the brand the post is to, OPERATOR for any other — so what the model learns from
"switching from <name> to <name>" or "<name> is down again" carries to operators it never saw; 1: names as words."""
US = "⟨us⟩"
OPERATOR = "⟨op⟩"


class PostShape(NamedTuple):
    """What the platform says about a post, beyond its text."""

    kind: str
    """dm | reply (to a thread or the brand) | comment (on the brand's page) | mention | post"""
    addressed: bool


class LexiconReading(NamedTuple):
    """What the lexicon found in a post: the evidence the model learns from, besides the words."""

    topic_hits: dict[str, list[str]]
    intent_hits: list[str]
    """'topic/intent' per matched phrase"""
    lexicon_topic: str
    sentiment: float
    """lexicon score after the profanity rule"""
    positive: float
    negative: float
    sarcasm: bool
    churn: float
    churn_phrases: int
    profane: bool
    abuse: bool
    question: bool
    urgency: float
    language: str
    spam_cues: float
    spam_p: float | None
    money: bool
    run5: bool
    pii: bool


class ModelInput(NamedTuple):
    words: list[str]
    """distinct word forms (digits folded to 0), first-seen order: each brings its unigram and character n-grams"""
    pairs: list[str]
    """hashed keys of the distinct adjacent word pairs ('b:a b') and symbol tokens ('s:x')"""
    dense: list[tuple[str, float]]
    """named features: lexicon evidence, text shape, platform facts, brand/competitor mentions"""
    scale: float = 1.0
    """1 / sqrt(number of hashed keys): a long post's words count as much, together, as a short post's"""


def bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) & (BUCKETS - 1)


def _char_keys(word: str, prefix: str) -> list[str]:
    """The word's character 3- and 4-grams with boundary marks, as `prefix` keys (none for an over-long word)."""
    if len(word) > MAX_WORD:
        return []
    padded = "<" + word + ">"
    return [prefix + padded[i : i + n] for n in CHAR_NGRAMS for i in range(len(padded) - n + 1)]


def word_keys(word: str) -> list[str]:
    """A word's hashed features: the word, and its character 3- and 4-grams with boundary marks."""
    return ["w:" + word, *_char_keys(word, "c:")]


def context_char_keys(word: str) -> list[str]:
    """The character 3- and 4-grams of a word of the message replied to (as `xc:` keys)."""
    return _char_keys(word, "xc:")


_FORMS: dict[str, str] = {}
_KEYS: dict[str, int] = {}


def _keys(word: str) -> int:
    """len(word_keys(word)), memoised."""
    n = _KEYS[word] = len(word_keys(word))
    if len(_KEYS) >= 200_000:
        _KEYS.clear()
    return n


def _form(norm: str) -> str:
    """The word with digit runs folded to one 0 ("500mbps" -> "0mbps"), memoised."""
    form = _FORMS.get(norm)
    if form is None:
        if len(_FORMS) >= 200_000:
            _FORMS.clear()
        form = _FORMS[norm] = norm if norm.isalpha() else _DIGITS.sub("0", norm)
    return form


def _score_band(score: float) -> str:
    """The lexicon score as a band: lets a linear model place the neutral zone and the strong ends itself."""
    if score <= -0.5:
        return "lsb:neg2"
    if score <= -0.05:
        return "lsb:neg1"
    if score < 0.05:
        return "lsb:zero" if score else "lsb:none"
    return "lsb:pos1" if score < 0.5 else "lsb:pos2"


def _length(n: int) -> str:
    return "0" if n == 0 else "1-2" if n < 3 else "3-7" if n < 8 else "8-19" if n < 20 else "20-39" if n < 40 else "40+"


def model_input(  # noqa: PLR0915 - one flat list of features is the readable form
    lex: Lexicon,
    scan: Scan,
    word_tokens: list[Token],
    stats: TextStats,
    mentions: list[str],
    reading: LexiconReading,
    shape: PostShape,
    brand: Brand,
    features: int = FEATURES,
) -> ModelInput:
    """`features`: the version the model reading it was trained on (see FEATURES)."""
    forms = [_FORMS.get(w) or _form(w) for w in scan.words]
    named = _operator_names(lex, scan, word_tokens, brand)
    if features >= 2 and named:
        for m, who in reversed(named):
            forms[m.start : m.end] = [US if who else OPERATOR]
    words = list(dict.fromkeys(forms))
    n_keys = 0
    for w in words:
        n_keys += _KEYS.get(w) or _keys(w)
    pairs: list[str] = []
    seen: set[str] = set()
    prev = ""
    for form in forms:
        if prev:
            key = "b:" + prev + " " + form
            if key not in seen:
                seen.add(key)
                pairs.append(key)
        prev = form
    for t in stats.symbols:
        key = "s:" + t.norm
        if key not in seen:
            seen.add(key)
            pairs.append(key)

    # Whether the platform calls it addressed is not a feature: every post a channel hands the model is (the pack
    # ignores the rest before any model-driven rule), so it would only be a second bias.
    dense: list[tuple[str, float]] = [("kind:" + shape.kind, 1.0)]
    for topic, phrases in reading.topic_hits.items():
        dense.append(("lt:" + topic, float(min(3, len(phrases)))))
    for intent in dict.fromkeys(reading.intent_hits):
        dense.append(("li:" + intent, 1.0))
    dense.append(("lp:" + reading.lexicon_topic, 1.0))
    dense.append(("ls:score", reading.sentiment))
    dense.append((_score_band(reading.sentiment), 1.0))
    if reading.positive:
        dense.append(("ls:pos", min(reading.positive, 8.0) / 4.0))
    if reading.negative:
        dense.append(("ls:neg", min(-reading.negative, 8.0) / 4.0))
    if reading.sarcasm:
        dense.append(("ls:sarcasm", 1.0))
    if reading.churn:
        dense.append(("ch:score", reading.churn))
    if reading.churn_phrases:
        dense.append(("ch:phrases", float(min(3, reading.churn_phrases))))
    if reading.profane:
        dense.append(("ab:profane", 1.0))
    if reading.abuse:
        dense.append(("ab:abuse", 1.0))
    if reading.question:
        dense.append(("q", 1.0))
    if reading.urgency:
        dense.append(("urgency", reading.urgency))
    dense.append(("lang:" + reading.language, 1.0))
    if reading.spam_cues:
        dense.append(("sp:cues", min(reading.spam_cues, 3.0)))
    if reading.spam_p is not None:
        dense.append(("sp:p", reading.spam_p))
    if reading.money:
        dense.append(("money", 1.0))
    if reading.run5:
        dense.append(("digits5", 1.0))
    if reading.pii:
        dense.append(("pii", 1.0))
    dense += _shape(stats, word_tokens)
    dense += _operators(lex, scan, mentions, brand, named)
    dense += _leaving(scan.words, word_tokens)
    n_keys += len(pairs)
    return ModelInput(words, pairs, dense, 1.0 / math.sqrt(n_keys) if n_keys > 1 else 1.0)


def _shape(stats: TextStats, word_tokens: list[Token]) -> list[tuple[str, float]]:
    out = [("len:" + _length(len(word_tokens)), 1.0)]
    if stats.exclaims:
        out.append(("exclaim", float(min(stats.exclaims, 3))))
    if stats.caps >= 2:
        out.append(("caps", 1.0))
    if stats.all_caps and len(word_tokens) >= 2:
        out.append(("allcaps", 1.0))
    if stats.url:
        out.append(("url", 1.0))
    if stats.hashtag:
        out.append(("hashtag", 1.0))
    if stats.question:
        out.append(("qmark", 1.0))
    if stats.elongated:
        out.append(("elongated", 1.0))
    if stats.symbols:
        out.append(("symbols", 1.0))
    return out


SWITCH_WINDOW = 4
DIRECTION_WINDOW = 2
DIRECTION_LINKS = {"to": "to", "with": "to", "from": "from", "leaving": "from", "left": "from"}
"""A port or switch has a direction: "port my number from Jio to Airtel" comes *to* the brand (porting in, not
churn); "from <this brand> to …" leaves it. `op:to_brand`, `op:from_brand`, `op:to_competitor`, `op:from_competitor`
say which way the words point, for any brand the gazetteer knows."""


def _operator_names(lex: Lexicon, scan: Scan, word_tokens: list[Token], brand: Brand) -> list[tuple[Any, bool]]:
    """Each gazetteer match that names an operator, and whether it is this brand."""
    gazetteer = lex.gazetteer
    if gazetteer is None:
        return []
    return [(m, brand.is_us(m)) for m in scan.find(lex.operators) if gazetteer.names_an_operator(m, word_tokens)]


def _operators(
    lex: Lexicon, scan: Scan, mentions: list[str], brand: Brand, named: list[tuple[Any, bool]]
) -> list[tuple[str, float]]:
    """Mentions of this brand and of other operators (by name or handle), a switch verb before another one, and which
    way a link word before a name points (`op:to_brand`, `op:from_competitor`, ...: see DIRECTION_LINKS)."""
    out: list[tuple[str, float]] = []
    handles = brand.handles
    gazetteer = lex.gazetteer
    brand_handle = other_op_handle = other_handle = False
    for m in mentions:
        if m in handles:
            brand_handle = True
        elif gazetteer is not None and m in gazetteer.by_handle:
            other_op_handle = True
        else:
            other_handle = True
    if brand_handle:
        out.append(("m:brand", 1.0))
    if other_op_handle:
        out.append(("m:operator", 1.0))
    if other_handle:
        out.append(("m:other", 1.0))
    if gazetteer is None:
        return out
    us = competitor = switch = False
    directions: set[str] = set()
    words = scan.words
    verbs = lex.switch_verbs
    for match, is_us in named:
        who = "brand" if is_us else "competitor"
        before = words[max(0, match.start - DIRECTION_WINDOW) : match.start]
        for link in DIRECTION_LINKS.keys() & before:
            directions.add(f"op:{DIRECTION_LINKS[link]}_{who}")
        if who == "brand":
            us = True
            continue
        competitor = True
        if not switch and not verbs.isdisjoint(words[max(0, match.start - SWITCH_WINDOW) : match.start]):
            switch = True
    if us:
        out.append(("op:brand", 1.0))
    if competitor or other_op_handle:
        out.append(("op:competitor", 1.0))
    if switch:
        out.append(("op:switch", 1.0))
    out.extend((d, 1.0) for d in sorted(directions))
    return out


# Generic switching and cancelling language, for any operator (no names needed): "switching to <anyone>", "going
# with <Name>", "cancel my line" — and the cancelling that is not leaving ("cancelled my appointment", "charged
# for the line I cancelled"), which the churn phrases alone cannot tell apart.
SWITCH_ANY = frozenset({"switch", "switching", "switched", "port", "porting", "ported", "jump", "jumping", "jumped"})
SWITCH_NAMED = frozenset({"move", "moving", "moved", "go", "going", "went", "change", "changing", "sign", "signing"})
SWITCH_LINKS = frozenset({"to", "over", "with", "up", "out"})
SERVICE_NOUNS = frozenset(
    {
        "service",
        "services",
        "line",
        "lines",
        "contract",
        "account",
        "plan",
        "subscription",
        "internet",
        "broadband",
        "wifi",
        "connection",
        "number",
        "sim",
        "tv",
        "cable",
        "package",
        "fibre",
        "fiber",
        "phone",
        "landline",
        "postpaid",
        "membership",
        "everything",
        "all",
    }
)
ERRAND_NOUNS = frozenset(
    {
        "appointment",
        "order",
        "visit",
        "technician",
        "tech",
        "booking",
        "engineer",
        "payment",
        "autopay",
        "addon",
        "add",
        "upgrade",
        "request",
        "ticket",
        "callback",
        "install",
        "installation",
        "delivery",
        "roaming",
        "bolt",
        "bundle",
        "pass",
        "card",
        "check",
        "transfer",
    }
)
CANCEL_WORDS = frozenset(
    {
        "cancel",
        "cancelling",
        "canceling",
        "cancellation",
        "terminate",
        "terminating",
        "disconnect",
        "disconnecting",
        "close",
        "closing",
        "end",
        "ending",
        "stop",
        "stopping",
    }
)
CANCELLED_WORDS = frozenset({"cancelled", "canceled", "terminated", "disconnected", "closed"})
_OBJECT_WINDOW = 3


def _leaving(words: list[str], word_tokens: list[Token]) -> list[tuple[str, float]]:
    """`sw:to`: a switch verb then to/over/with and anyone (or a going/moving verb then a capitalised name);
    `cx:service` / `cx:errand`: cancelling aimed at the service itself or at an errand; `cx:past`: something was
    cancelled already (a complaint about what came after, not a wish to leave)."""
    out: list[tuple[str, float]] = []
    switch = service = errand = past = False
    n = len(words)
    for i, w in enumerate(words):
        if not switch and (w in SWITCH_ANY or w in SWITCH_NAMED):
            j = i + 1
            while j < n and words[j] in SWITCH_LINKS and j - i <= 2:
                j += 1
            if j > i + 1 and j < n:
                raw = word_tokens[j].raw if j < len(word_tokens) else ""
                named = raw[:1].isupper() and raw.lower() not in ("i", "my", "the", "a", "an")
                switch = w in SWITCH_ANY or named
        if w in CANCEL_WORDS or w in CANCELLED_WORDS:
            after = words[i + 1 : i + 1 + _OBJECT_WINDOW]
            if not SERVICE_NOUNS.isdisjoint(after) and w not in ("stop", "stopping", "end", "ending"):
                service = True
            if not ERRAND_NOUNS.isdisjoint(after) or not ERRAND_NOUNS.isdisjoint(words[max(0, i - 2) : i]):
                errand = True
            if w in CANCELLED_WORDS:
                past = True
    if switch:
        out.append(("sw:to", 1.0))
    if service:
        out.append(("cx:service", 1.0))
    if errand:
        out.append(("cx:errand", 1.0))
    if past:
        out.append(("cx:past", 1.0))
    return out

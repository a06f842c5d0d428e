"""Spam (promotions, scams, channel plugs) and abuse (insults, slurs, threats aimed at people)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from itertools import pairwise, repeat
from typing import Any, NamedTuple

from chalicelib.classify.lexicon import Lexicon, Scan
from chalicelib.classify.text import TextStats, Token

_MONEY = re.compile(r"[£$€₱]\s?\d|\d\s?(?:usd|php|pesos|gbp|eur)\b", re.IGNORECASE)
_LONG_DIGITS = re.compile(r"\d{5,}")
_DIGIT = re.compile(r"\d")
_WINDOW = 3


def spam_score(lex: Lexicon, text: str, stats: TextStats, scan: Scan) -> tuple[float, list[str]]:
    digit = _DIGIT.search(text) is not None
    money = digit and _MONEY.search(text) is not None
    return spam_cue_score(lex, stats, scan, money, digit and _LONG_DIGITS.search(text) is not None)


def has_money(text: str, decimal: bool) -> bool:
    """A money amount in `text`; `decimal`: the text has a digit (the pattern needs one)."""
    return decimal and _MONEY.search(text) is not None


def spam_cue_score(lex: Lexicon, stats: TextStats, scan: Scan, money: bool, run5: bool) -> tuple[float, list[str]]:
    """`spam_score` given the text's money amount and 5+ digit run flags."""
    score = 0.0
    evidence: list[str] = []
    cues = scan.find(lex.spam_cues)
    for m in cues:
        score += m.value
        evidence.append(f"cue '{m.phrase}'")
    if stats.url:
        score += lex.spam_url_weight
        evidence.append("link")
    if money:
        score += lex.spam_money_weight
        evidence.append("money amount")
    if run5 and any(m.value > 0 for m in cues):
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
    split by feature kind at load time (unigram; bigram as first word -> second word -> weight; shape)."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.bias = float(model["bias"])
        self.unigrams: dict[str, float] = {}
        self.bigrams: dict[str, dict[str, float]] = {}
        self.shapes: dict[str, float] = {}
        unigrams, bigrams, shapes = self.unigrams, self.bigrams, self.shapes
        for feat, weight in model["weights"].items():
            kind = feat[:2]
            if kind == "w:":
                unigrams[feat[2:]] = float(weight)
            elif kind == "b:":
                first, _, second = feat[2:].partition(" ")
                after = bigrams.get(first)
                if after is None:
                    bigrams[first] = {second: float(weight)}
                else:
                    after[second] = float(weight)
            else:
                shapes[feat] = float(weight)
        self._url = shapes.get("$url", 0.0)
        self._mention = shapes.get("$mention", 0.0)
        self._caps3 = shapes.get("$caps3", 0.0)
        self._excl2 = shapes.get("$excl2", 0.0)
        self._money = shapes.get("$money", 0.0)
        self._digits5 = shapes.get("$digits5", 0.0)
        self._len = (shapes.get("$len:short", 0.0), shapes.get("$len:mid", 0.0), shapes.get("$len:long", 0.0))

    def probability(self, text: str, stats: TextStats, words: list[str]) -> float:
        digit = _DIGIT.search(text) is not None
        money = digit and _MONEY.search(text) is not None
        return self.probability_of(stats, words, money, digit and _LONG_DIGITS.search(text) is not None)

    def probability_of(self, stats: TextStats, words: list[str], money: bool, run5: bool) -> float:
        """`probability` given the text's money amount and 5+ digit run flags."""
        unigram_sum = sum(map(self.unigrams.get, dict.fromkeys(words), repeat(0.0)))
        bigram_weights: dict[tuple[str, str], float] = {}
        bigrams = self.bigrams
        for a, b in pairwise(words):
            after = bigrams.get(a)
            if after is not None:
                v = after.get(b)
                if v is not None:
                    bigram_weights.setdefault((a, b), v)
        return self.probability_from(unigram_sum, bigram_weights.values(), stats, len(words), money, run5)

    def probability_from(
        self,
        unigram_sum: float,
        bigram_weights: Iterable[float],
        stats: TextStats,
        n_words: int,
        money: bool,
        run5: bool,
    ) -> float:
        """The model's probability from its parts: `unigram_sum` over the distinct words (in first-seen order),
        `bigram_weights` of the distinct word pairs that have one (in first-seen order), and the shape flags."""
        z = self.bias + unigram_sum
        for v in bigram_weights:
            z += v
        if stats.url:
            z += self._url
        if stats.mention:
            z += self._mention
        if stats.caps >= 3:
            z += self._caps3
        if stats.exclaims >= 2:
            z += self._excl2
        if money:
            z += self._money
        if run5:
            z += self._digits5
        z += self._len[0 if n_words < 6 else 1 if n_words < 20 else 2]
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))


def spam_probability(model: dict[str, Any], feats: set[str]) -> float:
    weights: dict[str, float] = model["weights"]
    z = float(model["bias"]) + sum(weights.get(f, 0.0) for f in feats)
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


_DOMAIN = re.compile(
    r"\b(?:[a-z0-9][a-z0-9-]*(?:\.|\[\.\]))+(?:com|net|org|co|info|xyz|click|online|club|live|shop|site|top|link|me|ly"
    r"|io|in|ca|uk|au|ph|ng|ke|za|us|mx|es|biz|pro|app|store|win|vip|cc)\b",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\d[\d \-xX]{6,}\d")  # masked digits too: "0812 xxx 4492"


class ScamReading(NamedTuple):
    scam: bool
    """a scam aimed at the brand's customers: spam whatever its topic words"""
    reported: bool
    """shaped like a scam, but the post reports one ("my mum got a text saying she won... is this you?")"""
    evidence: tuple[str, ...]
    warned: bool = False
    """reported in words a scam does not write about itself (`scam.yaml` warnings: "got a text", "is this real?",
    "cuidado"), unlike "legit" or "no scam", which scams write too"""


NOT_A_SCAM = ScamReading(False, False, ())


def _reported(lex: Lexicon, scan: Scan) -> ScamReading | None:
    reports = scan.find(lex.scam_reports)
    if not reports:
        return None
    warned = any(m.value for m in reports)
    return ScamReading(False, True, (f"not a scam: reads as a report ('{reports[0].phrase}')",), warned)


def scam_flags(lex: Lexicon, scan: Scan, text: str, stats: TextStats, money: bool) -> ScamReading:
    """A scam aimed at the brand's customers, in a post that does not report one ("got a text saying I won... is
    this you?"): an ask for credentials ("send your name, number and OTP", "DM your PIN"); or a lure (prize,
    giveaway, free credit, easy money, followers) with a way to bite — an ask (verify, click, DM us, WhatsApp us),
    or a link / bare domain / phone number with a second lure, or a link with a money amount; or someone who
    claims to speak for the brand's care ("official agent here", "Support Team") and sends the customer off the
    channel (a phone number, a link, WhatsApp, "text me") — the fake-support scam, which needs no lure.
    `scam.yaml` holds the phrases."""
    words = scan.words
    credential = _asks_credentials(lex, words)
    lures = scan.find(lex.scam_lures)
    if not lures and not credential:
        return _impostor(lex, scan, text, stats)
    distinct = dict.fromkeys(m.phrase for m in lures)
    asks = scan.find(lex.scam_asks) if lures else []
    link = stats.url or _DOMAIN.search(text) is not None
    number = _PHONE.search(text) is not None
    if not (credential or asks or ((link or number) and len(distinct) >= 2) or (link and money)):
        return NOT_A_SCAM
    report = _reported(lex, scan)
    if report:
        return report
    how = [f"'{m.phrase}'" for m in asks[:2]] + ["a link"] * link + ["a phone number"] * number
    if credential:
        return ScamReading(True, False, (f"scam: asks for {credential}" + (f" ({', '.join(how)})" if how else ""),))
    return ScamReading(
        True, False, (f"scam: lure {', '.join(repr(p) for p in list(distinct)[:3])} and {', '.join(how)}",)
    )


_NOT_SELF = frozenset({"the", "your", "ur", "that", "this", "a", "an", "his", "her", "their", "some", "one"})
"""words before a claim that make it someone else's ("the agent here in the store told me"), not the poster's"""


def _impostor(lex: Lexicon, scan: Scan, text: str, stats: TextStats) -> ScamReading:
    """A claim to be the brand's care ("agent here", "official support") with a way off the channel: a phone number,
    a link or bare domain, or a contact ask ("WhatsApp us", "text me"); not when it reads as a report of one."""
    words = scan.words
    claims = [m for m in scan.find(lex.scam_impostors) if m.start == 0 or words[m.start - 1] not in _NOT_SELF]
    if not claims:
        return NOT_A_SCAM
    contacts = scan.find(lex.scam_contacts) or scan.find(lex.scam_asks)
    link = stats.url or _DOMAIN.search(text) is not None
    number = _PHONE.search(text) is not None
    if not (contacts or link or number):
        return NOT_A_SCAM
    report = _reported(lex, scan)
    if report:
        return report
    how = [f"'{m.phrase}'" for m in contacts[:2]] + ["a link"] * link + ["a phone number"] * number
    claim = claims[0].phrase
    return ScamReading(
        True, False, (f"scam: claims to be the brand's care ('{claim}') and sends the customer to {', '.join(how)}",)
    )


CREDENTIAL_WINDOW = 8


def _asks_credentials(lex: Lexicon, words: list[str]) -> str:
    """'send your ... PIN': an ask verb, `your` next (or one word later), a credential within eight words; the
    credential asked for, else ''."""
    verbs = lex.scam_ask_verbs
    if verbs.isdisjoint(words) or lex.scam_credentials.isdisjoint(words):
        return ""
    for i, w in enumerate(words):
        if w in verbs and ("your" in words[i + 1 : i + 3] or "ur" in words[i + 1 : i + 3]):
            for v in words[i + 2 : i + 2 + CREDENTIAL_WINDOW]:
                if v in lex.scam_credentials:
                    return v
    return ""

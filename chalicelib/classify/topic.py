"""Topic and intent, churn risk, urgency, question and addressee detection."""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

from chalicelib.classify.lexicon import Lexicon, Scan
from chalicelib.classify.text import TextStats, Token

GENERAL = "general"
SECOND_PERSON = (
    ("you", "guys"),
    ("you", "people"),
    ("your", "service"),
    ("your", "network"),
    ("your", "agents"),
    ("your", "app"),
    ("your", "internet"),
    ("your", "signal"),
    ("kayo",),
    ("ninyo",),
    ("niyo",),
    ("nyo",),
    ("ustedes",),
)
_SECOND_PERSON_FIRST = frozenset(cue[0] for cue in SECOND_PERSON)
TOPIC_URGENCY = {
    "outage": 0.4,
    "cancellation": 0.35,
    "billing": 0.25,
    "account": 0.2,
    "device": 0.15,
    "service_complaint": 0.25,
}


class TopicResult(NamedTuple):
    topic: str
    intent: str | None
    hits: dict[str, list[str]]
    evidence: list[str]


def find_topic(lex: Lexicon, scan: Scan, sentiment: float, addressed: bool, churn_competitor: bool) -> TopicResult:
    hits: dict[str, list[tuple[str, str]]] = {}
    for m in scan.find(lex.topics):
        topic, intent = m.value
        hits.setdefault(topic, []).append((intent, m.phrase))
    if churn_competitor:
        hits.setdefault("cancellation", []).append(("switch_to_competitor", "switch verb + competitor"))
    evidence: list[str] = []
    # "thanks" in a complaint is not praise: praise needs the post to read positive.
    if "praise" in hits and sentiment <= 0.05:
        evidence.append("praise words ignored: post does not read positive")
        del hits["praise"]
    # Thanks for a fixed problem is praise: the problem words describe what was resolved.
    if "praise" in hits and sentiment >= 0.5 and "cancellation" not in hits and scan.find(lex.resolution):
        evidence.append("praise for a resolved problem")
        hits = {"praise": hits["praise"], **{t: v for t, v in hits.items() if t != "praise"}}
        chosen: str | None = "praise"
    else:
        chosen = next((t for t in lex.precedence if t in hits), None) if hits else None
    flat = {t: [p for _, p in v] for t, v in hits.items()} if hits else {}
    if chosen is None:
        if sentiment <= -0.3 and addressed:
            return TopicResult("service_complaint", None, flat, [*evidence, "negative post addressed to the brand"])
        if sentiment >= 0.5 and addressed:
            return TopicResult("praise", None, flat, [*evidence, "positive post addressed to the brand"])
        return TopicResult("other", None, flat, [*evidence, "no topic phrase"])
    counts: dict[str, int] = {}
    for name, _ in hits[chosen]:
        counts[name] = counts.get(name, 0) + 1
    specific = [i for i in counts if i != GENERAL]
    chosen_intent: str | None = max(specific, key=lambda i: (counts[i], -specific.index(i))) if specific else None
    evidence += [f"{chosen}/{i}: '{p}'" for i, p in hits[chosen]]
    others = [t for t in hits if t != chosen]
    if others:
        evidence.append(f"also matched {', '.join(others)}; {chosen} takes precedence")
    return TopicResult(chosen, chosen_intent, flat, evidence)


def churn(lex: Lexicon, scan: Scan) -> tuple[float, bool, list[str]]:
    """(score 0..1, switch-to-named-competitor, evidence)."""
    words = scan.words
    evidence: list[str] = []
    score = 0.0
    for m in scan.find(lex.churn):
        score += 0.6
        evidence.append(f"churn phrase '{m.phrase}'")
    to_competitor = False
    for c in scan.find(lex.competitors):
        before = words[max(0, c.start - 4) : c.start]
        if any(w in lex.switch_verbs for w in before):
            score += 0.6
            to_competitor = True
            evidence.append(f"switching to competitor '{c.value}' ('{c.phrase}')")
        else:
            score += 0.15
            evidence.append(f"mentions competitor '{c.value}'")
    return min(1.0, score), to_competitor, evidence


def urgency(
    lex: Lexicon, topic: str, scan: Scan, stats: TextStats, sentiment: float, churn_risk: bool
) -> tuple[float, list[str]]:
    score = TOPIC_URGENCY.get(topic, 0.0)
    evidence = [f"topic {topic} (+{score:.2f})"] if score else []
    for m in scan.find(lex.urgency):
        score += m.value
        evidence.append(f"'{m.phrase}' (+{m.value:.2f})")
    if sentiment < 0:
        score += -sentiment * 0.25
        evidence.append(f"negative sentiment (+{-sentiment * 0.25:.2f})")
    if churn_risk:
        score += 0.15
        evidence.append("churn risk (+0.15)")
    if stats.exclaims >= 2 or stats.caps >= 3:
        score += 0.1
        evidence.append("shouting (+0.10)")
    return round(min(1.0, score), 3), evidence


def is_question(lex: Lexicon, stats: TextStats, words: list[str]) -> tuple[bool, list[str]]:
    if stats.question:
        return True, ["question mark"]
    if words and words[0] in lex.question_starters:
        return True, [f"starts with '{words[0]}'"]
    return False, []


def addressed_by_text(
    lex: Lexicon,
    tokens: list[Token],
    words: list[str],
    mentions: list[str] | None = None,
    brand_handles: frozenset[str] | None = None,
) -> tuple[bool, list[str]]:
    """`mentions`: the mention tokens' handles without '@' (`Analysis.mentions`), if already known;
    `brand_handles`: the brand's (default: the lexicon's example operator's)."""
    if mentions is None:
        mentions = [t.norm.lstrip("@") for t in tokens if t.kind == "mention"]
    if brand_handles is None:
        brand_handles = lex.brand_handles
    if mentions:  # else the first token is no mention either
        for first in tokens:
            if first.kind != "punct":
                if first.kind == "mention" and first.norm.lstrip("@") in brand_handles:
                    return True, [f"leading brand handle {first.raw}"]
                break
        if not brand_handles.isdisjoint(mentions):
            brand = next(m for m in mentions if m in brand_handles)
            return True, [f"mentions brand handle @{brand}"]
    present = _SECOND_PERSON_FIRST.intersection(words)
    if present:
        pairs: set[tuple[str, str]] | None = None
        for cue in SECOND_PERSON:
            if cue[0] not in present:
                continue
            if len(cue) == 2:
                if pairs is None:
                    pairs = set(pairwise(words))
                if cue not in pairs:
                    continue
            return True, [f"second-person address '{' '.join(cue)}'"]
    if mentions:
        return False, ["mentions only non-brand handles"]
    return False, ["no brand handle or second-person address"]

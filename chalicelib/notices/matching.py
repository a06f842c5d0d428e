"""Which live notices a post is about, best first. Pure: the processor passes in the live notices
(`Notices.live()`), the post, its classification and the time.

A notice is a candidate only while it is live (scheduled or active, `starts_at <= now < ends_at`) and on
one of its channels; drafts, resolved and expired notices never match. Each dimension the notice names
must not contradict the post: a fibre notice is not about a post that names only mobile data, a Cebu
notice not about a post that names only Quezon City. A dimension the post does not mention is neutral.
At least one of service, region or keyword must positively match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.classify.text import tokenize
from chalicelib.clock import parse
from chalicelib.model import Classification, Notice, Post
from chalicelib.notices.render import pick_language

LIVE = ("scheduled", "active")
SCORES = {"service": 3, "region": 3, "keyword": 2, "topic": 1}
"""Points per matched dimension (keywords count up to two); ties go to the most recently started."""
KIND_TOPICS = {"outage": ("outage",), "maintenance": ("outage",), "policy_change": ("billing", "account")}
"""A small bonus when the post's topic is what the notice's kind is about."""


@dataclass(frozen=True)
class NoticeMatch:
    notice: Notice
    score: int
    reasons: tuple[str, ...]
    """What matched, e.g. `service mobile_data`, `region Quezon City`, `keyword 'no signal'`."""


def is_live(notice: Notice, now: datetime) -> bool:
    if notice.status not in LIVE or parse(notice.starts_at) > now:
        return False
    return notice.ends_at is None or now < parse(notice.ends_at)


def _norms(text: str) -> list[str]:
    return [t.norm for t in tokenize(text) if t.kind in ("word", "hashtag")]


def _contains(words: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(list(words[i : i + n]) == list(phrase) for i in range(len(words) - n + 1))


def match_notices(
    notices: Iterable[Notice], post: Post, classification: Classification, now: datetime
) -> list[NoticeMatch]:
    """The live notices `post` is about, best first."""
    words: list[str] | None = None
    found: list[NoticeMatch] = []
    for notice in notices:
        if not is_live(notice, now) or (notice.channels and post.channel not in notice.channels):
            continue
        reasons: list[str] = []
        score = 0
        contradicted = False
        for dimension, named, mentioned in (
            ("service", notice.services, classification.services),
            ("region", notice.regions, classification.regions),
        ):
            if not named or not mentioned:
                continue
            hits = [m for m in mentioned if m in named]
            if not hits:
                contradicted = True
                break
            score += SCORES[dimension]
            reasons += [f"{dimension} {h}" for h in hits]
        if contradicted:
            continue
        if notice.keywords:
            words = _norms(post.text) if words is None else words
            hits = [k for k in notice.keywords if _contains(words, _norms(k))]
            score += SCORES["keyword"] * min(len(hits), 2)
            reasons += [f"keyword {k!r}" for k in hits]
        if not reasons:
            continue
        if classification.topic in KIND_TOPICS.get(notice.kind, ()):
            score += SCORES["topic"]
            reasons.append(f"topic {classification.topic}")
        found.append(NoticeMatch(notice, score, tuple(reasons)))
    found.sort(key=lambda m: m.notice.id)
    found.sort(key=lambda m: m.notice.starts_at, reverse=True)
    found.sort(key=lambda m: m.score, reverse=True)
    return found


def context_notices(matches: Sequence[NoticeMatch], language: str) -> list[dict[str, Any]]:
    """The `notices` part of the policy context document, best first: what rules may test, and title,
    body and link in the post's language (or the notice's own) for the `notice` action's template."""
    docs = []
    for m in matches:
        chosen = pick_language(m.notice, language)
        docs.append(
            {
                "id": m.notice.id,
                "version": m.notice.version,
                "kind": m.notice.kind,
                "language": chosen,
                "title": m.notice.title[chosen],
                "body": m.notice.body[chosen],
                "link": m.notice.link,
                "services": list(m.notice.services),
                "regions": list(m.notice.regions),
                "starts_at": m.notice.starts_at,
                "ends_at": m.notice.ends_at,
                "score": m.score,
                "matched": list(m.reasons),
            }
        )
    return docs

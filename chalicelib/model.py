"""The few types every pipeline stage speaks. Nothing else crosses a stage boundary."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

Action = Literal["escalate", "reply", "ignore"]
SentimentLabel = Literal["negative", "neutral", "positive"]


def stable_id(prefix: str, *parts: str) -> str:
    """The same id for the same parts, always: a retried write rewrites its item instead of adding one."""
    return prefix + "-" + hashlib.sha256("#".join(parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Event:
    """One platform event split out of a webhook delivery, as it travels on the intake queue.

    `payload` is the platform's own JSON for this one event plus the delivery context the channel
    needs to normalise it (for X: `for_user_id` and the `users` map).
    """

    channel: str
    platform: str
    kind: str
    payload: dict[str, Any]
    received_at: str

    def to_message(self) -> dict[str, Any]:
        """The queue message (shares `payload`, which every queue serialises at once: asdict's deep copy
        was most of the route's time for a 1,000-change delivery)."""
        return {
            "channel": self.channel,
            "platform": self.platform,
            "kind": self.kind,
            "payload": self.payload,
            "received_at": self.received_at,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Event:
        try:
            return cls(
                channel=str(message["channel"]),
                platform=str(message["platform"]),
                kind=str(message["kind"]),
                payload=dict(message["payload"]),
                received_at=str(message["received_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an intake event message: {exc!r}") from exc


@dataclass(frozen=True)
class Author:
    id: str
    handle: str = ""
    name: str = ""


@dataclass(frozen=True)
class Post:
    """A customer post, comment or DM in canonical form."""

    platform: str
    channel: str
    post_id: str
    conversation_id: str
    author: Author
    text: str
    created_at: str
    is_dm: bool = False
    in_reply_to_post_id: str | None = None
    in_reply_to_user_id: str | None = None
    mentions: tuple[str, ...] = ()
    is_quote: bool = False
    language_hint: str | None = None
    by_brand: bool = False
    """The brand's own post or an echo of a message the brand sent: never a customer post."""
    addressed_to_brand: bool = False
    """A DM to the brand, a reply to the brand, or a post that mentions a brand handle."""
    skip_reason: str | None = None
    """Set by the platform for a post that carries nothing to act on (an X retweet): counted, never decided."""
    dedupe_key: str = ""
    """The platform's own dedupe key when `platform#post_id` is not one (ids unique per forum or bot only,
    or one post announced by two events); see each platform's `dedupe`."""

    @property
    def key(self) -> str:
        """Delivery-dedupe key: the same post on the same platform is the same post."""
        return self.dedupe_key or f"{self.platform}#{self.post_id}"

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)  # shallow and explicit: asdict's deep copies dominated the per-post cost
        doc["author"] = dict(self.author.__dict__)
        doc["mentions"] = list(self.mentions)
        doc["key"] = self.key
        return doc


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float
    """-1 (very negative) .. +1 (very positive)."""
    p: dict[str, float] | None = None
    """Calibrated probability of each label (negative, neutral, positive); None without a learned model."""


class Judged(TypedDict):
    """A yes/no judgement policies can read both ways: `classification.needs_human.value` or `.p >= `0.6``."""

    value: bool
    p: float
    """calibrated probability of yes (0 or 1 when only the lexicon judged)"""


@dataclass(frozen=True)
class Classification:
    topic: str
    sentiment: Sentiment
    churn_risk: bool
    addressed_to_brand: bool
    language: str
    intent: str | None = None
    urgency: float = 0.0
    is_question: bool = False
    spam: bool = False
    abuse: bool = False
    pii: tuple[dict[str, Any], ...] = ()
    """Personal data found: type and span only, never the value."""
    regions: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """Per field, the lexicon entries or signals that produced it."""
    needs_human: Judged = field(default_factory=lambda: Judged(value=False, p=0.0))
    """A care agent should see this post (whatever its topic)."""
    churn: Judged = field(default_factory=lambda: Judged(value=False, p=0.0))
    """`churn_risk` with its probability."""
    topic_p: float = 1.0
    """Calibrated probability of `topic` (1.0 when only the lexicon judged)."""
    topics: dict[str, float] = field(default_factory=dict)
    """Every topic's probability (empty without a learned model)."""
    intent_p: float = 1.0
    spam_p: float = 0.0
    abuse_p: float = 0.0
    model: str = ""
    """The learned model's version ('' = lexicon only)."""

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc["sentiment"] = dict(self.sentiment.__dict__)
        if self.sentiment.p is not None:
            doc["sentiment"]["p"] = dict(self.sentiment.p)
        doc["needs_human"] = dict(self.needs_human)
        doc["churn"] = dict(self.churn)
        doc["topics"] = dict(self.topics)
        doc["pii"] = [dict(p) for p in self.pii]
        doc["regions"] = list(self.regions)
        doc["services"] = list(self.services)
        doc["evidence"] = {name: list(found) for name, found in self.evidence.items()}
        return doc


@dataclass(frozen=True)
class Decision:
    post_key: str
    channel: str
    platform: str
    post_id: str
    action: Action
    rule: str
    """Name of the rule that fired ('' when no rule matched)."""
    reason: str
    params: dict[str, Any]
    classification: dict[str, Any]
    rules_evaluated: tuple[str, ...]
    decided_at: str
    actions: tuple[dict[str, Any], ...] = ()
    """Every action taken: type, parameters (after guardrails) and the rule that asked for it."""
    guardrails: tuple[str, ...] = ()
    """What the engine's guardrails blocked or changed, and why."""
    shadow: tuple[dict[str, Any], ...] = ()
    """Shadow rules that matched and what they would have done."""
    post: dict[str, Any] = field(default_factory=dict)
    """The post as decided, so `policies diff` can replay stored decisions."""

    def to_doc(self) -> dict[str, Any]:
        doc = dict(self.__dict__)
        doc["rules_evaluated"] = list(self.rules_evaluated)
        doc["actions"] = [dict(a) for a in self.actions]
        doc["guardrails"] = list(self.guardrails)
        doc["shadow"] = [dict(s) for s in self.shadow]
        return doc


@dataclass(frozen=True)
class Escalation:
    escalation_id: str
    queue: str
    priority: int
    """1 (most urgent) .. 5."""
    status: str
    created_at: str
    due_at: str
    rule: str
    post: dict[str, Any]
    classification: dict[str, Any]

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


NOTICE_KINDS = ("outage", "maintenance", "policy_change", "announcement")
NOTICE_STATUSES = ("draft", "scheduled", "active", "resolved", "expired")


@dataclass(frozen=True)
class Notice:
    """A service notice marketers publish and Carewire answers with (chalicelib/notices/).

    `scheduled` and `active` notices are live (matching checks the time window itself); `resolved` and
    `expired` are final. Every change bumps `version`, the optimistic-concurrency token.
    """

    id: str
    kind: str
    title: dict[str, str]
    """language → text; always has `language`."""
    body: dict[str, str]
    starts_at: str
    status: str
    version: int
    author: str
    """Who made the last change (a Principal id, or `cli:<user>`)."""
    created_at: str
    updated_at: str
    language: str = "en"
    """The language every text has; the fallback for posts in other languages."""
    link: str = ""
    services: tuple[str, ...] = ()
    """Canonical service names from the operator lexicon; empty = every service."""
    regions: tuple[str, ...] = ()
    """Canonical region names from the operator lexicon; empty = everywhere."""
    keywords: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    """Channels whose posts it answers; empty = every channel."""
    ends_at: str | None = None
    announce_on: tuple[str, ...] = ()
    """Channels where publishing queues it as a brand post."""
    follow_up: dict[str, str] = field(default_factory=dict)
    """language → "service restored" text sent on resolution to those told about it; empty = none."""
    resolved_at: str | None = None
    history: tuple[dict[str, Any], ...] = ()
    """Oldest first: version, at, by, action, fields changed."""

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        for name in ("services", "regions", "keywords", "channels", "announce_on", "history"):
            doc[name] = list(doc[name])
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Notice:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in doc.items() if k in known}
        for name in ("services", "regions", "keywords", "channels", "announce_on", "history"):
            values[name] = tuple(values.get(name) or ())
        values["version"] = int(values["version"])
        return cls(**values)

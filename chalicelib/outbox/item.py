"""The outbox item: everything Carewire will say or do on a platform, typed, and the one builder every writer
uses (the act stage, notices, the escalation queue). Pure: no I/O.

    kind           reply · dm · hide · brand_post · notice_follow_up · agent_reply
    target         in_reply_to_post_id (the post answered or hidden), conversation_id, recipient_id (DMs)
    reply_id       the idempotency key, derived from what the item answers — never random — so a retried
                   write finds its own item instead of adding a second one
    status         pending → sending → sent | failed | unknown (request left, answer lost: reconciled);
                   sent → failed when the platform reports it could not deliver (never re-sent by itself);
                   held (waits for a person: outside a platform window, or unknown without a lookup);
                   cancelled (by ops). Moved only by conditional writes (chalicelib/store/outbox.py).
    lane           `<channel>#<conversation>` while the item is open (sparse): items of one lane are sent
                   one at a time, oldest first, so a conversation hears us in the order we decided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from chalicelib.model import stable_id
from chalicelib.publishing import ContentRules

Kind = Literal["reply", "dm", "hide", "brand_post", "notice_follow_up", "agent_reply"]
KINDS: tuple[str, ...] = ("reply", "dm", "hide", "brand_post", "notice_follow_up", "agent_reply")
PENDING, SENDING, SENT, FAILED, UNKNOWN, HELD, CANCELLED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "unknown",
    "held",
    "cancelled",
)
STATES = (PENDING, SENDING, SENT, FAILED, UNKNOWN, HELD, CANCELLED)
OPEN = (PENDING, SENDING, UNKNOWN, HELD)
"""Still to be settled: these keep their lane (and block what comes after them in it)."""
FINAL = (SENT, FAILED, CANCELLED)

_KEY_PREFIX = {
    "reply": "reply",
    "dm": "reply",
    "hide": "hide",
    "brand_post": "notice-post",
    "notice_follow_up": "notice-followup",
    "agent_reply": "agent-reply",
}
"""A decision's public reply and its DM share a prefix: one reply per post, whichever way it goes."""


class OutboxRejected(ValueError):
    """An item the builder refuses (unknown kind, missing target, public text the guard stops)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OutboxItem:
    reply_id: str
    kind: str
    channel: str
    platform: str
    status: str
    created_at: str
    updated_at: str
    text: str = ""
    private: bool = False
    visibility: str = "public"
    in_reply_to_post_id: str = ""
    conversation_id: str = ""
    recipient_id: str = ""
    """The user a DM goes to (the customer)."""
    account_id: str = ""
    """The brand's own account on the platform (X user id, Page id, WhatsApp phone number id)."""
    customer_at: str = ""
    """When the customer last wrote (the answered post): opens the Meta platforms' 24-hour window."""
    lane: str | None = None
    attempts: int = 0
    throttled: int = 0
    platform_id: str | None = None
    sent_at: str | None = None
    delivered_at: str | None = None
    """When the platform reported it delivered to the customer's device (WhatsApp statuses)."""
    read_at: str | None = None
    """When the platform reported it read."""
    error: str | None = None
    not_before: str | None = None
    lease_until: str | None = None
    lease_token: str | None = None
    template: str = ""
    rule: str = ""
    author: str | None = None
    escalation_id: str | None = None
    notice_id: str | None = None
    notice_version: int | None = None
    reason: str | None = None
    wa_template: str | None = None
    """WhatsApp: an approved template name to use outside the 24-hour window."""

    def to_doc(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OutboxItem:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        for name in ("attempts", "throttled"):
            values[name] = int(values.get(name) or 0)
        if values.get("notice_version") is not None:
            values["notice_version"] = int(values["notice_version"])
        return cls(**values)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def lane_of(kind: str, channel: str, conversation_id: str, reply_id: str) -> str:
    if kind == "brand_post":
        return f"{channel}#brand-posts"
    return f"{channel}#{conversation_id or reply_id}"


def check_public_text(text: str, platform: str, contacts: ContentRules | None = None) -> list[str]:
    """The last guard for text the public will see: what is wrong with it ([] = fine).

    Every public outbox item — rule replies, notice answers and follow-ups, brand posts, agents' answers —
    passes through it: no personal data, found the way chalicelib/publishing.py finds it (after
    normalising disguised digits), except the brand's own contact points (`contacts`: its hotline and
    e-mail from policies/brand.yaml). The full content rules (links, markup, mentions) are applied where the
    text is written: templates at policy load, notices when published, agents' replies when sent."""
    from chalicelib.delivery.text import without_urls
    from chalicelib.pii import normalise, personal_data

    seen, spans = personal_data(normalise(without_urls(text)))
    rules = contacts or ContentRules("")
    if any(not rules.is_contact(s["type"], seen[s["start"] : s["end"]]) for s in spans):
        return ["a public reply may not contain personal data; reply privately"]
    return []


def outbox_item(
    *,
    kind: str,
    key: tuple[str, ...],
    channel: str,
    platform: str,
    created_at: str,
    text: str = "",
    private: bool = False,
    in_reply_to_post_id: str = "",
    conversation_id: str = "",
    recipient_id: str = "",
    account_id: str = "",
    customer_at: str = "",
    contacts: ContentRules | None = None,
    **context: Any,
) -> dict[str, Any]:
    """A pending outbox item as its DynamoDB document. `key` names what the item answers (a post key, a
    notice and channel, an escalation and post and text); the id is derived from it, so writing the same
    item twice finds the first (every writer puts it on `attribute_not_exists(reply_id)`).

    `contacts`: the brand's own contact points, which may appear in public text (see check_public_text).
    `context` carries the provenance fields (template, rule, author, escalation_id, notice_id,
    notice_version, reason, wa_template)."""
    if kind not in KINDS:
        raise OutboxRejected("kind", f"unknown kind {kind!r}; valid: {list(KINDS)}")
    if not key or not all(key):
        raise OutboxRejected("key", "an outbox item's id derives from what it answers; got nothing")
    private = private or kind == "dm"
    if kind not in ("dm", "brand_post") and not in_reply_to_post_id:
        raise OutboxRejected("in_reply_to_post_id", f"a {kind} needs the post it answers")
    if private and kind != "hide" and not (recipient_id or conversation_id):
        raise OutboxRejected("recipient_id", "a private message needs its recipient")
    if kind != "hide" and not text.strip():
        raise OutboxRejected("text", "must be non-empty")
    if kind != "hide" and not private:
        problems = check_public_text(text, platform, contacts)
        if problems:
            raise OutboxRejected("text", "; ".join(problems))
    reply_id = stable_id(_KEY_PREFIX[kind], *key)
    unknown = set(context) - {f.name for f in fields(OutboxItem)}
    if unknown:
        raise OutboxRejected("context", f"unknown field(s) {sorted(unknown)}")
    item = OutboxItem(
        reply_id=reply_id,
        kind=kind,
        channel=channel,
        platform=platform,
        status=PENDING,
        created_at=created_at,
        updated_at=created_at,
        text=text,
        private=private,
        visibility="private" if private else "public",
        in_reply_to_post_id=in_reply_to_post_id,
        conversation_id=conversation_id,
        recipient_id=recipient_id,
        account_id=account_id,
        customer_at=customer_at,
        lane=lane_of(kind, channel, conversation_id, reply_id),
        **context,
    )
    return item.to_doc()

"""What Meta's webhooks share (Facebook Pages and Messenger, Instagram, WhatsApp Cloud API).

Wire facts (PLATFORMS.md §2): the GET handshake `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`
is answered with the bare challenge when the token is the channel's `verify_token`; every POST carries
`X-Hub-Signature-256: sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>`; one POST holds up to
1,000 updates as `entry[]` by `changes[]` / `messaging[]`. Each update becomes its own queue event, checked
on its own: one that can never become a post is enqueued as `invalid` (parked with its reason), and the
rest go on. Platform modules (facebook.py, instagram.py, whatsapp.py) say what each update means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import (
    INVALID_KIND,
    NOT_ACTED_ON,
    UNKNOWN_KIND,
    ChallengeResponse,
    Platform,
    Skipped,
    Split,
    header,
)
from chalicelib.channels.common import (
    as_id,
    checked,
    from_unix,
    hmac_hex,
    invalid,
    items,
    obj,
    received,
    rejected_at_intake,
    same,
    text,
)
from chalicelib.channels.errors import ChallengeRejected, MalformedDelivery, MalformedEvent
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""Meta's challenge is an integer; answering only short tokens keeps the echo harmless."""
GRAPH_API = "https://graph.facebook.com/v21.0"
"""Where Facebook, Instagram and WhatsApp send (`Outbound.api` "graph": one sandbox, one override)."""
REFUSED = "verification refused"
"""The one answer to every failed handshake: it never says which part was wrong."""

MESSAGING_NOT_ACTED_ON = {
    "delivery": "deliveries",
    "read": "reads",
    "reaction": "reactions",
    "optin": "opt-ins",
    "referral": "referrals",
    "account_linking": "account linking",
    "policy_enforcement": "policy notices",
    "pass_thread_control": "handover",
    "take_thread_control": "handover",
    "request_thread_control": "handover",
    "app_roles": "handover",
    "message_edit": "edits",
    "standby": "standby",
}


@dataclass(frozen=True)
class Piece:
    """One update found in a delivery that Carewire acts on: its queue event kind and payload."""

    kind: str
    payload: dict[str, Any]
    item: Any
    where: str


class MetaPlatform(Platform):
    """The handshake, signature and batch walk every Meta product shares."""

    signature_header = "x-hub-signature-256"
    signing_secret = "app_secret"
    challenge_secret = "verify_token"
    meta_object = ""
    """The envelope's `object` this platform's channels take ("page", "instagram", ...)."""
    prefix = ""
    """Conversation ids start with it, so ids from two products never meet."""

    def challenge(self, query: Mapping[str, str], secret: str) -> ChallengeResponse:
        mode = query.get("hub.mode")
        token = query.get("hub.verify_token")
        answer = query.get("hub.challenge")
        ok = same(secret, token) if secret else False  # compared first, whatever the other parts say
        if not ok or mode != "subscribe" or not isinstance(answer, str) or not _CHALLENGE.fullmatch(answer):
            raise ChallengeRejected(REFUSED)
        return ChallengeResponse(answer, content_type="text/plain")

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        received_value = header(headers, self.signature_header)
        if not secret or not isinstance(received_value, str) or not isinstance(raw_body, bytes | bytearray):
            return False
        value = received_value.strip()
        expected = "sha256=" + hmac_hex(secret, bytes(raw_body))
        return same(expected, value) and _SIGNATURE.fullmatch(value) is not None

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        return {"X-Hub-Signature-256": "sha256=" + hmac_hex(secret, raw_body)}

    # -- splitting -------------------------------------------------------------------------------------

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        if not isinstance(body, dict):
            raise MalformedDelivery("a Meta delivery must be a JSON object")
        kind = body.get("object")
        if kind != self.meta_object:
            label = f"object:{kind}"[:64] if isinstance(kind, str) else "object:?"
            return Split([], [Skipped(label, f"{UNKNOWN_KIND}: not a {self.meta_object} delivery", known=False)])
        entries = body.get("entry")
        if not isinstance(entries, list):
            raise MalformedDelivery("a Meta delivery must carry an entry list")
        events: list[Event] = []
        skipped: dict[tuple[str, str, bool], int] = {}
        for i, entry in enumerate(entries):
            where = f"entry[{i}]"
            if not isinstance(entry, dict):
                events.append(invalid(self.name, channel, where, f"{where} must be an object", entry, received_at))
                continue
            found: list[Piece | Skipped] = []
            for j, change in enumerate(items(entry.get("changes"))):
                at = f"{where}.changes[{j}]"
                if not isinstance(change, dict):
                    found.append(Piece(INVALID_KIND, {"reason": f"{at} must be an object"}, change, at))
                else:
                    found += self.change_pieces(entry, change, at)
            for j, message in enumerate(items(entry.get("messaging"))):
                at = f"{where}.messaging[{j}]"
                if not isinstance(message, dict):
                    found.append(Piece(INVALID_KIND, {"reason": f"{at} must be an object"}, message, at))
                else:
                    found += self.messaging_pieces(entry, message, at)
            if not found:
                found.append(
                    Skipped("entry:empty", f"{UNKNOWN_KIND}: an entry with no changes or messaging", known=False)
                )
            for piece in found:
                if isinstance(piece, Skipped):
                    key = (piece.kind, piece.reason, piece.known)
                    skipped[key] = skipped.get(key, 0) + piece.count
                elif piece.kind == INVALID_KIND:
                    events.append(
                        invalid(self.name, channel, piece.where, piece.payload["reason"], piece.item, received_at)
                    )
                else:
                    event = Event(channel.id, self.name, piece.kind, piece.payload, received_at)
                    events.append(checked(self.name, channel, piece.where, event, self.check, piece.item))
        return Split(events, [Skipped(k, r, n, known) for (k, r, known), n in skipped.items()])

    def change_pieces(self, entry: dict[str, Any], change: dict[str, Any], where: str) -> list[Piece | Skipped]:
        field = change.get("field")
        label = f"field:{field}"[:64] if isinstance(field, str) else "field:?"
        return [Skipped(label, UNKNOWN_KIND, known=False)]

    def messaging_pieces(self, entry: dict[str, Any], message: dict[str, Any], where: str) -> list[Piece | Skipped]:
        """Messenger and Instagram DMs: messages and postbacks are acted on; echoes, deliveries, reads and
        reactions are acknowledged and counted."""
        base = {"entry_id": entry.get("id"), "entry_time": entry.get("time"), "messaging": message}
        inner = message.get("message")
        if isinstance(inner, dict):
            if inner.get("is_echo") is True:
                return [Skipped("message_echo", f"{NOT_ACTED_ON}: echoes of the brand's own messages")]
            return [Piece("message", base, message, where)]
        if "postback" in message:
            return [Piece("postback", base, message, where)]
        for key, label in MESSAGING_NOT_ACTED_ON.items():
            if key in message:
                return [Skipped(key, f"{NOT_ACTED_ON}: {label}")]
        return [Skipped("messaging:other", UNKNOWN_KIND, known=False)]

    # -- normalising -----------------------------------------------------------------------------------

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind == INVALID_KIND:
            raise rejected_at_intake(event)
        if event.kind in ("message", "postback") and "messaging" in event.payload:
            self.check_owner(as_id(event.payload.get("entry_id")), channel)
            return self.messaging_post(event, channel)
        return self.change_post(event, channel)

    def change_post(self, event: Event, channel: ChannelConfig) -> Post:
        raise MalformedEvent(f"{self.name} event kind {event.kind!r} cannot be normalised")

    def check_owner(self, owner: str | None, channel: ChannelConfig) -> str:
        """The account the update is for must be one of the channel's brand_ids: own-post detection
        trusts it, so a delivery for another account is never decided here."""
        if owner is None:
            raise MalformedEvent("update names no account it is for")
        if not channel.is_brand_id(owner):
            raise MalformedEvent(f"update is for an account that is not one of the brand_ids of channel {channel.id}")
        return owner

    def messaging_post(self, event: Event, channel: ChannelConfig) -> Post:
        owner = as_id(event.payload.get("entry_id"))
        message = obj(event.payload.get("messaging"))
        sender = as_id(obj(message.get("sender")).get("id"))
        recipient = as_id(obj(message.get("recipient")).get("id"))
        if sender is None:
            raise MalformedEvent("message has no sender.id")
        by_brand = sender == owner or channel.is_brand_id(sender)
        customer = recipient if by_brand else sender
        created = from_unix(message.get("timestamp")) or from_unix(event.payload.get("entry_time")) or received(event)
        if event.kind == "postback":
            postback = obj(message.get("postback"))
            post_id = as_id(postback.get("mid")) or f"postback:{sender}:{as_id(message.get('timestamp')) or created}"
            body = text(postback.get("title")) or text(postback.get("payload"))
            reply_to = None
        else:
            inner = obj(message.get("message"))
            mid = as_id(inner.get("mid"))
            if mid is None:
                raise MalformedEvent("message has no mid")
            post_id = mid
            body = text(inner.get("text")) or attachment_text(inner.get("attachments"))
            reply_to = as_id(obj(inner.get("reply_to")).get("mid"))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=f"{self.prefix}:dm:{customer or sender}",
            author=Author(id=sender),
            text=body,
            created_at=created,
            is_dm=True,
            in_reply_to_post_id=reply_to,
            by_brand=by_brand,
            addressed_to_brand=not by_brand,
        )


def attachment_text(attachments: Any) -> str:
    """A stand-in text for a message that is only attachments ("[image]"), so it is still seen."""
    kinds = [text(obj(a).get("type")) or "attachment" for a in items(attachments)]
    return " ".join(f"[{k}]" for k in kinds)


def pieces(kind: str, payload: dict[str, Any], item: Any, where: str) -> list[Piece | Skipped]:
    return [Piece(kind, payload, item, where)]


def not_acted_on(kind: str, label: str, count: int = 1) -> list[Piece | Skipped]:
    return [Skipped(kind, f"{NOT_ACTED_ON}: {label}", count)]


def unknown(kind: str, count: int = 1) -> list[Piece | Skipped]:
    return [Skipped(kind[:64], UNKNOWN_KIND, count, known=False)]


def each(found: Iterable[list[Piece | Skipped]]) -> list[Piece | Skipped]:
    return [piece for group in found for piece in group]

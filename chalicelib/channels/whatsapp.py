"""WhatsApp Cloud API: customer messages (text, buttons, lists, media, locations, contacts) and the
statuses of the messages the brand sent.

`brand_ids` holds the business phone number's `phone_number_id` (every change's `metadata` must name one
of them). Each `messages[]` entry is a post; each `statuses[]` entry becomes a `DeliveryReport` — not a
post — that the processor hands to the delivery stage (sent/delivered/read/failed against the outbox item
whose platform message id it names). Customer reactions are acknowledged and counted.

The customer's WhatsApp id is their phone number: it is the author id (replies need it), but conversation
ids are derived from it with a hash so they can be logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import INVALID_KIND, DeliveryReport, Outbound, Skipped, client_class
from chalicelib.channels.common import as_id, from_unix, items, obj, received, rejected_at_intake, text
from chalicelib.channels.errors import MalformedEvent
from chalicelib.channels.meta import GRAPH_API, MetaPlatform, Piece, not_acted_on, unknown
from chalicelib.model import Author, Event, Post, stable_id

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

MEDIA = ("image", "video", "audio", "document", "sticker")
MESSAGE_TYPES = frozenset({"text", "interactive", "button", "location", "contacts", "order", *MEDIA})
NOT_ACTED_ON_TYPES = {"reaction": "reactions", "system": "system notices"}
STATUSES = frozenset({"sent", "delivered", "read", "failed", "deleted", "warning"})


class WhatsAppPlatform(MetaPlatform):
    name = "whatsapp"
    meta_object = "whatsapp_business_account"
    prefix = "wa"
    text_limit = 4096
    secret_names = ("app_secret", "verify_token", "access_token")
    own_posts = "none arrive as messages: the brand's sends come back only as statuses (delivery reports)"
    dedupe = "whatsapp#<wamid> for messages; statuses by <wamid>#<status> in the delivery stage"
    outbound = Outbound(
        client=client_class("chalicelib.delivery.clients:WhatsAppClient", platform="whatsapp"),
        api="graph",
        default_url=GRAPH_API,
        token="access_token",
        budget=1000,
        budget_window_s=60,
        window="template",
        private_limit=4096,
    )
    """Cloud API messages from the business number: text within 24 hours, an approved template after."""

    def change_pieces(self, entry: dict[str, Any], change: dict[str, Any], where: str) -> list[Piece | Skipped]:
        field = change.get("field")
        if field != "messages":
            return unknown(f"field:{field}" if isinstance(field, str) else "field:?")
        value = change.get("value")
        if not isinstance(value, dict):
            return [Piece("invalid", {"reason": f"{where}.value must be an object"}, change, where)]
        context = {"entry_id": entry.get("id"), "metadata": value.get("metadata")}
        contacts = [c for c in items(value.get("contacts")) if isinstance(c, dict)]
        found: list[Piece | Skipped] = []
        for i, message in enumerate(items(value.get("messages"))):
            at = f"{where}.value.messages[{i}]"
            kind = obj(message).get("type")
            if isinstance(kind, str) and kind in NOT_ACTED_ON_TYPES:
                found += not_acted_on(kind, NOT_ACTED_ON_TYPES[kind])
            elif isinstance(message, dict) and not (isinstance(kind, str) and kind in MESSAGE_TYPES):
                found += unknown(f"message:{kind}" if isinstance(kind, str) else "message:?")
            else:
                sender = obj(message).get("from")
                contact = next((c for c in contacts if sender is not None and c.get("wa_id") == sender), None)
                if contact is None and len(contacts) == 1:
                    contact = contacts[0]
                found.append(Piece("message", {**context, "contact": contact, "message": message}, message, at))
        for i, status in enumerate(items(value.get("statuses"))):
            found.append(Piece("status", {**context, "status": status}, status, f"{where}.value.statuses[{i}]"))
        if "errors" in value:
            found += not_acted_on("errors", "account-level errors")
        if not found:
            found += unknown("messages:empty")
        return found

    report_kinds = frozenset({"status"})

    def change_post(self, event: Event, channel: ChannelConfig) -> Post:
        number = self.check_owner(as_id(obj(event.payload.get("metadata")).get("phone_number_id")), channel)
        if event.kind != "message":
            raise MalformedEvent(f"whatsapp event kind {event.kind!r} cannot be normalised")
        message = obj(event.payload.get("message"))
        post_id = as_id(message.get("id"))
        if post_id is None:
            raise MalformedEvent("message has no id")
        sender = as_id(message.get("from")) or as_id(message.get("from_user_id"))
        if sender is None:
            raise MalformedEvent("message has no from")
        profile = obj(obj(event.payload.get("contact")).get("profile"))
        body = message_text(message)
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=stable_id("wa", number, sender),
            author=Author(id=sender, name=text(profile.get("name"))),
            text=body,
            created_at=from_unix(message.get("timestamp")) or received(event),
            is_dm=True,
            in_reply_to_post_id=as_id(obj(message.get("context")).get("id")),
            by_brand=channel.is_brand_id(sender),
            addressed_to_brand=True,
        )

    def report(self, event: Event, channel: ChannelConfig) -> DeliveryReport:
        """A status of a message the brand sent: for the delivery stage, never a post."""
        if event.kind == INVALID_KIND:
            raise rejected_at_intake(event)
        self.check_owner(as_id(obj(event.payload.get("metadata")).get("phone_number_id")), channel)
        status = obj(event.payload.get("status"))
        message_id = as_id(status.get("id"))
        if message_id is None:
            raise MalformedEvent("status has no id")
        state = status.get("status")
        if not isinstance(state, str) or state not in STATUSES:
            raise MalformedEvent("status is not one of " + ", ".join(sorted(STATUSES)))
        errors = tuple(
            {"code": e.get("code"), "title": text(e.get("title"))}
            for e in items(status.get("errors"))
            if isinstance(e, dict)
        )
        return DeliveryReport(
            platform=self.name,
            channel=channel.id,
            message_id=message_id,
            status=str(state),
            at=from_unix(status.get("timestamp")) or received(event),
            recipient_id=as_id(status.get("recipient_id")) or as_id(status.get("recipient_user_id")),
            errors=errors,
        )


def message_text(message: dict[str, Any]) -> str:
    """What the customer said: the text, the button or list choice, or a media caption ("[image]" if none)."""
    kind = text(message.get("type"))
    if kind == "text":
        return text(obj(message.get("text")).get("body"))
    if kind == "interactive":
        interactive = obj(message.get("interactive"))
        reply = obj(interactive.get("button_reply")) or obj(interactive.get("list_reply"))
        return text(reply.get("title")) or text(reply.get("id"))
    if kind == "button":
        button = obj(message.get("button"))
        return text(button.get("text")) or text(button.get("payload"))
    if kind in MEDIA:
        return text(obj(message.get(kind)).get("caption")) or f"[{kind}]"
    return f"[{kind}]"


PLATFORM = WhatsAppPlatform()

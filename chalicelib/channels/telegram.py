"""Telegram bots: messages to the brand's bot (private chats) and in groups it is in.

Wire facts (PLATFORMS.md §4): one Update per POST; no signature — the bot's `secret_token` (set with
`setWebhook`) comes back in `X-Telegram-Bot-Api-Secret-Token`, compared in constant time. `brand_ids`
holds the bot's user id, `brand_handles` its username. Ids (`update_id`, `message_id`) are only unique
per bot or chat, so the dedupe key carries the channel: `telegram#<channel>#<chat id>:<message id>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import INVALID_KIND, NOT_ACTED_ON, UNKNOWN_KIND, Platform, Skipped, Split, header
from chalicelib.channels.common import as_id, checked, from_unix, obj, received, rejected_at_intake, same, text
from chalicelib.channels.errors import MalformedDelivery, MalformedEvent
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

ACTED_ON = ("message", "business_message")
NOT_ACTED_ON_UPDATES = {
    "edited_message": "edits",
    "edited_business_message": "edits",
    "channel_post": "the brand's own channel posts",
    "edited_channel_post": "edits",
    "callback_query": "button presses",
    "inline_query": "inline queries",
    "chosen_inline_result": "inline results",
    "my_chat_member": "membership changes",
    "chat_member": "membership changes",
    "chat_join_request": "join requests",
    "message_reaction": "reactions",
    "message_reaction_count": "reactions",
    "poll": "polls",
    "poll_answer": "polls",
    "deleted_business_messages": "deletions",
    "business_connection": "business connections",
}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramPlatform(Platform):
    name = "telegram"
    signature_header = "x-telegram-bot-api-secret-token"
    text_limit = 4096
    secret_names = ("secret_token", "bot_token")
    signing_secret = "secret_token"
    own_posts = "the sender is the bot (a brand_id) or a brand handle"
    dedupe = "telegram#<channel>#<chat id>:<message id>"

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        value = header(headers, self.signature_header)
        return bool(secret) and _TOKEN.fullmatch(secret) is not None and same(secret, value)

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        return {"X-Telegram-Bot-Api-Secret-Token": secret}

    def generate_secret(self, name: str) -> str:
        return super().generate_secret(name)[:64]  # Telegram allows 1-256 of A-Z a-z 0-9 _ -

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        if not isinstance(body, dict):
            raise MalformedDelivery("a Telegram update must be a JSON object")
        kinds = [k for k in body if k != "update_id"]
        if not kinds:
            return Split([], [Skipped("update:empty", UNKNOWN_KIND, known=False)])
        kind = kinds[0]
        if kind in NOT_ACTED_ON_UPDATES:
            return Split([], [Skipped(kind, f"{NOT_ACTED_ON}: {NOT_ACTED_ON_UPDATES[kind]}")])
        if kind not in ACTED_ON:
            return Split([], [Skipped(kind[:64], UNKNOWN_KIND, known=False)])
        event = Event(
            channel.id, self.name, "message", {"update_id": body.get("update_id"), "message": body[kind]}, received_at
        )
        return Split([checked(self.name, channel, kind, event, self.normalize, body)], [])

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind == INVALID_KIND:
            raise rejected_at_intake(event)
        if event.kind != "message":
            raise MalformedEvent(f"telegram event kind {event.kind!r} cannot be normalised")
        message = obj(event.payload.get("message"))
        chat = obj(message.get("chat"))
        chat_id = as_id(chat.get("id"))
        message_id = as_id(message.get("message_id"))
        if chat_id is None or message_id is None:
            raise MalformedEvent("message has no chat.id/message_id")
        sender = obj(message.get("from"))
        sender_id = as_id(sender.get("id"))
        if sender_id is None:
            raise MalformedEvent("message has no from.id")
        handle = text(sender.get("username"))
        body = text(message.get("text")) or text(message.get("caption"))
        private = chat.get("type") == "private"
        reply = obj(message.get("reply_to_message"))
        reply_from = as_id(obj(reply.get("from")).get("id"))
        mentions = tuple(dict.fromkeys(w[1:].strip(".,!?:;").lower() for w in body.split() if w.startswith("@")))
        by_brand = channel.is_brand_id(sender_id) or channel.is_brand_handle(handle or None)
        name = " ".join(n for n in (text(sender.get("first_name")), text(sender.get("last_name"))) if n)
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=f"{chat_id}:{message_id}",
            conversation_id=f"tg:{channel.id}:{chat_id}",  # chat ids are per bot
            author=Author(id=sender_id, handle=handle, name=name),
            text=body,
            created_at=from_unix(message.get("date")) or received(event),
            is_dm=private,
            in_reply_to_post_id=f"{chat_id}:{as_id(reply.get('message_id'))}" if reply.get("message_id") else None,
            in_reply_to_user_id=reply_from,
            mentions=mentions,
            language_hint=text(sender.get("language_code")) or None,
            by_brand=by_brand,
            addressed_to_brand=not by_brand
            and (private or channel.is_brand_id(reply_from) or any(channel.is_brand_handle(m) for m in mentions)),
            dedupe_key=f"telegram#{channel.id}#{chat_id}:{message_id}",
        )


PLATFORM = TelegramPlatform()

"""Discourse forums (peer-support communities): new posts and new topics.

Wire facts (PLATFORMS.md §3): one event per POST, the body keyed by the event type (`{"post": {...}}`,
`{"topic": {...}}`, `{"ping": "OK"}`), the event's name in `X-Discourse-Event` (`post_created`, ...), and
`X-Discourse-Event-Signature: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>`.

Dedupe: Discourse's automatic retries carry a new `X-Discourse-Event-Id`, so the key is the post id and the
event — `discourse#<channel>#<post id>#<event>`, with the channel in it because ids are only unique within
one forum. A post's `post_id` is `<topic_id>/<post_number>`, what a reply through the API names.
`topic_created` fires together with `post_created` for post #1 and carries
only the title: its post is recognised and skipped (`skip_reason`), the first post decides.
`brand_handles` are the brand's staff usernames (their posts are the brand's own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import INVALID_KIND, NOT_ACTED_ON, UNKNOWN_KIND, Platform, Skipped, Split, header
from chalicelib.channels.common import as_id, checked, from_iso, hmac_hex, obj, received, rejected_at_intake, same, text
from chalicelib.channels.errors import MalformedDelivery, MalformedEvent
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
_TAGS = re.compile(r"<[^>]{0,2000}>")
ACTED_ON = {"post_created": "post", "topic_created": "topic"}
NOT_ACTED_ON_EVENTS = {
    "post_edited": "edits",
    "post_destroyed": "deletions",
    "post_recovered": "recoveries",
    "topic_edited": "edits",
    "topic_destroyed": "deletions",
    "topic_recovered": "recoveries",
    "topic_status_updated": "topic status changes",
    "ping": "pings",
}
REGULAR_POST = 1
FIRST_POST_ONLY = "a new topic's text arrives with its first post (post_created)"


class DiscoursePlatform(Platform):
    name = "discourse"
    signature_header = "x-discourse-event-signature"
    text_limit = 32000
    secret_names = ("webhook_secret", "api_key")
    signing_secret = "webhook_secret"
    own_posts = "the author's username is one of brand_handles or user_id one of brand_ids (staff accounts)"
    dedupe = "discourse#<channel>#<post id>#<event> (retries carry new event ids)"

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        value = header(headers, self.signature_header)
        if not secret or not isinstance(value, str) or not isinstance(raw_body, bytes | bytearray):
            return False
        ok = same("sha256=" + hmac_hex(secret, bytes(raw_body)), value)
        return ok and _SIGNATURE.fullmatch(value.strip()) is not None

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        return {"X-Discourse-Event-Signature": "sha256=" + hmac_hex(secret, raw_body)}

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        if not isinstance(body, dict):
            raise MalformedDelivery("a Discourse delivery must be a JSON object")
        event_name = header(headers or {}, "x-discourse-event")
        if not isinstance(event_name, str) or not event_name:
            event_name = "ping" if "ping" in body else ""
        if event_name in NOT_ACTED_ON_EVENTS:
            return Split([], [Skipped(event_name, f"{NOT_ACTED_ON}: {NOT_ACTED_ON_EVENTS[event_name]}")])
        key = ACTED_ON.get(event_name)
        if key is None:
            return Split([], [Skipped((event_name or "event:?")[:64], UNKNOWN_KIND, known=False)])
        item = body.get(key)
        payload = {"event": event_name, "event_id": keep_id(header(headers or {}, "x-discourse-event-id")), key: item}
        event = Event(channel.id, self.name, key, payload, received_at)
        return Split([checked(self.name, channel, key, event, self.normalize, item)], [])

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind == INVALID_KIND:
            raise rejected_at_intake(event)
        name = text(event.payload.get("event"))
        if event.kind == "topic":
            return self._topic(event, channel, name)
        if event.kind != "post":
            raise MalformedEvent(f"discourse event kind {event.kind!r} cannot be normalised")
        post = event.payload.get("post")
        if not isinstance(post, dict):
            raise MalformedEvent("post_created carries no post object")
        topic_id = as_id(post.get("topic_id"))
        number = as_id(post.get("post_number"))
        forum_post_id = as_id(post.get("id"))
        if topic_id is None or number is None or forum_post_id is None:
            raise MalformedEvent("post has no id/topic_id/post_number")
        username = text(post.get("username"))
        user_id = as_id(post.get("user_id"))
        body = text(post.get("raw")) or _TAGS.sub(" ", text(post.get("cooked"))).strip()
        title = text(post.get("topic_title"))
        reply_to = as_id(post.get("reply_to_post_number"))
        skip = None
        if post.get("post_type", REGULAR_POST) != REGULAR_POST:
            skip = "a moderator action, small action or whisper, not a member's post"
        elif post.get("hidden") is True or post.get("deleted_at"):
            skip = "hidden or deleted on the forum"
        by_brand = channel.is_brand_handle(username or None) or channel.is_brand_id(user_id)
        mentions = tuple(dict.fromkeys(w[1:].strip(".,!?:;").lower() for w in body.split() if w.startswith("@")))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=f"{topic_id}/{number}",
            conversation_id=f"discourse:{channel.id}:{topic_id}",
            author=Author(id=user_id or f"user:{username}", handle=username, name=text(post.get("name"))),
            text=f"{title}\n\n{body}" if number == "1" and title else body,
            created_at=from_iso(post.get("created_at")) or received(event),
            is_dm=post.get("topic_archetype") == "private_message",
            in_reply_to_post_id=f"{topic_id}/{reply_to}" if reply_to else None,
            mentions=mentions,
            by_brand=by_brand,
            addressed_to_brand=not by_brand and (number == "1" or any(channel.is_brand_handle(m) for m in mentions)),
            skip_reason=skip,
            dedupe_key=f"discourse#{channel.id}#{forum_post_id}#{name or 'post_created'}",
        )

    def _topic(self, event: Event, channel: ChannelConfig, name: str) -> Post:
        topic = event.payload.get("topic")
        if not isinstance(topic, dict):
            raise MalformedEvent("topic_created carries no topic object")
        topic_id = as_id(topic.get("id"))
        if topic_id is None:
            raise MalformedEvent("topic has no id")
        creator = obj(topic.get("created_by"))
        username = text(creator.get("username"))
        user_id = as_id(topic.get("user_id")) or as_id(creator.get("id"))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=f"{topic_id}/1",
            conversation_id=f"discourse:{channel.id}:{topic_id}",
            author=Author(id=user_id or f"user:{username}", handle=username, name=text(creator.get("name"))),
            text=text(topic.get("title")),
            created_at=from_iso(topic.get("created_at")) or received(event),
            is_dm=topic.get("archetype") == "private_message",
            by_brand=channel.is_brand_handle(username or None) or channel.is_brand_id(user_id),
            skip_reason=FIRST_POST_ONLY,
            dedupe_key=f"discourse#{channel.id}#topic:{topic_id}#{name or 'topic_created'}",
        )


def keep_id(value: Any) -> str | None:
    return value[:64] if isinstance(value, str) else None


PLATFORM = DiscoursePlatform()

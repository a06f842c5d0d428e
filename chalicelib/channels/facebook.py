"""Facebook Pages: page feed comments, replies and visitor posts, page mentions, and Messenger.

One channel per Page (`brand_ids` holds the Page id: every `entry.id` must be one of them). Acted on:
feed `comment`/`post`/`status`/`photo`/`video`/`share` items with verb `add`, `mention` updates, Messenger
messages and postbacks. Acknowledged and counted: reactions and likes, edits/removals/moderation verbs,
echoes, deliveries and reads. The Page's own comments and posts (`from.id` is the Page) are recognised
as the brand's (`by_brand`), so a reply Carewire posts never comes back as a customer post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import Outbound, Skipped, client_class
from chalicelib.channels.common import as_id, from_unix, obj, received, text
from chalicelib.channels.errors import MalformedEvent
from chalicelib.channels.meta import GRAPH_API, MetaPlatform, Piece, not_acted_on, pieces, unknown
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

FEED_ITEMS = frozenset({"comment", "post", "status", "photo", "video", "share"})
FEED_NOT_ACTED_ON = {"reaction": "reactions", "like": "likes", "event": "page events", "album": "albums"}


class FacebookPlatform(MetaPlatform):
    name = "facebook"
    meta_object = "page"
    prefix = "fb"
    text_limit = 8000
    """A comment reply; a Messenger text is at most 2,000 (`outbound.private_limit`)."""
    secret_names = ("app_secret", "verify_token", "page_token")
    own_posts = "`from.id` (or Messenger `sender.id`) is the Page (`entry.id`) or one of the brand_ids; echoes"
    dedupe = "facebook#<comment_id or post_id> (a comment sent as `feed` and as `mention` is one post); facebook#<mid>"
    outbound = Outbound(
        client=client_class("chalicelib.delivery.clients:GraphClient", platform="facebook", brand_posts=True),
        api="graph",
        default_url=GRAPH_API,
        token="page_token",
        budget=600,
        budget_window_s=3600,
        window="messaging",
        private_limit=2000,
    )
    """Comment replies, hides and Page posts through the Graph API; Messenger through the Send API."""

    def change_pieces(self, entry: dict[str, Any], change: dict[str, Any], where: str) -> list[Piece | Skipped]:
        field = change.get("field")
        value = change.get("value")
        if field not in ("feed", "mention"):
            return unknown(f"field:{field}" if isinstance(field, str) else "field:?")
        if not isinstance(value, dict):
            return [Piece("invalid", {"reason": f"{where}.value must be an object"}, change, where)]
        item, verb = value.get("item"), value.get("verb")
        if not isinstance(item, str):
            return unknown(f"{field}:?")
        if item in FEED_NOT_ACTED_ON:
            return not_acted_on(item, FEED_NOT_ACTED_ON[item])
        if item not in FEED_ITEMS or (field == "mention" and item not in ("comment", "post")):
            return unknown(f"{field}:{item}")
        if verb != "add":
            label = f"{field}:{verb}"[:64] if isinstance(verb, str) else f"{field}:?"
            return not_acted_on(label, "edits, removals and moderation of existing items")
        payload = {"entry_id": entry.get("id"), "entry_time": entry.get("time"), "field": field, "value": value}
        return pieces(str(field), payload, change, where)

    def change_post(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind not in ("feed", "mention"):
            raise MalformedEvent(f"facebook event kind {event.kind!r} cannot be normalised")
        page = self.check_owner(as_id(event.payload.get("entry_id")), channel)
        value = obj(event.payload.get("value"))
        item = text(value.get("item"))
        top_post = as_id(value.get("post_id"))
        comment_id = as_id(value.get("comment_id"))
        post_id = comment_id if item == "comment" else top_post
        if post_id is None:
            raise MalformedEvent(f"{item or 'item'} has no {'comment_id' if item == 'comment' else 'post_id'}")
        author = obj(value.get("from"))
        author_id = as_id(author.get("id")) or as_id(value.get("sender_id"))
        name = text(author.get("name")) or text(value.get("sender_name"))
        if author_id is None and event.kind == "feed":
            raise MalformedEvent("feed item has no from.id")
        parent = as_id(value.get("parent_id"))
        # Facebook threads comments two deep: a reply's parent is the top-level comment, the thread
        thread = parent if item == "comment" and parent and parent != top_post else post_id
        by_brand = author_id is not None and (author_id == page or channel.is_brand_id(author_id))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=f"fb:{thread}",
            author=Author(id=author_id or f"unknown:{post_id}", name=name),
            text=text(value.get("message")),
            created_at=(
                from_unix(value.get("created_time")) or from_unix(event.payload.get("entry_time")) or received(event)
            ),
            in_reply_to_post_id=parent if item == "comment" else None,
            by_brand=by_brand,
            addressed_to_brand=not by_brand,
        )


PLATFORM = FacebookPlatform()

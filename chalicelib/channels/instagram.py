"""Instagram (professional accounts): comments and live comments on the brand's media, mentions of the
brand, and Instagram DMs (which arrive as `messaging[]`, like Messenger).

`brand_ids` holds the Instagram account id (`entry.id`); `brand_handles` its username. A mention carries
only ids (`comment_id`, `media_id`): its post has no text until the delivery stage's client fetches it,
so a person sees it rather than a rule deciding on nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import Outbound, Skipped, client_class
from chalicelib.channels.common import as_id, from_unix, obj, received, text
from chalicelib.channels.errors import MalformedEvent
from chalicelib.channels.meta import GRAPH_API, MetaPlatform, Piece, pieces, unknown
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

COMMENT_FIELDS = frozenset({"comments", "live_comments"})


class InstagramPlatform(MetaPlatform):
    name = "instagram"
    meta_object = "instagram"
    prefix = "ig"
    text_limit = 2200
    secret_names = ("app_secret", "verify_token", "page_token")
    own_posts = "`from.id` is the account (`entry.id`) or a brand_id, or `from.username` is a brand handle"
    dedupe = "instagram#<comment id> (a comment that also mentions the brand is one post); instagram#<mid>"
    outbound = Outbound(
        client=client_class(
            "chalicelib.delivery.clients:GraphClient", platform="instagram", reply_edge="replies", hide_field="hide"
        ),
        api="graph",
        default_url=GRAPH_API,
        token="page_token",
        budget=200,
        budget_window_s=3600,
        window="messaging",
        private_limit=1000,
    )
    """Comment replies (`/replies`) and hides through the Graph API; DMs through Instagram messaging."""

    def change_pieces(self, entry: dict[str, Any], change: dict[str, Any], where: str) -> list[Piece | Skipped]:
        field = change.get("field")
        if not isinstance(field, str) or (field not in COMMENT_FIELDS and field != "mentions"):
            return unknown(f"field:{field}" if isinstance(field, str) else "field:?")
        if not isinstance(change.get("value"), dict):
            return [Piece("invalid", {"reason": f"{where}.value must be an object"}, change, where)]
        payload = {
            "entry_id": entry.get("id"),
            "entry_time": entry.get("time"),
            "field": field,
            "value": change["value"],
        }
        return pieces("mention" if field == "mentions" else "comment", payload, change, where)

    def change_post(self, event: Event, channel: ChannelConfig) -> Post:
        account = self.check_owner(as_id(event.payload.get("entry_id")), channel)
        value = obj(event.payload.get("value"))
        created = from_unix(event.payload.get("entry_time")) or received(event)
        if event.kind == "mention":
            post_id = as_id(value.get("comment_id")) or as_id(value.get("media_id"))
            if post_id is None:
                raise MalformedEvent("mention has no comment_id or media_id")
            return Post(
                platform=self.name,
                channel=channel.id,
                post_id=post_id,
                conversation_id=f"ig:{post_id}",
                author=Author(id=f"unknown:{post_id}"),
                text=text(value.get("text")),
                created_at=created,
                addressed_to_brand=True,
            )
        if event.kind != "comment":
            raise MalformedEvent(f"instagram event kind {event.kind!r} cannot be normalised")
        post_id = as_id(value.get("id"))
        if post_id is None:
            raise MalformedEvent("comment has no id")
        author = obj(value.get("from"))
        author_id = as_id(author.get("id"))
        if author_id is None:
            raise MalformedEvent("comment has no from.id")
        handle = text(author.get("username"))
        parent = as_id(value.get("parent_id"))
        by_brand = author_id == account or channel.is_brand_id(author_id) or channel.is_brand_handle(handle or None)
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=f"ig:{parent or post_id}",
            author=Author(id=author_id, handle=handle),
            text=text(value.get("text")),
            created_at=created,
            in_reply_to_post_id=parent or as_id(obj(value.get("media")).get("id")),
            mentions=tuple(dict.fromkeys(w[1:].lower() for w in text(value.get("text")).split() if w.startswith("@"))),
            by_brand=by_brand,
            addressed_to_brand=not by_brand,
        )


PLATFORM = InstagramPlatform()

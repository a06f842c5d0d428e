"""The context document: the one JSON document every rule's `when` and `unless` is evaluated over."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig
    from chalicelib.model import Classification, Post


def context_document(
    post: Post,
    classification: Classification | dict[str, Any],
    channel: ChannelConfig,
    now: str,
    facts: dict[str, dict[str, Any]] | None = None,
    notices: list[dict[str, Any]] | None = None,
    incident: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one document every rule's `when` is evaluated over (`facts`: see store.activity.context_parts)."""
    facts = facts or {}
    return {
        "post": post.to_doc(),
        "classification": classification if isinstance(classification, dict) else classification.to_doc(),
        "author": facts.get("author")
        or {"id": post.author.id, "handle": post.author.handle, "posts_24h": 0, "automated_replies_24h": 0},
        "conversation": facts.get("conversation") or {"id": post.conversation_id, "posts": 0, "public_replies_24h": 0},
        "channel": {
            "id": channel.id,
            "platform": channel.platform,
            "brand": channel.brand,
            **(facts.get("channel") or {"public_replies_1h": 0}),
        },
        "brand": {"id": channel.brand, "handles": list(channel.brand_handles)},
        "notices": notices or [],
        "incident": incident,
        "now": now,
    }

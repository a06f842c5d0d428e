"""The notices table's item layout, and the items notices put in other tables (the outbox). Pure.

    notice       pk `notice#<id>`                              sk `notice`
    citation     pk `notice#<id>`                              sk `cited#<platform>#<post_id>`
    follow-up    pk `followup#<platform>#<conversation_id>`    sk `followup`

Only notice items carry `status` and `starts_at`, so the by_status index holds notices alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.clock import iso
from chalicelib.model import Classification, Notice, Post
from chalicelib.notices.render import render_announcement, render_follow_up
from chalicelib.outbox import outbox_item
from chalicelib.publishing import ContentRules

NOTICE_SK = "notice"
CITED = "cited#"
CITATION_TABLE = "notices"
"""The logical table of `citation_item`: the notice action writes `Effect(CITATION_TABLE, item)`."""


def notice_pk(notice_id: str) -> str:
    return f"notice#{notice_id}"


def notice_item(notice: Notice) -> dict[str, Any]:
    return {"pk": notice_pk(notice.id), "sk": NOTICE_SK, **notice.to_doc()}


def citation_item(
    notice_id: str, notice_version: int, post: Post, classification: Classification, now: datetime
) -> dict[str, Any]:
    """The record that `post` was told about notice `notice_id` at `notice_version`: who gets the follow-up
    on resolution. Keyed per post, so a retried decision rewrites the same item. Holds no post text or
    author data. The `notice` action writes it as `Effect(CITATION_TABLE, item)` in the decision's transaction.
    """
    return {
        "pk": notice_pk(notice_id),
        "sk": f"{CITED}{post.key}",
        "notice_id": notice_id,
        "notice_version": int(notice_version),
        "post_key": post.key,
        "platform": post.platform,
        "channel": post.channel,
        "post_id": post.post_id,
        "conversation_id": post.conversation_id,
        "author_id": post.author.id,
        "is_dm": post.is_dm,
        "language": classification.language,
        "cited_at": iso(now),
    }


def follow_up_key(platform: str, conversation_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"followup#{platform}#{conversation_id}"}, "sk": {"S": "followup"}}


def follow_up_marker(notice: Notice, citation: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Marks a conversation as followed up: at most one "service restored" reply per conversation."""
    return {
        "pk": f"followup#{citation['platform']}#{citation['conversation_id']}",
        "sk": "followup",
        "notice_id": notice.id,
        "notice_version": notice.version,
        "at": iso(now),
    }


def follow_up_reply(
    notice: Notice, citation: dict[str, Any], now: datetime, contacts: ContentRules | None = None
) -> dict[str, Any]:
    """A pending outbox reply to the cited post, saying the service is back; its id is stable per conversation.
    `contacts`: the brand's own contact points, which the notice text may carry."""
    return outbox_item(
        contacts=contacts,
        kind="notice_follow_up",
        key=(citation["platform"], citation["conversation_id"]),
        channel=citation["channel"],
        platform=citation["platform"],
        created_at=iso(now),
        text=render_follow_up(notice, str(citation.get("language") or notice.language), citation["platform"]),
        private=bool(citation.get("is_dm")),
        in_reply_to_post_id=citation["post_id"],
        conversation_id=citation["conversation_id"],
        recipient_id=str(citation.get("author_id") or ""),
        customer_at=str(citation.get("cited_at") or ""),
        template="notice-follow-up",
        rule=f"notice:{notice.id}",
        notice_id=notice.id,
        notice_version=notice.version,
    )


def announcement_item(
    notice: Notice, channel: str, platform: str, now: datetime, contacts: ContentRules | None = None
) -> dict[str, Any]:
    """A pending outbox brand post announcing `notice` on `channel` (a post of its own, not a reply)."""
    return outbox_item(
        contacts=contacts,
        kind="brand_post",
        key=(notice.id, channel),
        channel=channel,
        platform=platform,
        created_at=iso(now),
        text=render_announcement(notice, platform),
        template="notice-announcement",
        rule=f"notice:{notice.id}",
        notice_id=notice.id,
        notice_version=notice.version,
    )

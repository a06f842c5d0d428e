"""Who has been heard from and answered lately: the facts behind the context document's `author`,
`conversation` and `channel`, and the reply budgets the engine enforces.

One item per author, conversation and channel. Counters are windows (start + count): a budget counter
is updated with a condition that it is unchanged since it was read, inside the decision's transaction,
so two replies racing for the last unit of a budget cannot both win — the loser re-plans with fresh facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import iso, parse
from chalicelib.model import Post
from chalicelib.store.dynamo import batch_get, from_item
from chalicelib.store.effects import Effect

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
KEEP = timedelta(days=8)


def author_key(post: Post) -> str:
    return f"author#{post.platform}#{post.author.id}"


def conversation_key(post: Post) -> str:
    return f"conv#{post.platform}#{post.conversation_id}"


def channel_key(post: Post) -> str:
    return f"chan#{post.channel}"


@dataclass(frozen=True)
class Facts:
    author: dict[str, Any]
    conversation: dict[str, Any]
    channel: dict[str, Any]


def _current(item: dict[str, Any], counter: str, now: datetime, window: timedelta) -> int:
    start = item.get(f"{counter}_since")
    if start is None or parse(start) <= now - window:
        return 0
    return int(item.get(f"{counter}_n", 0))


class Activity:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def facts(self, post: Post) -> Facts:
        keys = [author_key(post), conversation_key(post), channel_key(post)]
        got = batch_get(self._client, self._table, [{"pk": {"S": k}} for k in keys], ConsistentRead=True)
        items = {i["pk"]: i for i in map(from_item, got)}
        return Facts(*(items.get(k, {}) for k in keys))


def context_parts(post: Post, facts: Facts, now: datetime) -> dict[str, dict[str, Any]]:
    """The `author`, `conversation` and `channel` facts as rules and guardrails see them."""
    author, conversation, channel = facts.author, facts.conversation, facts.channel
    return {
        "author": {
            "id": post.author.id,
            "handle": post.author.handle,
            "posts_24h": _current(author, "posts", now, DAY),
            "automated_replies_24h": _current(author, "replies", now, DAY),
            "last_post_at": author.get("last_post_at"),
            "last_automated_reply_at": author.get("last_reply_at"),
        },
        "conversation": {
            "id": post.conversation_id,
            "posts": int(conversation.get("posts", 0)),
            "public_replies_24h": _current(conversation, "public", now, DAY),
            "last_automated_reply_at": conversation.get("last_reply_at"),
            "open_escalation": conversation.get("open_escalation"),
        },
        "channel": {"public_replies_1h": _current(channel, "public", now, HOUR)},
    }


class _Update:
    def __init__(self, now: datetime) -> None:
        self.sets: list[str] = []
        self.conditions: list[str] = []
        self.values: dict[str, Any] = {
            ":now": iso(now),
            ":one": 1,
            ":zero": 0,
            ":expires": int((now + KEEP).timestamp()),
        }
        self.now = now
        self.sets.append("expires_at = :expires")

    def window(self, item: dict[str, Any], counter: str, window: timedelta, guarded: bool) -> None:
        """Count one more in `counter`'s window; `guarded` adds the optimistic condition (budgets)."""
        since = item.get(f"{counter}_since")
        if since is None or parse(since) <= self.now - window:
            self.sets += [f"{counter}_since = :now", f"{counter}_n = :one"]
            if guarded:
                if since is None:
                    self.conditions.append(f"attribute_not_exists({counter}_since)")
                else:
                    self.values[f":{counter}_since"] = since
                    self.conditions.append(f"{counter}_since = :{counter}_since")
        else:
            self.sets.append(f"{counter}_n = if_not_exists({counter}_n, :zero) + :one")
            if guarded:
                self.values[f":{counter}_since"] = since
                self.values[f":{counter}_n"] = int(item.get(f"{counter}_n", 0))
                self.conditions.append(f"{counter}_since = :{counter}_since AND {counter}_n = :{counter}_n")

    def effect(self, table: str, key: str) -> Effect:
        update = "SET " + ", ".join(self.sets)
        condition = " AND ".join(f"({c})" for c in self.conditions) or None
        used = update + " " + (condition or "")
        # DynamoDB rejects values an expression does not use
        values = {k: v for k, v in self.values.items() if re.search(re.escape(k) + r"(?!\w)", used)}
        return Effect(table, key={"pk": key}, update=update, condition=condition, values=values)


def activity_effects(
    post: Post, facts: Facts, now: datetime, *, replied: bool, public_reply: bool, escalation_id: str | None
) -> list[Effect]:
    """The activity updates that go in the decision's transaction."""
    author = _Update(now)
    author.sets.append("last_post_at = :now")
    author.window(facts.author, "posts", DAY, guarded=False)
    if replied:
        author.sets.append("last_reply_at = :now")
        author.window(facts.author, "replies", DAY, guarded=True)
    conversation = _Update(now)
    conversation.sets += ["last_post_at = :now", "posts = if_not_exists(posts, :zero) + :one"]
    if public_reply:
        conversation.sets.append("last_reply_at = :now")
        conversation.window(facts.conversation, "public", DAY, guarded=True)
    if escalation_id:
        conversation.values[":esc"] = escalation_id
        conversation.sets.append("open_escalation = :esc")
        # the customer's latest case and what it said: a later post of theirs elsewhere can join it
        from chalicelib.incidents.signature import signature

        author.values.update({":esc": escalation_id, ":sig": [f"{h:016x}" for h in signature(post.text)[:32]]})
        author.sets += ["last_escalation = :esc", "last_escalation_at = :now", "last_complaint = :sig"]
    effects = [author.effect("activity", author_key(post)), conversation.effect("activity", conversation_key(post))]
    if public_reply:
        channel = _Update(now)
        channel.window(facts.channel, "public", HOUR, guarded=True)
        effects.append(channel.effect("activity", channel_key(post)))
    return effects

"""Decide without side effects: `carewire decide`, policy test cases and `policies diff` share this."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.channels.config import ChannelConfig
from chalicelib.clock import iso, parse
from chalicelib.model import Author, Classification, Notice, Post, Sentiment
from chalicelib.policy.context import context_document
from chalicelib.policy.engine import Plan, plan
from chalicelib.policy.model import Policy

DEFAULT_NOW = "2026-11-23T03:00:00.000Z"


class PostError(ValueError):
    """A post document that cannot be decided (missing text, unknown channel)."""


NoticeSource = Callable[[Post, Classification, datetime], list[dict[str, Any]]]
"""(post, classification, now) → the `notices` part of its context (the processor's NoticeSource)."""


def notices_from_files(
    paths: Sequence[Path], policies_dir: Path, channels: Mapping[str, ChannelConfig], now: datetime | None = None
) -> NoticeSource:
    """Notice files (as marketers write them) as live notices — checked like `notices publish` checks
    them, never stored — matched to each post as the processor matches live ones. Relative times (`+24h`)
    count from `now` (default: the default decision time)."""
    from chalicelib.notices.matching import context_notices, match_notices
    from chalicelib.notices.validate import Vocabulary, check_fields, read_notice_file

    vocabulary = Vocabulary.load(policies_dir, channels)
    notices = []
    for path in paths:
        values = check_fields(read_notice_file(path), vocabulary, creating=True, now=now or parse(DEFAULT_NOW))
        stamp = values.get("starts_at") or DEFAULT_NOW
        notice_id = values.pop("id", None) or path.stem
        values.setdefault("starts_at", stamp)
        notices.append(
            Notice(
                id=notice_id, status="active", version=1, author="file", created_at=stamp, updated_at=stamp, **values
            )
        )

    def source(post: Post, classification: Classification, now: datetime) -> list[dict[str, Any]]:
        return context_notices(match_notices(notices, post, classification, now), classification.language)

    return source


def post_from_doc(
    doc: Mapping[str, Any], channels: Mapping[str, ChannelConfig], created_at: str = DEFAULT_NOW
) -> tuple[Post, ChannelConfig]:
    """`{"id", "text"}` plus optional platform, channel, author, is_dm, in_reply_to, addressed_to_brand,
    created_at (default `created_at`: the moment it is decided at), and `context`, the text replied to,
    which `decide` passes to the classifier."""
    if not isinstance(doc.get("text"), str):
        raise PostError("a post needs a text")
    channel_id = doc.get("channel") or next(iter(channels))
    channel = channels.get(channel_id)
    if channel is None:
        raise PostError(f"unknown channel {channel_id!r}; known: {sorted(channels)}")
    author = doc.get("author") or {}
    if isinstance(author, str):
        author = {"handle": author}
    text: str = doc["text"]
    mentions = tuple(w[1:].lower().rstrip(".,:;!?") for w in text.split() if w.startswith("@"))
    in_reply_to = doc.get("in_reply_to")
    is_dm = bool(doc.get("is_dm", False))
    addressed = doc.get("addressed_to_brand")
    if addressed is None:
        addressed = is_dm or any(channel.is_brand_handle(m) for m in mentions) or in_reply_to == "brand"
    post_id = str(doc.get("id") or "offline")
    post = Post(
        platform=str(doc.get("platform") or channel.platform),
        channel=channel.id,
        post_id=post_id,
        conversation_id=str(doc.get("conversation_id") or post_id),
        author=Author(
            str(author.get("id") or author.get("handle") or "someone"),
            str(author.get("handle") or ""),
            str(author.get("name") or ""),
        ),
        text=text,
        created_at=str(doc.get("created_at") or created_at),
        is_dm=is_dm,
        in_reply_to_post_id=str(in_reply_to) if in_reply_to else None,
        mentions=mentions,
        by_brand=bool(doc.get("by_brand", False)),
        addressed_to_brand=bool(addressed),
    )
    return post, channel


def what_is_said(
    planned: Plan,
    policy: Policy,
    post: Post,
    classification: Classification,
    now: datetime,
    incident: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The text each replying action would send, exactly as production writes it to the outbox (the
    actions' own effects, nothing written): rule, action, template, private, language, platform, text."""
    from chalicelib.actions import ACTIONS, ActContext

    said = []
    for action in planned.actions:
        if not ACTIONS[action.type].replies:
            continue
        ctx = ActContext(post, classification, action.rule, policy, now, planned.notice, incident)
        for effect in ACTIONS[action.type].effects(action.params, ctx):
            item = effect.item
            if effect.table == "outbox" and item is not None and "text" in item:
                template = action.params.get("template")
                if template:
                    found = template in policy.templates.get(classification.language, {})
                    language = classification.language if found else policy.default_language
                else:
                    language = str((planned.notice or {}).get("language") or classification.language)
                said.append(
                    {
                        "rule": action.rule,
                        "action": action.type,
                        "template": item.get("template"),
                        "private": bool(item.get("private")),
                        "language": language,
                        "platform": post.platform,
                        "text": item["text"],
                    }
                )
    return said


def _override(classification: Classification, changes: Mapping[str, Any]) -> Classification:
    values = dict(changes)
    if "sentiment" in values:
        values["sentiment"] = Sentiment(**values["sentiment"])
    for name in ("pii", "regions", "services"):
        if name in values:
            values[name] = tuple(values[name])
    return dataclasses.replace(classification, **values)


def decide(
    policy: Policy,
    classifier: Any,
    channels: Mapping[str, ChannelConfig],
    doc: Mapping[str, Any],
    *,
    now: datetime | None = None,
    facts: Mapping[str, dict[str, Any]] | None = None,
    notices: list[dict[str, Any]] | None = None,
    classification_overrides: Mapping[str, Any] | None = None,
    incident: dict[str, Any] | None = None,
    notice_source: NoticeSource | None = None,
) -> dict[str, Any]:
    """One post → what the policy would do, why, and the text it would send. Writes nothing (reads only
    what `notice_source` reads). `notices` (context documents) wins over `notice_source`."""
    at = now or parse(str(doc.get("now") or DEFAULT_NOW))
    moment = iso(at)
    post, channel = post_from_doc(doc, channels, moment)
    context = doc.get("context")
    classification = classifier.classify(post, context) if isinstance(context, str) else classifier.classify(post)
    if classification_overrides:
        classification = _override(classification, classification_overrides)
    if notices is None and notice_source is not None:
        notices = notice_source(post, classification, at)
    context = context_document(post, classification, channel, moment, dict(facts or {}), notices, incident)
    planned = plan(policy, context, post, classification)
    return {
        "id": doc.get("id"),
        "action": planned.primary,
        "rule": planned.rule,
        "actions": [{"type": a.type, **a.params, "rule": a.rule} for a in planned.actions],
        "reasons": list(planned.guardrails) + list(planned.errors),
        "rules_evaluated": list(planned.evaluated),
        "shadow": list(planned.shadow),
        "notice": planned.notice and {"id": planned.notice.get("id"), "version": planned.notice.get("version")},
        "replies": what_is_said(planned, policy, post, classification, at, incident),
        "classification": classification.to_doc(),
    }

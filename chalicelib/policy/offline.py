"""Decide without side effects: `carewire decide`, policy test cases and `policies diff` share this."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.channels.config import ChannelConfig
from chalicelib.clock import iso, parse
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.policy.context import context_document
from chalicelib.policy.engine import plan
from chalicelib.policy.model import Policy

DEFAULT_NOW = "2026-11-23T03:00:00.000Z"


class PostError(ValueError):
    """A post document that cannot be decided (missing text, unknown channel)."""


def post_from_doc(doc: Mapping[str, Any], channels: Mapping[str, ChannelConfig]) -> tuple[Post, ChannelConfig]:
    """`{"id", "text"}` plus optional platform, channel, author, is_dm, in_reply_to, addressed_to_brand (and
    `context`, the text replied to, which `decide` passes to the classifier)."""
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
        created_at=str(doc.get("created_at") or DEFAULT_NOW),
        is_dm=is_dm,
        in_reply_to_post_id=str(in_reply_to) if in_reply_to else None,
        mentions=mentions,
        by_brand=bool(doc.get("by_brand", False)),
        addressed_to_brand=bool(addressed),
    )
    return post, channel


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
) -> dict[str, Any]:
    """One post → what the policy would do, and why. Reads and writes nothing."""
    post, channel = post_from_doc(doc, channels)
    context = doc.get("context")
    classification = classifier.classify(post, context) if isinstance(context, str) else classifier.classify(post)
    if classification_overrides:
        classification = _override(classification, classification_overrides)
    moment = iso(now or parse(str(doc.get("now") or DEFAULT_NOW)))
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
        "classification": classification.to_doc(),
    }

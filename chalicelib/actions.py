"""The act stage: what each policy action does. One registry; each action declares the schema of its
parameters (the policy schema is built from it), its load-time checks, and the records it writes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Any, ClassVar

from chalicelib.clock import iso
from chalicelib.escalations import new_item
from chalicelib.model import Classification, OutboxReply, Post
from chalicelib.pii import mask
from chalicelib.policy.model import Policy

TEMPLATE_VARIABLES = ("handle", "name", "channel", "topic")
"""What a reply template may use, as `$handle`; all values are masked before rendering."""

PLATFORM_TEXT_LIMITS = {"x": 280}


@dataclass(frozen=True)
class Effect:
    """A record to write atomically with the decision."""

    table: str
    item: dict[str, Any]


def _stable_id(prefix: str, *parts: str) -> str:
    return prefix + "-" + hashlib.sha256("#".join(parts).encode()).hexdigest()[:20]


class Action:
    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        """Meaning checks at load time: (field, message) for every problem."""
        return []

    def effects(
        self,
        params: Mapping[str, Any],
        post: Post,
        classification: Classification,
        rule: str,
        policy: Policy,
        now: datetime,
    ) -> list[Effect]:
        return []


class Escalate(Action):
    name = "escalate"
    schema = {
        "type": "object",
        "properties": {
            "queue": {"type": "string", "description": "a queue from policies/queues.yaml"},
            "priority": {"type": "integer", "minimum": 1, "maximum": 5, "description": "1 is the most urgent"},
            "sla_minutes": {"type": "integer", "minimum": 1, "description": "overrides the queue's SLA"},
        },
        "required": ["queue", "priority"],
    }

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        if params["queue"] not in policy.queues:
            return [("action.queue", f"unknown queue {params['queue']!r}; valid: {sorted(policy.queues)}")]
        return []

    def effects(
        self,
        params: Mapping[str, Any],
        post: Post,
        classification: Classification,
        rule: str,
        policy: Policy,
        now: datetime,
    ) -> list[Effect]:
        queue = policy.queues[params["queue"]]
        item = new_item(
            post=post,
            classification=classification,
            queue=queue.name,
            priority=int(params["priority"]),
            sla_minutes=int(params.get("sla_minutes") or queue.sla_minutes),
            rule=rule,
            now=now,
        )
        return [Effect("escalations", item)]


class Reply(Action):
    name = "reply"
    schema = {
        "type": "object",
        "properties": {
            "template": {"type": "string", "description": "a template name from policies/templates/"},
            "private": {"type": "boolean", "description": "reply by DM instead of in public"},
        },
        "required": ["template"],
    }

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        try:
            policy.template(params["template"], policy.default_language)
        except KeyError:
            known = sorted({n for by_name in policy.templates.values() for n in by_name})
            return [("action.template", f"unknown template {params['template']!r}; valid: {known}")]
        return []

    def effects(
        self,
        params: Mapping[str, Any],
        post: Post,
        classification: Classification,
        rule: str,
        policy: Policy,
        now: datetime,
    ) -> list[Effect]:
        template = policy.template(params["template"], classification.language)
        text = render(template, post, classification)
        reply = OutboxReply(
            reply_id=_stable_id("reply", post.key, rule),
            status="pending",
            channel=post.channel,
            platform=post.platform,
            in_reply_to_post_id=post.post_id,
            conversation_id=post.conversation_id,
            private=bool(params.get("private", False)) or post.is_dm,
            text=text,
            template=params["template"],
            rule=rule,
            created_at=iso(now),
        )
        return [Effect("outbox", reply.to_doc())]


class Ignore(Action):
    name = "ignore"
    schema = {"type": "object", "properties": {"reason": {"type": "string"}}, "required": []}


ACTIONS: dict[str, Action] = {a.name: a for a in (Escalate(), Reply(), Ignore())}


def render(template: Template, post: Post, classification: Classification) -> str:
    """Fill a template: only known variables, all masked; `Template` substitution cannot run code."""
    values = {
        "handle": "@" + post.author.handle if post.author.handle else "",
        "name": post.author.name.split(" ")[0] if post.author.name else "",
        "channel": post.channel,
        "topic": classification.topic.replace("_", " "),
    }
    text = mask(template.safe_substitute({k: mask(v) for k, v in values.items()})).strip()
    limit = PLATFORM_TEXT_LIMITS.get(post.platform)
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text

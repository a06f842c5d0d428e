"""The act stage: what each policy action does. One registry; each action declares the schema of its
parameters (the policy schema is built from it), its load-time checks, and the records it writes —
all written in one transaction with the decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from chalicelib.clock import iso
from chalicelib.delivery.text import fit, text_length
from chalicelib.escalations import counts, new_item
from chalicelib.model import Classification, Post
from chalicelib.outbox import outbox_item
from chalicelib.pii import mask
from chalicelib.policy.model import Policy, ReplyTemplate
from chalicelib.publishing import every_contact
from chalicelib.reply_text import PLATFORM_TEXT_LIMITS, notice_reply_text
from chalicelib.store.effects import Effect

__all__ = ["ACTIONS", "PLATFORM_TEXT_LIMITS", "ActContext", "Effect", "render"]

TEMPLATE_VARIABLES = ("handle", "name", "channel", "topic", "notice_title", "notice_body", "notice_link")
"""What a reply template may use, as `$handle`; every value is masked before rendering (the template's own
text is the operator's, checked at load against brand.yaml, and never masked)."""


@dataclass(frozen=True)
class ActContext:
    post: Post
    classification: Classification
    rule: str
    policy: Policy
    now: datetime
    notice: dict[str, Any] | None = None
    """For the `notice` action: the best matching active notice the engine chose."""
    incident: dict[str, Any] | None = None
    """The open incident (a storm) this post belongs to, if any."""


class Action:
    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    replies: ClassVar[bool] = False
    """Sends text to the customer: subject to the reply guardrails."""

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        """Meaning checks at load time: (field, message) for every problem."""
        return []

    def effects(self, params: Mapping[str, Any], ctx: ActContext) -> list[Effect]:
        return []


def _template_check(name: str, policy: Policy, field_name: str) -> list[tuple[str, str]]:
    try:
        policy.template(name, policy.default_language)
    except KeyError:
        known = sorted({n for by_name in policy.templates.values() for n in by_name})
        return [(field_name, f"unknown template {name!r}; valid: {known}")]
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
            return [("queue", f"unknown queue {params['queue']!r}; valid: {sorted(policy.queues)}")]
        return []

    def effects(self, params: Mapping[str, Any], ctx: ActContext) -> list[Effect]:
        incident = ctx.incident
        if incident and incident.get("topic") == ctx.classification.topic and incident.get("queue") == params["queue"]:
            # the same problem as a storm already escalated: one more post on the incident, not one more item
            from chalicelib.incidents.storms import attach_effects

            return attach_effects(incident, ctx.post, ctx.now, ctx.classification.language)
        queue = ctx.policy.queues[params["queue"]]
        item = new_item(
            post=ctx.post,
            classification=ctx.classification,
            queue=queue,
            priority=int(params["priority"]),
            sla_minutes=params.get("sla_minutes"),
            rule=ctx.rule,
            now=ctx.now,
        )
        return [Effect("escalations", item=item), Effect("escalations", **counts.effect_for_new(item))]


def _outbox(ctx: ActContext, template: str, text: str, private: bool, **extra: Any) -> Effect:
    post = ctx.post
    private = private or post.is_dm
    item = outbox_item(
        contacts=every_contact(ctx.policy.content_rules),
        kind="dm" if private else "reply",
        key=(post.key,),
        channel=post.channel,
        platform=post.platform,
        created_at=iso(ctx.now),
        text=text,
        private=private,
        in_reply_to_post_id=post.post_id,
        conversation_id=post.conversation_id,
        recipient_id=post.author.id,
        customer_at=post.created_at,
        template=template,
        rule=ctx.rule,
        **extra,
    )
    return Effect("outbox", item=item)


class Reply(Action):
    name = "reply"
    replies = True
    schema = {
        "type": "object",
        "properties": {
            "template": {"type": "string", "description": "a template name from policies/templates/"},
            "private": {"type": "boolean", "description": "reply by DM instead of in public"},
        },
        "required": ["template"],
    }

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        return _template_check(params["template"], policy, "template")

    def effects(self, params: Mapping[str, Any], ctx: ActContext) -> list[Effect]:
        template = ctx.policy.template(params["template"], ctx.classification.language)
        text = render(template, ctx.post, ctx.classification, own=ctx.policy.own_contact)
        return [_outbox(ctx, params["template"], text, bool(params.get("private")))]


class NoticeReply(Action):
    """Answer with the best matching active service notice (in the post's language), its link kept whole,
    and record that this customer was told — so they get the "service restored" follow-up."""

    name = "notice"
    replies = True
    schema = {
        "type": "object",
        "properties": {
            "template": {
                "type": "string",
                "description": "optional wording around $notice_title / $notice_body; the link is appended",
            },
            "private": {"type": "boolean"},
        },
        "required": [],
    }

    def check(self, params: Mapping[str, Any], policy: Policy) -> list[tuple[str, str]]:
        return _template_check(params["template"], policy, "template") if params.get("template") else []

    def effects(self, params: Mapping[str, Any], ctx: ActContext) -> list[Effect]:
        from chalicelib.notices.items import CITATION_TABLE, citation_item

        notice = ctx.notice
        if notice is None:
            raise ValueError("the notice action needs a matching notice (the engine checks this)")
        wording = ""
        if params.get("template"):
            template = ctx.policy.template(params["template"], ctx.classification.language)
            wording = render(
                template, ctx.post, ctx.classification, {**notice, "link": ""}, cut=False, own=ctx.policy.own_contact
            )
        # the template text is the operator's and its values are masked already; notice text keeps the
        # operator's own contact points (brand.yaml) and nothing else
        text = notice_reply_text(notice, ctx.post.platform, ctx.policy.own_contact, wording)
        notice_ref = {"notice_id": notice["id"], "notice_version": notice["version"]}
        citation = citation_item(notice["id"], int(notice["version"]), ctx.post, ctx.classification, ctx.now)
        return [
            _outbox(ctx, params.get("template") or "notice", text, bool(params.get("private")), **notice_ref),
            Effect(CITATION_TABLE, item=citation),
        ]


class Tag(Action):
    name = "tag"
    schema = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        "required": ["tags"],
    }


class Hide(Action):
    """Hide the post on the platform (spam). Queued to the outbox for the delivery stage."""

    name = "hide"
    schema = {"type": "object", "properties": {"reason": {"type": "string"}}, "required": []}

    def effects(self, params: Mapping[str, Any], ctx: ActContext) -> list[Effect]:
        item = outbox_item(
            kind="hide",
            key=(ctx.post.key,),
            channel=ctx.post.channel,
            platform=ctx.post.platform,
            created_at=iso(ctx.now),
            in_reply_to_post_id=ctx.post.post_id,
            conversation_id=ctx.post.conversation_id,
            rule=ctx.rule,
            reason=params.get("reason", "spam"),
        )
        return [Effect("outbox", item=item)]


class Ignore(Action):
    name = "ignore"
    schema = {"type": "object", "properties": {"reason": {"type": "string"}}, "required": []}


ACTIONS: dict[str, Action] = {a.name: a for a in (Escalate(), Reply(), NoticeReply(), Tag(), Hide(), Ignore())}


def render(
    template: ReplyTemplate,
    post: Post,
    classification: Classification,
    notice: Mapping[str, Any] | None = None,
    cut: bool = True,
    own: Callable[[str, str], bool] | None = None,
) -> str:
    """Fill a template: only known variables; `Template` substitution cannot run code. Only the values are
    masked — the customer's (handle, name) entirely, the notice's except the operator's `own` contact
    points — never the template's text, which may hold the operator's hotline."""
    values = {
        "handle": "@" + post.author.handle if post.author.handle else "",
        "name": post.author.name.split(" ")[0] if post.author.name else "",
        "channel": post.channel,
        "topic": classification.topic.replace("_", " "),
        "notice_title": "",
        "notice_body": "",
        "notice_link": "",
    }
    values = {k: mask(v) for k, v in values.items()}
    if notice is not None:
        for name in ("title", "body", "link"):
            values[f"notice_{name}"] = mask(str(notice.get(name, "")), own)
    text = template.text.safe_substitute(values).strip()
    limit = PLATFORM_TEXT_LIMITS.get(post.platform)
    if cut and limit:
        text = fit(text, post.platform, limit)  # as the platform counts: on X a link is 23, a CJK character 2
    return text


def rendered_length(template: ReplyTemplate, post: Post, classification: Classification) -> int:
    """Length before the platform cut, as the platform counts it: the engine offers a DM instead of a reply
    that would be cut."""
    values = {k: "" for k in TEMPLATE_VARIABLES}
    values["name"] = post.author.name.split(" ")[0] if post.author.name else ""
    return text_length(template.text.safe_substitute(values).strip(), post.platform)

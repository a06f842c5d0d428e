"""Evaluate a policy over one context document and plan what to do, with the guardrails the engine
enforces whatever the rules say:

- never reply to the brand's own posts or to an echo of our own automated text (loop guard);
- never reply to a post not addressed to the brand, unless the rule says `allow_unaddressed`;
- never a promotional template to a negative post or to someone showing churn risk;
- never a public reply to a post that shows personal data (the reply goes private);
- a public answer that needs account details, or would be cut at the platform's limit, becomes a public
  offer to continue by DM (`offer_dm` template);
- reply budgets: per conversation (public, 24 h), per author (automated, 24 h), per channel (public, 1 h);
- at most one reply per post; `hide` only for spam or abuse;
- no automated reply to a post older than `post_age.max_reply_age_hours` (24 h): a 2020 post replayed today
  is not answered as new (the rule's other actions still act; a rule left with none falls through).

Rules are evaluated in order; a rule in scope and schedule whose `when` holds and `unless` does not,
acts with every action the guardrails let through, then stops unless `stop: false`. A rule whose every
action was blocked does not stop evaluation. Shadow rules are recorded but never act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.actions import ACTIONS, rendered_length
from chalicelib.clock import parse
from chalicelib.model import Classification, Post
from chalicelib.policy.errors import RegexTimeout
from chalicelib.policy.expressions import search
from chalicelib.policy.model import Policy, Rule
from chalicelib.reply_text import PLATFORM_TEXT_LIMITS

OFFER_DM_TEMPLATE = "offer_dm"


@dataclass(frozen=True)
class PlannedAction:
    type: str
    params: dict[str, Any]
    rule: str


@dataclass(frozen=True)
class Plan:
    actions: tuple[PlannedAction, ...]
    rule: str
    """The first rule that acted ('' when none did)."""
    evaluated: tuple[str, ...]
    """Rules evaluated in order: `name` (no match), `name+` (acted), `name~scope`, `name~schedule`,
    `name~shadow` (matched, recorded only), `name!error`, `name!timeout` (a regex ran past its limit)."""
    guardrails: tuple[str, ...] = ()
    shadow: tuple[dict[str, Any], ...] = ()
    errors: tuple[str, ...] = ()
    notice: dict[str, Any] | None = None
    fired: tuple[str, ...] = field(default=())
    reason: str = ""
    """Why, in words: the description of the first rule that acted."""

    @property
    def primary(self) -> str:
        return self.actions[0].type if self.actions else "ignore"

    @property
    def public_reply(self) -> bool:
        return any(ACTIONS[a.type].replies and not a.params.get("private") for a in self.actions)

    @property
    def replies(self) -> bool:
        return any(ACTIONS[a.type].replies for a in self.actions)


class _Case:
    """One post being planned: what the guardrails read, and what they have done so far."""

    def __init__(self, policy: Policy, context: dict[str, Any], post: Post, classification: Classification) -> None:
        self.policy = policy
        self.context = context
        self.post = post
        self.classification = classification
        self.replied = False
        self.notes: list[str] = []
        self.notice: dict[str, Any] | None = None


def _in_scope(rule: Rule, context: dict[str, Any]) -> bool:
    channel = context.get("channel") or {}
    scope = rule.scope
    return (
        (not scope.channels or channel.get("id") in scope.channels)
        and (not scope.platforms or channel.get("platform") in scope.platforms)
        and (not scope.brands or channel.get("brand") in scope.brands)
    )


def _in_schedule(rule: Rule, policy: Policy, now: str) -> bool:
    if rule.schedule is None:
        return True
    inside = policy.business_hours(rule.schedule.calendar, parse(now))
    return inside if rule.schedule.during == "business_hours" else not inside


def _age_hours(created_at: str, now: Any) -> float | None:
    """Hours from the post's creation to `now`; None when either is missing or unreadable."""
    try:
        return (parse(now) - parse(created_at)).total_seconds() / 3600 if created_at and now else None
    except (AttributeError, TypeError, ValueError):
        return None


def _guard_reply(rule: Rule, params: dict[str, Any], kind: str, case: _Case) -> dict[str, Any] | None:
    def block(why: str) -> dict[str, Any] | None:
        case.notes.append(f"{rule.name}: {kind} blocked: {why}")
        return None

    if case.replied:
        return block("one reply per post")
    if case.post.by_brand or case.policy.is_own_text(case.post.text):
        return block("loop guard: the brand's own post or an echo of an automated reply")
    age = _age_hours(case.post.created_at, case.context.get("now"))
    limit_hours = case.policy.guardrails.max_reply_age_hours
    if age is not None and age > limit_hours:
        return block(f"the post is {age:.0f} h old; no automated reply to a post older than {limit_hours:g} h")
    if not case.classification.addressed_to_brand and not rule.allow_unaddressed:
        return block("the post is not addressed to the brand")
    template_name = params.get("template")
    template = case.policy.template(template_name, case.classification.language) if template_name else None
    negative = case.classification.sentiment.label == "negative" or case.classification.churn_risk
    if template is not None and template.promotional and negative:
        return block("promotional template to a negative post or to someone showing churn risk")
    if kind == "notice":
        notices = case.context.get("notices") or []
        if not notices:
            return block("no active notice matches the post")
        case.notice = notices[0]
    params = dict(params)
    if kind == "notice" and case.notice is not None:
        params["notice_id"] = case.notice.get("id")
    private = bool(params.get("private")) or case.post.is_dm
    if not private and case.classification.pii:
        private = True
        case.notes.append(f"{rule.name}: personal data in a public post: replying privately")
    if not private and kind == "reply" and template is not None:
        limit = PLATFORM_TEXT_LIMITS.get(case.post.platform)
        too_long = limit is not None and rendered_length(template, case.post, case.classification) > limit
        if (template.needs_account or too_long) and case.policy.has_template(OFFER_DM_TEMPLATE):
            why = "needs account details" if template.needs_account else "too long for a public reply"
            case.notes.append(f"{rule.name}: {why}: offering a DM instead of {template_name!r}")
            params["template"] = OFFER_DM_TEMPLATE
            params["offered_for"] = template_name
    rails = case.policy.guardrails
    author = case.context.get("author") or {}
    if author.get("automated_replies_24h", 0) >= rails.automated_replies_per_author_per_day:
        return block(f"author budget spent ({rails.automated_replies_per_author_per_day} automated replies / 24 h)")
    if not private:
        conversation = case.context.get("conversation") or {}
        if conversation.get("public_replies_24h", 0) >= rails.public_replies_per_conversation_24h:
            n = rails.public_replies_per_conversation_24h
            return block(f"conversation budget spent ({n} public automated replies / 24 h)")
        channel = case.context.get("channel") or {}
        if channel.get("public_replies_1h", 0) >= rails.public_replies_per_channel_per_hour:
            return block(f"channel rate cap ({rails.public_replies_per_channel_per_hour} public replies / hour)")
    params["private"] = private
    case.replied = True
    return params


def _guard(rule: Rule, action: dict[str, Any], case: _Case) -> dict[str, Any] | None:
    kind = action["type"]
    params = {k: v for k, v in action.items() if k != "type"}
    if ACTIONS[kind].replies:
        return _guard_reply(rule, params, kind, case)
    if kind == "hide" and not (case.classification.spam or case.classification.abuse):
        case.notes.append(f"{rule.name}: hide blocked: only spam or abuse is hidden")
        return None
    return params


def plan(policy: Policy, context: dict[str, Any], post: Post, classification: Classification) -> Plan:
    evaluated: list[str] = []
    errors: list[str] = []
    shadow: list[dict[str, Any]] = []
    actions: list[PlannedAction] = []
    fired: list[str] = []
    reason = ""
    case = _Case(policy, context, post, classification)
    for rule in policy.rules:
        if not _in_scope(rule, context):
            evaluated.append(f"{rule.name}~scope")
            continue
        try:
            if not _in_schedule(rule, policy, context["now"]):
                evaluated.append(f"{rule.name}~schedule")
                continue
            matched = bool(search(rule.when, context, policy.options)) and not (
                rule.unless and search(rule.unless, context, policy.options)
            )
        except RegexTimeout as exc:
            evaluated.append(f"{rule.name}!timeout")
            case.notes.append(f"{rule.name}: skipped for this post: {exc}")
            errors.append(f"{rule.name}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            evaluated.append(f"{rule.name}!error")
            errors.append(f"{rule.name}: {type(exc).__name__}: {exc}")
            continue
        if not matched:
            evaluated.append(rule.name)
            continue
        if rule.shadow:
            evaluated.append(f"{rule.name}~shadow")
            shadow.append({"rule": rule.name, "actions": [dict(a) for a in rule.actions]})
            continue
        allowed = [
            PlannedAction(a["type"], params, rule.name)
            for a in rule.actions
            if (params := _guard(rule, a, case)) is not None
        ]
        if not allowed:
            evaluated.append(f"{rule.name}~blocked")
            continue
        evaluated.append(f"{rule.name}+")
        if not fired:
            reason = rule.description or rule.name
        fired.append(rule.name)
        actions += allowed
        if rule.stop:
            break
    return Plan(
        actions=tuple(actions),
        rule=fired[0] if fired else "",
        evaluated=tuple(evaluated),
        guardrails=tuple(case.notes),
        shadow=tuple(shadow),
        errors=tuple(errors),
        notice=case.notice,
        fired=tuple(fired),
        reason=reason,
    )

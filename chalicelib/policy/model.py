"""A loaded, validated policy: what the engine evaluates."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from string import Template
from typing import Any

from chalicelib.calendars import ALWAYS, Calendar
from chalicelib.publishing import ContentRules


@dataclass(frozen=True)
class Scope:
    """Where a rule applies; an empty tuple means everywhere."""

    channels: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    calendar: str
    during: str
    """"business_hours" or "outside_business_hours"."""


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    actions: tuple[dict[str, Any], ...]
    """Each is `type` plus that action's parameters, validated against the action's schema."""
    file: str
    order: int
    description: str = ""
    unless: str | None = None
    stop: bool = True
    """Stop at this rule when it acts (the default), or let later rules add their actions."""
    shadow: bool = False
    """Evaluate and record what the rule would do, but do nothing."""
    scope: Scope = field(default_factory=Scope)
    schedule: Schedule | None = None
    allow_unaddressed: bool = False
    """Let this rule reply to a post that is not addressed to the brand (off by default: guardrail)."""
    index: int = 0
    """Its place in its file's `rules` list (error messages find its line from it)."""


@dataclass(frozen=True)
class ReplyTemplate:
    text: Template
    promotional: bool = False
    """Marketing content: never sent to a negative post or to someone showing churn risk."""
    needs_account: bool = False
    """The answer needs account details: in public the engine sends the `offer_dm` template instead."""


@dataclass(frozen=True)
class Queue:
    name: str
    sla_minutes: int
    description: str = ""
    sla_by_priority: dict[int, int] = field(default_factory=dict)
    """priority → SLA minutes, where it differs from `sla_minutes`."""
    calendar: Calendar = ALWAYS
    """Opening hours the SLA minutes count in (policies/calendars.yaml)."""
    shards: int = 1
    """Partitions of the queue's index key (chalicelib/escalations/keys.py)."""

    def sla_for(self, priority: int) -> int:
        return self.sla_by_priority.get(priority, self.sla_minutes)


@dataclass(frozen=True)
class Guardrails:
    """Limits the engine enforces whatever the rules say."""

    public_replies_per_conversation_24h: int = 1
    automated_replies_per_author_per_day: int = 3
    public_replies_per_channel_per_hour: int = 120
    max_reply_age_hours: float = 24
    """No automated reply (public or private) to a post older than this: a replayed or very late delivery."""


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    templates: dict[str, dict[str, ReplyTemplate]]
    """language → template name → template."""
    queues: dict[str, Queue]
    default_language: str = "en"
    guardrails: Guardrails = field(default_factory=Guardrails)
    business_hours_fn: Callable[[str, datetime], bool] | None = None
    own_fragments: tuple[str, ...] = ()
    options: Any = None
    """jmespath.Options with Carewire's functions bound to this policy's calendars."""
    files: tuple[str, ...] = field(default=())
    content_rules: Mapping[str, ContentRules] = field(default_factory=dict)
    """brand → what may be published in public for it (policies/brand.yaml, chalicelib/publishing.py)."""

    def own_contact(self, kind: str, value: str) -> bool:
        """Is `value` (personal data of `kind`) one of the operator's own contact points (brand.yaml)?"""
        return any(rules.is_contact(kind, value) for rules in self.content_rules.values())

    def template(self, name: str, language: str) -> ReplyTemplate:
        for lang in (language, self.default_language):
            found = self.templates.get(lang, {}).get(name)
            if found is not None:
                return found
        raise KeyError(f"template {name!r} exists in no language")

    def has_template(self, name: str) -> bool:
        return any(name in by_name for by_name in self.templates.values())

    def business_hours(self, calendar: str, moment: datetime) -> bool:
        if self.business_hours_fn is None:
            raise ValueError("no calendars are loaded")
        return self.business_hours_fn(calendar, moment)

    def is_own_text(self, text: str) -> bool:
        """Does `text` repeat the fixed wording of one of our templates (an echo, a bot quoting us)?"""
        normal = _normal(text)
        return any(fragment in normal for fragment in self.own_fragments)


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def own_fragments(templates: dict[str, dict[str, ReplyTemplate]]) -> tuple[str, ...]:
    """The opening 50 characters of each template's longest fixed (variable-free) run, normalised: what
    an echo or a bot quoting us repeats. Runs shorter than 30 characters are too generic to count."""
    fragments = set()
    for by_name in templates.values():
        for template in by_name.values():
            runs = re.split(r"\$\{?\w+\}?", template.text.template)
            longest = max((_normal(run) for run in runs), key=len, default="")
            if len(longest) >= 30:
                fragments.add(longest[:50])
    return tuple(sorted(fragments))

"""A loaded, validated policy: what the engine evaluates."""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Template
from typing import Any


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    action: dict[str, Any]
    """`type` plus that action's parameters, as validated against the action's schema."""
    file: str
    order: int
    description: str = ""


@dataclass(frozen=True)
class Queue:
    name: str
    sla_minutes: int
    description: str = ""


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    templates: dict[str, dict[str, Template]]
    """language → template name → template."""
    queues: dict[str, Queue]
    default_language: str = "en"
    files: tuple[str, ...] = field(default=())

    def template(self, name: str, language: str) -> Template:
        for lang in (language, self.default_language):
            found = self.templates.get(lang, {}).get(name)
            if found is not None:
                return found
        raise KeyError(f"template {name!r} exists in no language")

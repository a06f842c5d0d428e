"""Evaluate a policy over one context document: the first rule whose `when` holds wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.policy.expressions import search
from chalicelib.policy.model import Policy, Rule


@dataclass(frozen=True)
class Verdict:
    rule: Rule | None
    evaluated: tuple[str, ...]
    """Rules evaluated in order; a rule whose expression failed is listed as `name!error`."""
    errors: tuple[str, ...] = ()


def evaluate(policy: Policy, context: dict[str, Any]) -> Verdict:
    evaluated: list[str] = []
    errors: list[str] = []
    for rule in policy.rules:
        try:
            matched = bool(search(rule.when, context))
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            evaluated.append(f"{rule.name}!error")
            errors.append(f"{rule.name}: {type(exc).__name__}: {exc}")
            continue
        evaluated.append(rule.name)
        if matched:
            return Verdict(rule, tuple(evaluated), tuple(errors))
    return Verdict(None, tuple(evaluated), tuple(errors))

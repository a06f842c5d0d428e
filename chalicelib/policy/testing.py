"""Policy test cases (`policies/tests/*.yaml`): a post and its circumstances → the expected decision.

`expect` may hold: action, rule, actions (types in order), private, template, guardrail (a reason
containing it), notice (id), and on the text the customer would get — reply (the whole text),
reply_contains and reply_excludes (a string or a list).

A case may add `extra_rules` in front of the policy's own, to show that a rule author cannot get past
a guardrail; they are validated like any rule file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.actions import ACTIONS
from chalicelib.channels.config import ChannelConfig
from chalicelib.policy import loader
from chalicelib.policy.errors import PolicyError, PolicyErrors
from chalicelib.policy.model import Policy
from chalicelib.policy.offline import decide
from chalicelib.policy.schema import rule_file_schema


@dataclass(frozen=True)
class CaseResult:
    file: str
    name: str
    failures: tuple[str, ...]
    decision: dict[str, Any]

    @property
    def passed(self) -> bool:
        return not self.failures


def _with_extra_rules(policy: Policy, path: Path, name: str, raw_rules: list[Any]) -> Policy:
    errors = loader._schema_errors(path, {"rules": raw_rules}, rule_file_schema())
    if errors:
        raise PolicyErrors(errors)
    extra = [dataclasses.replace(loader._rule(raw, path, 0), order=-1000 + n) for n, raw in enumerate(raw_rules)]
    for rule in extra:
        problems = loader._check_expression(path, rule.name, rule.when)
        for action in rule.actions:
            problems += [
                PolicyError(str(path), m, rule.name, f) for f, m in ACTIONS[action["type"]].check(action, policy)
            ]
        if problems:
            raise PolicyErrors(problems)
    return dataclasses.replace(policy, rules=(*extra, *policy.rules))


def _check(expect: Mapping[str, Any], decision: dict[str, Any]) -> list[str]:
    failures = []
    for key in ("action", "rule"):
        if key in expect and decision[key] != expect[key]:
            failures.append(f"{key}: expected {expect[key]!r}, got {decision[key]!r}")
    types = [a["type"] for a in decision["actions"]]
    if "actions" in expect and types != list(expect["actions"]):
        failures.append(f"actions: expected {expect['actions']}, got {types}")
    replies = [a for a in decision["actions"] if a["type"] in ("reply", "notice")]
    if "private" in expect:
        if not replies:
            failures.append("private: expected a reply, got none")
        elif bool(replies[0].get("private")) != bool(expect["private"]):
            failures.append(f"private: expected {expect['private']}, got {replies[0].get('private')}")
    if "template" in expect and (not replies or replies[0].get("template") != expect["template"]):
        got = replies[0].get("template") if replies else None
        failures.append(f"template: expected {expect['template']!r}, got {got!r}")
    if "guardrail" in expect and not any(expect["guardrail"] in r for r in decision["reasons"]):
        failures.append(f"guardrail: expected a reason containing {expect['guardrail']!r}, got {decision['reasons']}")
    if "notice" in expect and (decision["notice"] or {}).get("id") != expect["notice"]:
        failures.append(f"notice: expected {expect['notice']!r}, got {decision['notice']}")
    said = [r["text"] for r in decision.get("replies", [])]
    if "reply" in expect and expect["reply"] not in said:
        failures.append(f"reply: expected the text {expect['reply']!r}, got {said}")
    for part in _listed(expect.get("reply_contains")):
        if not any(part in text for text in said):
            failures.append(f"reply_contains: no reply contains {part!r}; got {said}")
    for part in _listed(expect.get("reply_excludes")):
        if any(part in text for text in said):
            failures.append(f"reply_excludes: a reply contains {part!r}: {said}")
    return failures


def _listed(value: Any) -> list[str]:
    return [] if value is None else [str(v) for v in value] if isinstance(value, list) else [str(value)]


def run_cases(
    policy: Policy, classifier: Any, channels: Mapping[str, ChannelConfig], directory: Path
) -> list[CaseResult]:
    results = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for case in doc.get("cases", []):
            name = str(case.get("name", "?"))
            case_policy = policy
            if case.get("extra_rules"):
                case_policy = _with_extra_rules(policy, path, name, case["extra_rules"])
            given = case.get("given") or {}
            decision = decide(
                case_policy,
                classifier,
                channels,
                case["post"],
                facts={k: given[k] for k in ("author", "conversation", "channel") if k in given},
                notices=given.get("notices"),
                classification_overrides=given.get("classification"),
                incident=given.get("incident"),
            )
            results.append(CaseResult(str(path), name, tuple(_check(case.get("expect") or {}, decision)), decision))
    return results

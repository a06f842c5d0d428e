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


CASE_KEYS = ("name", "post", "given", "expect", "extra_rules")
POST_KEYS = (
    "id", "text", "platform", "channel", "author", "is_dm", "in_reply_to", "addressed_to_brand", "created_at",
    "conversation_id", "by_brand", "context", "now",
)  # fmt: skip
GIVEN_KEYS = ("author", "conversation", "channel", "notices", "incident", "classification")
EXPECT_KEYS = (
    "action", "rule", "actions", "private", "template", "guardrail", "notice", "reply", "reply_contains",
    "reply_excludes",
)  # fmt: skip


def case_errors(path: Path, doc: Any) -> list[PolicyError]:
    """Every problem of one test-case file's shape, located (`at`): unknown keys (a misspelt `expect` key would
    otherwise make its case pass without checking anything), a case without a name, a text or an expectation,
    duplicate names, action names that do not exist, values of the wrong kind."""
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("cases", []), list):
        return [PolicyError(str(path), "must be a mapping with `cases:`, a list of cases")]
    shape = _CaseShape(str(path))
    shape.unknown(doc, ("cases",), None, ())
    seen: dict[str, int] = {}
    for n, case in enumerate(doc.get("cases") or []):
        shape.case(n, case, seen)
    return shape.errors


class _CaseShape:
    """The problems found in one test-case file, each with its place."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[PolicyError] = []

    def add(self, message: str, case: str | None, field: str | None, at: tuple[str | int, ...]) -> None:
        self.errors.append(PolicyError(self.file, message, case, field, at=at, kind="case"))

    def unknown(
        self, mapping: dict[Any, Any], valid: tuple[str, ...], case: str | None, at: tuple[str | int, ...]
    ) -> None:
        from chalicelib.policy.located import _suggest

        for key in mapping:
            if key not in valid:
                field = ".".join(map(str, (*at[2:], key)))
                self.add(
                    f"unknown key {key!r}; {_suggest(str(key), valid)}valid: {', '.join(valid)}",
                    case,
                    field,
                    (*at, key),
                )

    def case(self, n: int, case: Any, seen: dict[str, int]) -> None:
        at: tuple[str | int, ...] = ("cases", n)
        if not isinstance(case, dict):
            self.add("a case must be a mapping (name, post, given, expect)", None, None, at)
            return
        name = case.get("name")
        label = name if isinstance(name, str) and name else f"case {n + 1}"
        if not isinstance(name, str) or not name:
            self.add("needs a name (a text)", label, "name", at)
        elif name in seen:
            self.add(f"a second case named {name!r} (the first is case {seen[name] + 1})", label, "name", (*at, "name"))
        else:
            seen[name] = n
        self.unknown(case, CASE_KEYS, label, at)
        post = case.get("post")
        if not isinstance(post, dict) or not isinstance(post.get("text"), str):
            self.add("needs a post with a `text`", label, "post", (*at, "post"))
        else:
            self.unknown(post, POST_KEYS, label, (*at, "post"))
        given = case.get("given")
        if isinstance(given, dict):
            self.unknown(given, GIVEN_KEYS, label, (*at, "given"))
        elif given is not None:
            self.add("must be a mapping", label, "given", (*at, "given"))
        expect = case.get("expect")
        if not isinstance(expect, dict) or not expect:
            message = f"needs an `expect` with at least one of: {', '.join(EXPECT_KEYS)} (else it cannot fail)"
            self.add(message, label, "expect", (*at, "expect") if "expect" in case else at)
        else:
            self.expect(expect, label, (*at, "expect"))

    def expect(self, expect: dict[Any, Any], label: str, at: tuple[str | int, ...]) -> None:
        from chalicelib.policy.located import _suggest

        self.unknown(expect, EXPECT_KEYS, label, at)
        named = [expect["action"]] if "action" in expect else []
        if isinstance(expect.get("actions", []), list):
            named += expect.get("actions", [])
        else:
            self.add("must be a list of action names", label, "expect.actions", (*at, "actions"))
        for action in named:
            if action not in ACTIONS:
                valid = ", ".join(sorted(ACTIONS))
                self.add(
                    f"unknown action {action!r}; {_suggest(str(action), ACTIONS)}valid: {valid}", label, "expect", at
                )
        if "private" in expect and not isinstance(expect["private"], bool):
            self.add("must be true or false", label, "expect.private", (*at, "private"))
        for key in ("reply_contains", "reply_excludes"):
            value = expect.get(key)
            texts = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            if value is not None and not texts:
                self.add("must be a text or a list of texts", label, f"expect.{key}", (*at, key))


def run_cases(
    policy: Policy, classifier: Any, channels: Mapping[str, ChannelConfig], directory: Path
) -> list[CaseResult]:
    """Every case of every file in `directory`; a file whose shape is wrong is refused first (`PolicyErrors`,
    every problem at once), so no misspelt expectation passes unchecked."""
    from chalicelib.policy.located import add_lines

    docs = [(path, yaml.safe_load(path.read_text(encoding="utf-8")) or {}) for path in sorted(directory.glob("*.yaml"))]
    problems = [e for path, doc in docs for e in case_errors(path, doc)]
    if problems:
        add_lines(problems)
        raise PolicyErrors(problems)
    results = []
    for path, doc in docs:
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

"""Compiled JMESPath closures answer exactly as jmespath's interpreter does."""

from __future__ import annotations

import itertools
import random
import zlib
from typing import Any

import pytest
import yaml

from chalicelib.policy.compiled import compile_ast
from chalicelib.policy.expressions import _closure, compile_expression, interpret, options, search
from tests.conftest import POLICIES

TRICKY = [
    "a",
    "a.b",
    "a.b.c",
    "!a",
    "!(a.b)",
    "a == b",
    "a != b",
    "a < b",
    "a >= `1`",
    "a == `true`",
    "a && b",
    "a || b",
    "!(a && b) || c",
    "a == `0`",
    "!`0`",
    "`[]` || a",
    'a.b == `"x"`',
    "length(a) > `0`",
    "contains(['x', 'y'], a)",
    "contains_any(a, ['no signal'])",
    "regex_match(a, 'do?wn')",
    "a | b",
    "@",
    "a[0]",
    "a[*].b",
    "a[?b == `1`]",
    "minutes_since(a, b)",
    "not_null(a, b)",
    "`1` == `true`",
    'a.b || `"fallback"`',
    "abs(a) > `2`",
    "contains([`1`, a], b)",
    "[a, b]",
    "in_business_hours(a, b)",
]
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    -3.5,
    "",
    "x",
    "no signal here",
    "down",
    [],
    [1],
    {},
    {"b": 1},
    {"b": {"c": "x"}},
    [{"b": 1}, {"b": 2}],
    "2026-11-23T00:00:00.000Z",
]


def _policy_expressions() -> list[str]:
    found = []
    for path in sorted((POLICIES / "rules").glob("*.yaml")) + sorted((POLICIES / "tests").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in (doc.get("rules") or []) + [r for c in doc.get("cases") or [] for r in c.get("extra_rules", [])]:
            found += [rule[k] for k in ("when", "unless") if rule.get(k)]
    return found


def _documents(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"a": rng.choice(VALUES), "b": rng.choice(VALUES), "c": rng.choice(VALUES)} for _ in range(count)]


def _outcome(evaluate: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", evaluate(*args)
    except Exception as exc:  # noqa: BLE001 - both must fail the same way
        return "error", type(exc).__name__


@pytest.mark.parametrize("expression", TRICKY)
def test_compiled_matches_the_interpreter(expression: str) -> None:
    funcs = options(lambda calendar, moment: calendar == "open")
    for document in _documents(zlib.crc32(expression.encode()), 300):
        compiled = _outcome(search, expression, document, funcs)
        reference = _outcome(interpret, expression, document, funcs)
        assert compiled == reference, f"{expression} on {document}"


def test_policy_expressions_compile_and_agree_on_real_contexts() -> None:
    from chalicelib.channels.config import load_channels
    from chalicelib.classify import Classifier
    from chalicelib.policy.context import context_document
    from chalicelib.policy.offline import post_from_doc

    expressions = _policy_expressions()
    assert expressions and all(_closure(e) is not None for e in expressions), "a rule fell back to the interpreter"
    classifier = Classifier.from_policies(POLICIES)
    channels = load_channels(POLICIES / "channels.yaml")
    texts = [
        "@bayanitelcares no signal in Cubao since 6am!!",
        "@bayanitelcares thank you so much!",
        "@bayanitelcares I'm switching to Globe",
        "my bill is wrong, account 100200300400",
        "WIN a free iPhone click bit.ly/x",
        "@bayanitelcares do you have a store in Bacoor?",
    ]
    for text, is_dm in itertools.product(texts, (False, True)):
        post, channel = post_from_doc({"id": "1", "text": text, "is_dm": is_dm}, channels)
        classification = classifier.classify(post)
        for notices in ([], [{"id": "n", "version": 1}]):
            doc = context_document(post, classification, channel, "2026-11-23T03:00:00.000Z", None, notices)
            for expression in expressions:
                assert search(expression, doc) == interpret(expression, doc), expression


def test_unsupported_nodes_fall_back_to_the_interpreter() -> None:
    assert compile_ast(compile_expression("a[*].b").parsed) is None
    assert search("a[*].b", {"a": [{"b": 1}, {"b": 2}]}) == [1, 2]

"""JMESPath expressions compiled once into Python closures.

jmespath's interpreter walks the AST for every evaluation, dispatching each node through `getattr`;
rules are evaluated for every post, so that walk was most of the engine's time. This compiles the node
types rule expressions use into closures with the interpreter's exact semantics (its own helpers for
equality, comparability and falsiness); an expression with any other node type is left to the
interpreter (`compile_ast` returns None). A differential test holds the two to the same answers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from jmespath.visitor import _equals, _is_actual_number, _is_comparable

Compiled = Callable[[Any, Any], Any]
"""(value, functions) → result; `functions` is the jmespath Functions instance for custom calls."""

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "gt": operator.gt,
    "lte": operator.le,
    "gte": operator.ge,
}


def _is_false(value: Any) -> bool:
    return value in ("", [], {}) or value is None or value is False  # == comparisons, as jmespath does


def compile_ast(node: dict[str, Any]) -> Compiled | None:
    kind = node["type"]
    children = node.get("children", [])
    if kind == "field":
        name = node["value"]
        return lambda value, _f: value.get(name) if isinstance(value, dict) else None
    if kind in ("current", "identity"):
        return lambda value, _f: value
    if kind == "literal":
        literal = node["value"]
        return lambda _value, _f: literal
    parts = [compile_ast(child) for child in children if isinstance(child, dict)]
    if any(part is None for part in parts) or len(parts) != len(children):
        return None
    steps: list[Compiled] = [p for p in parts if p is not None]
    if kind in ("subexpression", "pipe", "index_expression"):

        def chain(value: Any, functions: Any) -> Any:
            for step in steps:
                value = step(value, functions)
            return value

        return chain
    if kind == "index":
        return None  # numeric index nodes carry no children dict; leave them to the interpreter
    if kind == "comparator":
        left, right = steps
        op = node["value"]
        if op == "eq":
            return lambda value, f: _equals(left(value, f), right(value, f))
        if op == "ne":
            return lambda value, f: not _equals(left(value, f), right(value, f))
        order = _ORDER[op]

        def compare(value: Any, functions: Any) -> Any:
            a, b = left(value, functions), right(value, functions)
            return order(a, b) if _is_comparable(a) and _is_comparable(b) else None

        return compare
    if kind == "and_expression":
        first, second = steps

        def both(value: Any, functions: Any) -> Any:
            matched = first(value, functions)
            return matched if _is_false(matched) else second(value, functions)

        return both
    if kind == "or_expression":
        first, second = steps

        def either(value: Any, functions: Any) -> Any:
            matched = first(value, functions)
            return second(value, functions) if _is_false(matched) else matched

        return either
    if kind == "not_expression":
        (inner,) = steps

        def negate(value: Any, functions: Any) -> Any:
            result = inner(value, functions)
            if _is_actual_number(result) and result == 0:
                return False
            return not result

        return negate
    if kind == "multi_select_list":

        def select(value: Any, functions: Any) -> Any:
            return None if value is None else [s(value, functions) for s in steps]

        return select
    if kind == "function_expression":
        name = node["value"]
        return lambda value, functions: functions.call_function(name, [s(value, functions) for s in steps])
    return None

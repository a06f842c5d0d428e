"""The context document's schema, and the check that every field a rule reads exists and is compared with a
value of its own type.

The schema is what `carewire policies schema --part context` publishes. Its `post` part is generated from
the `model.Post` dataclass (its `to_doc` mirrors the fields) and its `classification` part from
`CLASSIFICATION_FIELDS` (the classifier's table, kept equal to `Classification.to_doc` by a test), so a
field added there is a field rules may read, with nothing else to update; the other parts
mirror `policy.context.context_document`, `store.activity.context_parts`, `notices.matching.context_notices`
and the incident document of `incidents.storms`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from functools import lru_cache
from typing import Any, Literal, Union

JSON = dict[str, Any]

_STRING: JSON = {"type": "string"}
_TIME: JSON = {"type": "string", "format": "date-time"}
_TIME_OR_NULL: JSON = {"type": ["string", "null"], "format": "date-time"}
_COUNT: JSON = {"type": "integer", "minimum": 0}
_NAMES: JSON = {"type": "array", "items": _STRING}


def _closed(properties: dict[str, JSON], nullable: bool = False, description: str = "") -> JSON:
    schema: JSON = {
        "type": ["object", "null"] if nullable else "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def type_schema(hint: Any) -> JSON:
    """JSON Schema of what a Python type hint becomes in a `to_doc()` document."""
    if hint is Any or hint is object:
        return {}
    if hint is type(None):
        return {"type": "null"}
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if hint is python:
            return {"type": name}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return dataclass_schema(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        branches = [type_schema(a) for a in args]
        if all(set(b) <= {"type"} and isinstance(b.get("type"), str) for b in branches):
            return {"type": [b["type"] for b in branches]}
        return {"anyOf": branches}
    if origin in (list, tuple, set, frozenset):
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1]) if len(args) == 2 else {}}
    if origin is typing.Mapping or hint is dict:
        return {"type": "object"}
    return {}


def dataclass_schema(cls: type, **extra: JSON) -> JSON:
    """A closed object schema: one property per dataclass field (plus `extra`), typed from its hints."""
    hints = typing.get_type_hints(cls)
    properties = {f.name: type_schema(hints[f.name]) for f in dataclasses.fields(cls)}
    properties.update(extra)
    return _closed(properties)


def classification_schema() -> JSON:
    """The `classification` part, generated from `CLASSIFICATION_FIELDS` below — the one table of what the
    classifier produces (a test keeps it equal to `Classification.to_doc`): add a field there and rules may
    read it."""
    return _spec_schema(CLASSIFICATION_FIELDS)


_SPEC_TYPES = (
    ("string or null", ["string", "null"]),
    ("string", "string"),
    ("number", "number"),
    ("boolean", "boolean"),
)
_ENUM = re.compile(r"^string: ([a-z_]+(?: \| [a-z_]+)+)$")


def _spec_schema(spec: Any) -> JSON:
    """One entry of `CLASSIFICATION_FIELDS` as JSON Schema: "type: words" text, {"*": …} a map, [x] a list."""
    if isinstance(spec, list):
        return {"type": "array", "items": _spec_schema(spec[0]) if spec else {}}
    if isinstance(spec, dict):
        if "*" in spec:
            return {"type": "object", "additionalProperties": _spec_schema(spec["*"])}
        return _closed({name: _spec_schema(sub) for name, sub in spec.items()})
    text = str(spec)
    enum = _ENUM.match(text)
    if enum:
        return {"enum": enum[1].split(" | "), "description": text}
    for prefix, kind in _SPEC_TYPES:
        if text.startswith(prefix):
            return {"type": kind, "description": text}
    return {"description": text}  # "object: …": read, not typed


def post_schema() -> JSON:
    from chalicelib.model import Post

    return dataclass_schema(Post, key={"type": "string", "description": "platform#post_id"})


NOTICE_DOC = _closed(
    {
        "id": _STRING,
        "version": {"type": "integer"},
        "kind": {"enum": ["outage", "maintenance", "policy_change", "announcement"]},
        "language": _STRING,
        "title": _STRING,
        "body": _STRING,
        "link": _STRING,
        "services": _NAMES,
        "regions": _NAMES,
        "starts_at": _TIME,
        "ends_at": _TIME_OR_NULL,
        "score": {"type": "integer"},
        "matched": _NAMES,
    },
    description="a live notice this post is about, best first; title and body in the post's language",
)

INCIDENT_DOC = _closed(
    {
        "incident_id": _STRING,
        "key": _STRING,
        "brand": _STRING,
        "topic": _STRING,
        "region": {"type": ["string", "null"]},
        "services": _NAMES,
        "status": {"enum": ["open"]},
        "opened_at": _TIME,
        "window_count": _COUNT,
        "baseline_per_minute": {"type": "number"},
        "surprise": {"type": "number"},
        "queue": _STRING,
        "priority": {"type": "integer"},
        "escalation_id": _STRING,
        "notice_id": _STRING,
        "keywords": _NAMES,
    },
    nullable=True,
    description="the open storm this post belongs to, as `StormWatch` opened it (chalicelib/incidents/storms.py), "
    "or null",
)


@lru_cache(maxsize=1)
def context_schema() -> JSON:
    """JSON Schema of the document every rule's `when` and `unless` is evaluated over."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Carewire rule context: what `when` and `unless` read",
        **_closed(
            {
                "post": post_schema(),
                "classification": classification_schema(),
                "author": _closed(
                    {
                        "id": _STRING,
                        "handle": _STRING,
                        "posts_24h": _COUNT,
                        "automated_replies_24h": _COUNT,
                        "last_post_at": _TIME_OR_NULL,
                        "last_automated_reply_at": _TIME_OR_NULL,
                    }
                ),
                "conversation": _closed(
                    {
                        "id": _STRING,
                        "posts": _COUNT,
                        "public_replies_24h": _COUNT,
                        "last_automated_reply_at": _TIME_OR_NULL,
                        "open_escalation": {"type": ["string", "null"]},
                    }
                ),
                "channel": _closed({"id": _STRING, "platform": _STRING, "brand": _STRING, "public_replies_1h": _COUNT}),
                "brand": _closed({"id": _STRING, "handles": _NAMES}),
                "notices": {"type": "array", "items": NOTICE_DOC},
                "incident": INCIDENT_DOC,
                "now": _TIME,
            }
        ),
    }


# --- checking expressions against the schema ---------------------------------------------------------

_ORDERING = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_EQUALITY = {"eq": "==", "ne": "!="}
_RETURNS: dict[str, JSON] = {
    "length": {"type": "integer"},
    "abs": {"type": "number"},
    "avg": {"type": "number"},
    "ceil": {"type": "integer"},
    "floor": {"type": "integer"},
    "sum": {"type": "number"},
    "to_number": {"type": ["number", "null"]},
    "to_string": _STRING,
    "type": _STRING,
    "join": _STRING,
    "contains": {"type": "boolean"},
    "starts_with": {"type": "boolean"},
    "ends_with": {"type": "boolean"},
    "not_null": {},
    "regex_match": {"type": "boolean"},
    "contains_any": {"type": "boolean"},
    "minutes_since": {"type": ["number", "null"]},
    "in_business_hours": {"type": "boolean"},
    "keys": _NAMES,
}
_BARE_LITERALS = ("null", "true", "false")
"""Words JMESPath reads as field names unless in backticks."""
_ELEMENT_FUNCTIONS = ("sort_by", "max_by", "min_by", "map")
"""Functions whose `&expression` argument is read against the elements of their array argument."""


def _types(schema: JSON | None) -> set[str] | None:
    """The JSON types a value of `schema` may have (integer counted as number); None when anything goes."""
    if not schema:
        return None
    if "enum" in schema:
        return {_json_type(v) for v in schema["enum"]}
    if "anyOf" in schema:
        found: set[str] = set()
        for branch in schema["anyOf"]:
            inner = _types(branch)
            if inner is None:
                return None
            found |= inner
        return found
    kind = schema.get("type")
    if kind is None:
        return None
    names = [kind] if isinstance(kind, str) else list(kind)
    return {"number" if n == "integer" else n for n in names}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else f"`{value}`" if value is not None else "null"


def suggest(name: str, valid: typing.Iterable[str]) -> str:
    """The one valid name close to `name` (a likely typo), else ''."""
    import difflib  # only errors need it: not on the cold start

    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return close[0] if close else ""


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def walk(self, node: Any, schema: JSON | None, at: str) -> tuple[JSON | None, str]:
        """The schema of what `node` yields when read from a value of `schema` (at path `at`), and its path;
        None means unknown (no further checks below it)."""
        if not isinstance(node, dict):
            return None, at
        kind, children = node.get("type"), node.get("children", [])
        if kind == "field":
            return self._field(node["value"], schema, at)
        if kind in ("current", "identity"):
            return schema, at
        if kind == "subexpression":
            for child in children:
                schema, at = self.walk(child, schema, at)
            return schema, at
        if kind == "index_expression":
            left, left_at = self.walk(children[0], schema, at)
            if children[1].get("type") == "index":
                return self._items(left), f"{left_at}[{children[1]['value']}]"
            return left, left_at
        if kind in ("projection", "filter_projection"):
            left, left_at = self.walk(children[0], schema, at)
            items = self._items(left)
            if kind == "filter_projection":
                self.walk(children[2], items, f"{left_at}[?]")
            right, _ = self.walk(children[1], items, f"{left_at}[]")
            return ({"type": "array", "items": right or {}} if right is not None else None), left_at
        if kind == "value_projection":
            left, left_at = self.walk(children[0], schema, at)
            self.walk(children[1], None, left_at)
            return None, left_at
        if kind == "flatten":
            inner, inner_at = self.walk(children[0], schema, at)
            items = self._items(inner)
            return (items if _types(items) == {"array"} else inner), inner_at
        if kind == "literal":
            return {"const": node["value"], "type": _json_type(node["value"])}, _show(node["value"])
        if kind == "comparator":
            return self._comparator(node, schema, at)
        if kind in ("and_expression", "or_expression", "not_expression"):
            for child in children:
                self.walk(child, schema, at)
            return ({"type": "boolean"} if kind == "not_expression" else None), at
        if kind == "pipe":
            left, left_at = self.walk(children[0], schema, at)
            return self.walk(children[1], left, left_at)
        if kind == "function_expression":
            return self._function(node, schema, at)
        if kind == "multi_select_list":
            for child in children:
                self.walk(child, schema, at)
            return {"type": "array"}, at
        if kind == "multi_select_dict":
            for pair in children:
                for child in pair.get("children", []):
                    self.walk(child, schema, at)
            return {"type": "object"}, at
        for child in children:  # expref outside a known function, slice: read, not typed
            self.walk(child, schema, at)
        return None, at

    @staticmethod
    def _items(schema: JSON | None) -> JSON | None:
        if schema is None or "items" not in schema:
            return None
        items: JSON = schema["items"]
        return items

    def _field(self, name: str, schema: JSON | None, at: str) -> tuple[JSON | None, str]:
        path = f"{at}.{name}" if at else name
        if schema is None:
            return None, path
        kinds = _types(schema)
        properties = schema.get("properties")
        if properties is not None and name in properties:
            found: JSON = properties[name]
            return found, path
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return extra, path
        if properties is not None and extra is False:
            if not at and name in _BARE_LITERALS:
                if name != "null":  # a field named null reads as null: right by accident, so let it be
                    self.problems.append(f"{name} without backticks is a field named {name!r}: write `{name}`")
                return ({"type": "null"} if name == "null" else None), path
            prefix = f"{at}." if at else ""
            near = suggest(name, properties)
            hint = f"; did you mean '{prefix}{near}'?" if near else ""
            where = f"{at} has" if at else "the context has"
            self.problems.append(f"unknown field {path!r}{hint} ({where}: {', '.join(properties)})")
            return None, path
        if kinds is not None and "object" not in kinds:
            self.problems.append(f"{at!r} is {_a(kinds)}, it has no field {name!r}")
        return None, path

    def _function(self, node: JSON, schema: JSON | None, at: str) -> tuple[JSON | None, str]:
        name, children = node["value"], node.get("children", [])
        first: JSON | None = None
        first_at = at
        for index, child in enumerate(children):
            if child.get("type") == "expref":
                element = self._items(first) if name in _ELEMENT_FUNCTIONS else None
                self.walk(child["children"][0], element, f"{first_at}[]")
                continue
            found, found_at = self.walk(child, schema, at)
            if index == 0:
                first, first_at = found, found_at
        if name in ("sort_by", "reverse", "sort"):
            return first, at
        return _RETURNS.get(name), at

    def _comparator(self, node: JSON, schema: JSON | None, at: str) -> tuple[JSON | None, str]:
        op = node["value"]
        (left, left_at), (right, right_at) = (self.walk(c, schema, at) for c in node["children"])
        for field, field_at, other, other_at in ((left, left_at, right, right_at), (right, right_at, left, left_at)):
            if field is None or "const" in field:
                continue
            kinds = _types(field)
            if kinds is None:
                continue
            if op in _ORDERING and "number" not in kinds:
                self.problems.append(
                    f"{field_at!r} is {_a(kinds)}: `{_ORDERING[op]}` compares numbers only and is never true here"
                )
                return {"type": "boolean"}, at
            if other is None or "const" not in other:
                continue
            value = other["const"]
            if value is None and op in _EQUALITY:
                continue
            if _json_type(value) not in kinds:
                fix = f"; write `{value}` (in backticks) for the number" if _is_number_text(value) else ""
                self.problems.append(
                    f"{field_at!r} is {_a(kinds)} and {other_at} is {_a({_json_type(value)})}: "
                    f"`{field_at} {_ORDERING.get(op) or _EQUALITY.get(op)} {other_at}` is never true{fix}"
                )
            elif "enum" in field and value not in field["enum"]:
                valid = [str(v) for v in field["enum"]]
                near = suggest(str(value), valid)
                hint = f"; did you mean '{near}'?" if near else ""
                self.problems.append(f"{field_at!r} is never {_show(value)}{hint} (its values: {valid})")
        return {"type": "boolean"}, at


def _is_number_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)


def _a(kinds: set[str]) -> str:
    words = {"array": "a list", "object": "an object", "null": "null", "string": "a text"}
    return " or ".join(sorted(words.get(k, f"a {k}") for k in kinds))


def field_problems(parsed: Any, schema: JSON | None = None) -> list[str]:
    """What is wrong with the fields a parsed JMESPath expression reads, in words: unknown fields (with a
    suggestion) and literals of another type than the field they are compared with."""
    checker = _Checker()
    checker.walk(parsed, schema or context_schema(), "")
    return list(dict.fromkeys(checker.problems))


# --- the classifier's fields (the model branch's table; the schema above is generated from it) -----------

_JUDGED = {"value": "boolean", "p": "number 0..1 (calibrated)"}

CLASSIFICATION_FIELDS: dict[str, Any] = {
    "topic": "string: outage | billing | device | account | cancellation | service_complaint | praise | other",
    "topic_p": "number 0..1: calibrated probability of `topic` (1 when only the lexicon judged)",
    "topics": {"*": "number 0..1: each topic's probability (empty without a learned model)"},
    "intent": "string or null: the finer intent within the topic",
    "intent_p": "number 0..1",
    "sentiment": {
        "label": "string: negative | neutral | positive",
        "score": "number -1..1: the lexicon's intensity (with a model, the label and `p` are the model's)",
        "p": {"negative": "number", "neutral": "number", "positive": "number"},
    },
    "churn_risk": "boolean",
    "churn": _JUDGED,
    "needs_human": _JUDGED,
    "addressed_to_brand": "boolean",
    "language": "string: en | tl | es | unknown",
    "urgency": "number 0..1",
    "is_question": "boolean",
    "spam": "boolean",
    "spam_p": "number 0..1",
    "abuse": "boolean",
    "abuse_p": "number 0..1",
    "pii": ["object: type, start, end (never the value)"],
    "regions": ["string"],
    "services": ["string"],
    "evidence": {"*": ["string"]},
    "model": "string: the learned model's version ('' = lexicon only)",
}


def _chain(node: Any) -> list[str] | None:
    """`a.b.c` as ['a', 'b', 'c'] when the node is a plain field path (however JMESPath nested it)."""
    if not isinstance(node, dict):
        return None
    if node.get("type") == "field":
        return [str(node["value"])]
    if node.get("type") == "subexpression":
        out: list[str] = []
        for child in node.get("children", []):
            part = _chain(child)
            if part is None:
                return out or None
            out += part
        return out
    return None


def unknown_classification_fields(node: Any) -> list[str]:
    """Every `classification.<path>` in a parsed expression that names no field (as dotted paths)."""
    found: list[str] = []
    if not isinstance(node, dict):
        return found
    chain = _chain(node) if node.get("type") in ("field", "subexpression") else None
    if chain and chain[0] == "classification":
        spec: Any = CLASSIFICATION_FIELDS
        for depth, name in enumerate(chain[1:], start=1):
            if not isinstance(spec, dict):
                break
            if name in spec:
                spec = spec[name]
            elif "*" in spec:
                spec = spec["*"]
            else:
                found.append(".".join(chain[: depth + 1]))
                break
        return found
    for child in node.get("children", []):
        found += unknown_classification_fields(child)
    return found


def valid_fields(prefix: str = "classification", spec: Any = None) -> list[str]:
    """Dotted paths of every field, for error messages and the schema's description."""
    spec = CLASSIFICATION_FIELDS if spec is None else spec
    out: list[str] = []
    for name, sub in spec.items():
        path = f"{prefix}.{name}" if name != "*" else f"{prefix}.<name>"
        out.append(path)
        if isinstance(sub, dict):
            out += valid_fields(path, sub)
    return out

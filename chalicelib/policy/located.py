"""Reading policy files so that every error can say where it is: YAML without duplicate keys, JSON Schema
errors worded for a person, and the line of any place in a file (found only when an error needs it)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from chalicelib.policy.errors import PolicyError

Place = tuple[str | int, ...]


class StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc,unused-ignore]
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """What is wrong, in PyYAML's words without its `in "<unicode string>"` marks, and the line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    words = str(problem) if problem else str(exc).split("\n", 1)[0]
    if problem and context:
        words += f" ({context})"
    return f"invalid YAML: {words}", (mark.line + 1 if mark is not None else None)


def read_yaml(path: Path, errors: list[PolicyError]) -> Any:
    """The document at `path`, or None with the reason recorded (file and line)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except yaml.YAMLError as exc:
        message, line = yaml_problem(exc)
        errors.append(PolicyError(str(path), message, line=line))
    except OSError as exc:
        errors.append(PolicyError(str(path), f"cannot read: {exc.strerror or exc}"))
    return None


# --- lines -------------------------------------------------------------------------------------------


def line_of(path: str | Path, place: Iterable[str | int]) -> int | None:
    """The 1-based line of `place` (keys and indexes) in the YAML file at `path`; the deepest part of it
    that exists when the rest does not (a missing field: the mapping that lacks it)."""
    try:
        node: Any = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in place:
        found = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    found = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            found = node.value[part]
            line = found.start_mark.line + 1
        if found is None:
            break
        node = found
    return line


def add_lines(errors: Iterable[PolicyError]) -> None:
    """Give every error that knows its place in a YAML file the line of that place."""
    for error in errors:
        if error.line is None and error.at is not None and error.file.endswith((".yaml", ".yml")):
            error.line = line_of(error.file, error.at)


# --- JSON Schema errors in words ---------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r} (yes/no)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a list" if isinstance(value, list) else "a mapping"


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _suggest(name: str, valid: Iterable[str]) -> str:
    from chalicelib.policy.fields import suggest

    near = suggest(name, [str(v) for v in valid])
    return f"did you mean {near!r}? " if near else ""


def describe(error: Any) -> str:
    """A jsonschema ValidationError as a sentence for a care lead: what was found, what is valid."""
    kind, schema, value = error.validator, error.schema, error.instance
    if kind == "required":
        missing = [name for name in error.validator_value if isinstance(value, dict) and name not in value]
        return f"missing {', '.join(repr(m) for m in missing) or 'a required field'}"
    if kind == "additionalProperties":
        known = sorted(schema.get("properties") or {})
        extra = [k for k in value if k not in known] if isinstance(value, dict) else []
        hints = "".join(_suggest(str(k), known) for k in extra)
        return f"unknown field {', '.join(repr(k) for k in extra)}; {hints}valid: {', '.join(known)}"
    if kind == "enum":
        valid = error.validator_value
        return f"{value!r} is not one of {', '.join(map(str, valid))}; {_suggest(str(value), valid)}".rstrip("; ")
    if kind == "propertyNames":
        inner = schema.get("propertyNames") or {}
        if "enum" in inner:
            return f"{value!r} is not one of {', '.join(map(str, inner['enum']))}"
        return f"{value!r}: {inner.get('x-hint') or 'not a valid name'}"
    if kind == "type":
        wanted = error.validator_value
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in ([wanted] if isinstance(wanted, str) else wanted))
        return f"expected {words}, found {_kind(value)}"
    if kind == "pattern":
        hint = schema.get("x-hint") or schema.get("description")
        return f"{value!r} is not {hint}" if hint else f"{value!r} is not written the expected way"
    if kind == "format":
        return f"{value!r} is not a {error.validator_value}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{value!r} is too small: at least {error.validator_value}" + (
            " (and more than that)" if kind == "exclusiveMinimum" else ""
        )
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{value!r} is too large: at most {error.validator_value}"
    if kind in ("minItems", "minLength"):
        return "must not be empty"
    if kind == "uniqueItems":
        return "lists the same value twice"
    if kind in ("oneOf", "anyOf") and error.context:
        from jsonschema.exceptions import best_match

        return describe(best_match(error.context))
    if kind == "const":
        return f"expected {error.validator_value!r}, found {value!r}"
    return str(error.message)


def schema_problems(doc: Any, schema: dict[str, Any]) -> list[tuple[Place, str]]:
    """(place, sentence) for every way `doc` does not fit `schema`, in document order."""
    from jsonschema import Draft202012Validator  # imported here: only validating policies needs it

    errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [
        ((*e.absolute_path, e.instance) if "propertyNames" in e.schema_path else tuple(e.absolute_path), describe(e))
        for e in errors
    ]


def field_name(place: Place) -> str | None:
    """`queues.care.calendar`, `actions[0].queue`: a place as a person reads it."""
    text = ""
    for part in place:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


# --- loaders' own error lines ----------------------------------------------------------------------

_TOP_KEY = re.compile(r"^(?:unknown (?:setting|field) )?'([^']+)'")
_FIELD = re.compile(r"^[\w'\" .\[\]-]+$")


_LOCATED = re.compile(r"^(?P<file>\S.*?(?:\.ya?ml|\.json|/lexicon))(?::(?P<line>\d+))?: (?P<rest>.*)$")


def error_from_text(text: str, default_file: Path) -> PolicyError:
    """A loader's `file[:line]: [field: ]message` line as a located error."""
    found = _LOCATED.match(text)
    if not found:
        return PolicyError(str(default_file), text)
    file, rest = found["file"], found["rest"]
    line = int(found["line"]) if found["line"] else None
    field, _, message = rest.partition(": ")
    if not message or not _FIELD.match(field) or field.count(" ") > 1 or field.startswith("invalid"):
        key = _TOP_KEY.match(rest)  # `unknown setting 'flor'; …`, `'audit' is not …`: a top-level key
        return PolicyError(file, rest, line=line, at=(key[1],) if key else None)
    at: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        at.append(int(part[1:-1]) if part.startswith("[") else part.strip("'\""))
    if field.startswith("channel "):  # channels.yaml names a channel by id: find its index
        at = ["channels", *_channel_index(Path(file), field.split(" ", 1)[1].strip("'\""))]
    return PolicyError(file, message, field=field, line=line, at=tuple(at))


def _channel_index(path: Path, channel_id: str) -> list[str | int]:
    errors: list[PolicyError] = []
    doc = read_yaml(path, errors)
    for index, raw in enumerate((doc or {}).get("channels") or [] if isinstance(doc, dict) else []):
        if isinstance(raw, dict) and raw.get("id") == channel_id:
            return [index]
    return []

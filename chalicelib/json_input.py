"""JSON from outside (webhook deliveries, API bodies): parsed so that only `JsonRejected` can come out,
and measured without recursion — what `json.loads` accepts can still be too deep for what follows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


class JsonRejected(ValueError):
    """The text is not usable JSON; the message says why without quoting it."""


class NestedTooDeeply(JsonRejected):
    """Nesting past what the parser (or a caller's limit) will follow."""


def parse(raw: bytes | str) -> Any:
    """`json.loads`, with every way it refuses input turned into JsonRejected: bad syntax, not UTF-8,
    nesting past the interpreter's recursion limit, an integer over Python's 4,300-digit limit."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise NestedTooDeeply("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"not JSON: {exc.msg} at character {exc.pos}") from None
    except UnicodeDecodeError:
        raise JsonRejected("not JSON: not UTF-8 text") from None
    except ValueError:  # int() of a literal over sys.get_int_max_str_digits()
        raise JsonRejected("a number has too many digits") from None


def text_objects(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of JSONL posts; JsonRejected("<number>: why") for the first
    line that is not a JSON object with a string `text`."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = parse(line)
        except JsonRejected as exc:
            raise JsonRejected(f"{number}: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
            raise JsonRejected(f"{number}: expected an object with a text")
        yield number, doc


def nested_deeper_than(value: Any, limit: int) -> bool:
    """True when lists/objects in `value` nest more than `limit` levels (the value itself is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False

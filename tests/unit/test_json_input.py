"""Untrusted JSON: every refusal is JsonRejected, and depth is measured without recursion."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.json_input import JsonRejected, NestedTooDeeply, nested_deeper_than, parse, text_objects


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"1" * 5000 + b"}", "too many digits"),
        (b"\xff\xfe\xfd", "not JSON"),
        (b'{"a": ', "not JSON"),
        ("", "not JSON"),
    ],
)
def test_every_refusal_is_json_rejected(raw: bytes | str, message: str) -> None:
    with pytest.raises(JsonRejected, match=message):
        parse(raw)


def test_nesting_past_the_parser_is_its_own_kind() -> None:
    with pytest.raises(NestedTooDeeply):
        parse("[" * 100_000 + "]" * 100_000)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_parse_raises_nothing_else(raw: bytes) -> None:
    with contextlib.suppress(JsonRejected):
        parse(raw)


@pytest.mark.parametrize(("depth", "limit", "deeper"), [(1, 1, False), (2, 1, True), (32, 32, False), (33, 32, True)])
def test_depth_counts_the_value_itself_as_level_one(depth: int, limit: int, deeper: bool) -> None:
    value = json.loads("[" * depth + "]" * depth)
    assert nested_deeper_than(value, limit) is deeper
    assert nested_deeper_than({"a": 1, "b": [value]}, limit + 2) is deeper


def test_depth_of_a_value_deeper_than_the_recursion_limit() -> None:
    value: list[object] = []
    for _ in range(50_000):
        value = [value]
    assert nested_deeper_than(value, 48)
    assert not nested_deeper_than(value, 50_001)


def test_jsonl_posts_skip_blank_lines_and_name_the_first_bad_line() -> None:
    lines = ['{"text": "no signal"}', "", '{"text": "ok", "id": 2}']
    assert [(n, d["text"]) for n, d in text_objects(lines)] == [(1, "no signal"), (3, "ok")]
    for bad, why in (('{"id": 1}', "expected an object with a text"), ("[" * 100_000, "nested too deeply")):
        with pytest.raises(JsonRejected, match=f"^2: {why}"):
            list(text_objects(['{"text": "fine"}', bad]))

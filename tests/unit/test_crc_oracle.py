"""The X CRC answer is never a POST signature for a JSON body (issue 9, finding 1), and its budget."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.channels.errors import ChallengeRejected
from chalicelib.channels.x import CRC_TOKEN_MAX_CHARS, PLATFORM, crc_token_problem
from chalicelib.intake import ChallengeLimiter

SECRET = "consumer-secret"
BASE64ISH = string.ascii_letters + string.digits + "+/-_="

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
tokens = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=BASE64ISH, max_size=200),
    st.from_regex(r"-?[0-9]{1,30}([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["true", "false", "null", "NaN", "Infinity", "-Infinity", "0", "-0", "1e5", "1E+5"]),
    json_values.map(json.dumps),
    json_values.map(lambda v: json.dumps(v, separators=(",", ":"))),
)


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token=tokens)
@example(token='{"for_user_id":"1","tweet_create_events":[]}')
@example(token="123")
@example(token="9b4507b3-9040-4669-9ca3-6b94edb50553")
def test_no_crc_answer_verifies_as_the_signature_of_a_json_body(token: str) -> None:
    try:
        answer = PLATFORM.challenge({"crc_token": token}, SECRET)
    except ChallengeRejected:
        return
    assert isinstance(answer.body, dict)
    headers = {PLATFORM.signature_header: answer.body["response_token"]}
    raw = token.encode("utf-8")
    assert PLATFORM.verify(headers, raw, SECRET)  # the answer is exactly a signature over the token's bytes ...
    assert not _is_json(raw)  # ... so the token must never be a body the webhook would parse


@pytest.mark.parametrize(
    "token",
    [
        '{"tweet_create_events": []}',
        "[1]",
        '"abc"',
        "123",
        "-7",
        "1e5",
        "true",
        "null",
        "NaN",
        "-Infinity",
        "abc def",
        "abc\n",
        "a" * (CRC_TOKEN_MAX_CHARS + 1),
        "ünïcode",
        "a=b",
    ],
)
def test_tokens_outside_x_format_are_refused_with_a_clear_message(token: str) -> None:
    assert crc_token_problem(token) is not None
    with pytest.raises(ChallengeRejected, match="crc_token"):
        PLATFORM.challenge({"crc_token": token}, SECRET)


@pytest.mark.parametrize(
    "token",
    ["9b4507b3-9040-4669-9ca3-6b94edb50553", "abc123", "foo", "MTIzNDU2Nzg5MA==", "a_b-c/d+e", "A" * 128],
)
def test_tokens_in_x_format_are_answered(token: str) -> None:
    assert crc_token_problem(token) is None
    assert PLATFORM.challenge({"crc_token": token}, SECRET).body["response_token"].startswith("sha256=")  # type: ignore[index]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_a_burst_then_refuses_until_refilled() -> None:
    clock = FakeMonotonic()
    limiter = ChallengeLimiter(burst=3, per_minute=6, monotonic=clock)
    assert [limiter.allow("x-care") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other") is True  # each channel has its own bucket
    clock.now += 9  # 6 a minute: one token every 10 s
    assert limiter.allow("x-care") is False
    clock.now += 1
    assert limiter.allow("x-care") is True
    assert limiter.allow("x-care") is False
    clock.now += 3600  # refills up to the burst, never beyond
    assert [limiter.allow("x-care") for _ in range(4)] == [True, True, True, False]


def test_limiter_tolerates_a_clock_that_steps_back() -> None:
    clock = FakeMonotonic()
    limiter = ChallengeLimiter(burst=1, per_minute=60, monotonic=clock)
    assert limiter.allow("c")
    clock.now -= 100
    assert not limiter.allow("c")

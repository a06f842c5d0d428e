"""X webhook signatures and CRC against the published (and one derived) vectors."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.channels.errors import ChallengeRejected
from chalicelib.channels.x import PLATFORM
from tests.support import fixture_bytes, load_event

VECTORS: list[dict[str, Any]] = load_event("signature_vectors.json")
X_POST = [v for v in VECTORS if v["scheme"] == "x_post_signature"]
X_CRC = [v for v in VECTORS if v["scheme"] == "x_crc"]
HEADER = "x-twitter-webhooks-signature"


def _flip(text: str, index: int) -> str:
    """`text` with the character at `index` replaced by a different one."""
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


def test_the_fixture_holds_both_published_x_vectors_and_the_crc_vector() -> None:
    assert len(X_POST) == 2
    assert len(X_CRC) == 1


@pytest.mark.parametrize("vector", X_POST, ids=lambda v: v["name"])
def test_published_x_vector_verifies(vector: dict[str, Any]) -> None:
    body = vector["message"].encode("utf-8")
    assert PLATFORM.verify({HEADER: vector["expected"]}, body, vector["secret"])
    assert PLATFORM.sign(body, vector["secret"]) == {HEADER: vector["expected"]}


@pytest.mark.parametrize("vector", X_POST, ids=lambda v: v["name"])
@pytest.mark.parametrize("index", [len("sha256="), -2])
def test_one_flipped_character_in_the_signature_fails(vector: dict[str, Any], index: int) -> None:
    body = vector["message"].encode("utf-8")
    assert not PLATFORM.verify({HEADER: _flip(vector["expected"], index)}, body, vector["secret"])


@pytest.mark.parametrize("vector", X_POST, ids=lambda v: v["name"])
def test_one_flipped_character_in_the_body_fails(vector: dict[str, Any]) -> None:
    body = _flip(vector["message"], 3).encode("utf-8")
    assert not PLATFORM.verify({HEADER: vector["expected"]}, body, vector["secret"])


@pytest.mark.parametrize("vector", X_POST, ids=lambda v: v["name"])
def test_missing_or_empty_header_fails(vector: dict[str, Any]) -> None:
    body = vector["message"].encode("utf-8")
    assert not PLATFORM.verify({}, body, vector["secret"])
    assert not PLATFORM.verify({HEADER: ""}, body, vector["secret"])
    assert not PLATFORM.verify({"x-hub-signature-256": vector["expected"]}, body, vector["secret"])


@pytest.mark.parametrize("vector", X_POST, ids=lambda v: v["name"])
def test_empty_secret_fails(vector: dict[str, Any]) -> None:
    body = vector["message"].encode("utf-8")
    assert not PLATFORM.verify({HEADER: vector["expected"]}, body, "")
    assert not PLATFORM.verify(PLATFORM.sign(body, ""), body, "")


@pytest.mark.parametrize("name", [HEADER, "X-Twitter-Webhooks-Signature", "X-TWITTER-WEBHOOKS-SIGNATURE"])
def test_header_name_in_any_case_works(name: str) -> None:
    vector = X_POST[0]
    headers = {"Content-Type": "application/json", name: vector["expected"]}
    assert PLATFORM.verify(headers, vector["message"].encode("utf-8"), vector["secret"])


def test_case_insensitive_mapping_from_chalice_works() -> None:
    vector = X_POST[0]
    headers = CaseInsensitiveMapping({"X-Twitter-Webhooks-Signature": vector["expected"]})
    assert PLATFORM.verify(headers, vector["message"].encode("utf-8"), vector["secret"])


@pytest.mark.parametrize("headers", [None, [], {HEADER: None}, {HEADER: 42}, {HEADER: "sha256=\udcff\u00e9"}, {1: "x"}])
def test_garbage_headers_fail_without_raising(headers: Any) -> None:
    assert not PLATFORM.verify(headers, b"{}", "secret")


def test_sign_then_verify_round_trip_over_exact_fixture_bytes() -> None:
    body = fixture_bytes("x/aaa_tweet_create_mention_reply.json")
    headers = PLATFORM.sign(body, "consumer-secret")
    assert set(headers) == {HEADER}
    assert headers[HEADER].startswith("sha256=")
    assert PLATFORM.verify(headers, body, "consumer-secret")
    assert not PLATFORM.verify(headers, body, "another-secret")
    assert not PLATFORM.verify(headers, body + b"\n", "consumer-secret")


@pytest.mark.parametrize("vector", X_CRC, ids=lambda v: v["name"])
def test_crc_vector(vector: dict[str, Any]) -> None:
    response = PLATFORM.challenge({"crc_token": vector["message"]}, vector["secret"])
    assert response.body == {"response_token": vector["expected"]}
    assert response.content_type == "application/json"


@pytest.mark.parametrize("vector", X_CRC, ids=lambda v: v["name"])
def test_crc_with_one_flipped_token_character_differs(vector: dict[str, Any]) -> None:
    response = PLATFORM.challenge({"crc_token": _flip(vector["message"], 0)}, vector["secret"])
    assert response.body != {"response_token": vector["expected"]}


def test_crc_ignores_the_nonce_parameter() -> None:
    vector = X_CRC[0]
    response = PLATFORM.challenge({"crc_token": vector["message"], "nonce": "abc"}, vector["secret"])
    assert response.body == {"response_token": vector["expected"]}


@pytest.mark.parametrize("query", [{}, {"crc_token": ""}, {"nonce": "abc"}, None])
def test_crc_without_token_is_rejected(query: Any) -> None:
    with pytest.raises(ChallengeRejected, match="crc_token"):
        PLATFORM.challenge(query, "secret")


def test_crc_without_secret_is_rejected() -> None:
    with pytest.raises(ChallengeRejected, match="secret"):
        PLATFORM.challenge({"crc_token": "abc"}, "")

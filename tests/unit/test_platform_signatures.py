"""Signatures and handshakes of the Meta, Discourse, Telegram and Standard Webhooks channels, against the
published (and derived) vectors in tests/fixtures/signature_vectors.json."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import CaseInsensitiveMapping

from chalicelib.channels import registry
from chalicelib.channels.errors import ChallengeRejected, MethodNotAllowed
from chalicelib.channels.standard_webhooks import StandardWebhooksPlatform
from tests.support import fixture_bytes, load_event

VECTORS: list[dict[str, Any]] = load_event("signature_vectors.json")
META = registry.get("facebook")


def vectors(scheme: str) -> list[dict[str, Any]]:
    found = [v for v in VECTORS if v["scheme"] == scheme]
    assert found, scheme
    return found


def message(vector: dict[str, Any]) -> bytes:
    if "message_file" in vector:
        return fixture_bytes(vector["message_file"])
    return str(vector.get("message", vector.get("payload"))).encode("utf-8")


def flip(text: str, index: int) -> str:
    return text[:index] + ("a" if text[index] != "a" else "b") + text[index + 1 :]


@pytest.mark.parametrize(
    "vector",
    vectors("meta_x_hub_signature_256") + vectors("github_x_hub_signature_256"),
    ids=lambda v: v["name"][:40],
)
@pytest.mark.parametrize("name", ["facebook", "instagram", "whatsapp"])
def test_meta_vectors_verify_and_sign(vector: dict[str, Any], name: str) -> None:
    platform = registry.get(name)
    body = message(vector)
    headers = CaseInsensitiveMapping({"X-Hub-Signature-256": vector["expected"]})
    assert platform.verify(headers, body, vector["secret"])
    assert platform.sign(body, vector["secret"]) == {"X-Hub-Signature-256": vector["expected"]}
    assert not platform.verify(headers, body + b" ", vector["secret"])  # tampered body
    assert not platform.verify(headers, body, vector["secret"] + "x")  # wrong secret
    assert not platform.verify({"X-Hub-Signature-256": flip(vector["expected"], 10)}, body, vector["secret"])
    assert not platform.verify({}, body, vector["secret"])  # missing header
    assert not platform.verify({"X-Hub-Signature-256": vector["expected"].upper()}, body, vector["secret"])
    assert not platform.verify({"X-Hub-Signature": vector["expected"]}, body, vector["secret"])  # sha1 header name


@pytest.mark.parametrize("vector", vectors("discourse_event_signature"), ids=lambda v: v["name"])
def test_discourse_vector(vector: dict[str, Any]) -> None:
    platform = registry.get("discourse")
    body = message(vector)
    assert platform.verify({"X-Discourse-Event-Signature": vector["expected"]}, body, vector["secret"])
    assert platform.sign(body, vector["secret"]) == {"X-Discourse-Event-Signature": vector["expected"]}
    assert not platform.verify({"X-Discourse-Event-Signature": vector["expected"]}, body + b"\n", vector["secret"])
    assert not platform.verify({"X-Discourse-Event-Signature": vector["expected"]}, body, "other")
    assert not platform.verify({}, body, vector["secret"])


def test_telegram_secret_token_header() -> None:
    platform = registry.get("telegram")
    assert platform.verify({"X-Telegram-Bot-Api-Secret-Token": "abc_DEF-123"}, b"{}", "abc_DEF-123")
    assert not platform.verify({"X-Telegram-Bot-Api-Secret-Token": "abc_DEF-124"}, b"{}", "abc_DEF-123")
    assert not platform.verify({}, b"{}", "abc_DEF-123")
    assert not platform.verify({"X-Telegram-Bot-Api-Secret-Token": ""}, b"{}", "")
    assert len(platform.generate_secret("secret_token")) <= 256


SW = vectors("standard_webhooks_v1")[0]
SW_HEADERS = {"webhook-id": SW["webhook_id"], "webhook-timestamp": SW["webhook_timestamp"]}


def at(offset: int) -> StandardWebhooksPlatform:
    return StandardWebhooksPlatform(now=lambda: int(SW["webhook_timestamp"]) + offset)


def test_standard_webhooks_published_vector() -> None:
    headers = {**SW_HEADERS, "webhook-signature": SW["expected"]}
    assert at(0).verify(headers, message(SW), SW["secret"])
    assert not at(0).verify(headers, message(SW) + b" ", SW["secret"])
    bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="  # vector #1b of PLATFORMS.md: must fail
    assert not at(0).verify({**SW_HEADERS, "webhook-signature": bad}, message(SW), SW["secret"])


def test_standard_webhooks_accepts_any_of_several_signatures() -> None:
    listed = f"v1a,ignored v1,{'A' * 44} {SW['expected']}"
    assert at(0).verify({**SW_HEADERS, "webhook-signature": listed}, message(SW), SW["secret"])
    assert not at(0).verify({**SW_HEADERS, "webhook-signature": f"v1,{'A' * 44} v2,x"}, message(SW), SW["secret"])


@pytest.mark.parametrize(("offset", "ok"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_standard_webhooks_five_minute_window(offset: int, ok: bool) -> None:
    headers = {**SW_HEADERS, "webhook-signature": SW["expected"]}
    assert at(-offset).verify(headers, message(SW), SW["secret"]) is ok


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_standard_webhooks_missing_header_fails(missing: str) -> None:
    headers = {**SW_HEADERS, "webhook-signature": SW["expected"]}
    del headers[missing]
    assert not at(0).verify(headers, message(SW), SW["secret"])


def test_standard_webhooks_sign_round_trips_with_a_generated_secret() -> None:
    platform = StandardWebhooksPlatform()
    secret = platform.generate_secret("signing_secret")
    assert secret.startswith("whsec_")
    body = b'{"type":"post.created"}'
    assert platform.verify(platform.sign(body, secret), body, secret)
    assert not platform.verify(platform.sign(body, secret), body, platform.generate_secret("signing_secret"))


HANDSHAKE = {"hub.mode": "subscribe", "hub.verify_token": "meatyhamhock", "hub.challenge": "1158201444"}


def test_meta_handshake_answers_the_bare_challenge() -> None:
    answer = META.challenge(HANDSHAKE, "meatyhamhock")
    assert (answer.body, answer.content_type) == ("1158201444", "text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {**HANDSHAKE, "hub.verify_token": "meatyhamhocks"},
        {**HANDSHAKE, "hub.mode": "unsubscribe"},
        {**HANDSHAKE, "hub.challenge": "<script>"},
        {k: v for k, v in HANDSHAKE.items() if k != "hub.verify_token"},
        {k: v for k, v in HANDSHAKE.items() if k != "hub.challenge"},
    ],
)
def test_meta_handshake_refusals_all_say_the_same(query: dict[str, str]) -> None:
    with pytest.raises(ChallengeRejected) as caught:
        META.challenge(query, "meatyhamhock")
    assert str(caught.value) == "verification refused"


@pytest.mark.parametrize("name", ["discourse", "telegram", "webhook"])
def test_platforms_without_a_handshake_refuse_get(name: str) -> None:
    platform = registry.get(name)
    assert platform.challenge_secret is None
    with pytest.raises(MethodNotAllowed):
        platform.challenge({}, "s")

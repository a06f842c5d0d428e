"""The webhook routes for the issue-12 channels (Facebook, WhatsApp, Discourse from policies/channels.yaml;
Telegram and Standard Webhooks from a copy of it): handshakes, 401s that never say which part failed,
404/405, unknown kinds acknowledged and counted, two secrets during a rotation window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from app import app
from chalicelib import runtime as runtime_module
from chalicelib.channels import registry
from chalicelib.channels.standard_webhooks import secret_key, signature
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime
from tests.conftest import FixedClock, RecordingQueue, make_settings
from tests.support import fixture_bytes, load_event

EXTRA_CHANNELS = """
  - id: tg-bot
    platform: telegram
    brand_ids: ["777"]
    secrets:
      secret_token: {env: CAREWIRE_TEST_TG_TOKEN}
  - id: reviews
    platform: webhook
    brand_ids: ["brand"]
    secret:
      env: CAREWIRE_TEST_REVIEWS_SECRET
      previous: {env: CAREWIRE_TEST_REVIEWS_OLD, until: "2999-01-01T00:00:00Z"}
"""


@pytest.fixture
def rt(policy_dir: Path) -> Runtime:
    path = policy_dir / "channels.yaml"
    path.write_text(path.read_text(encoding="utf-8") + EXTRA_CHANNELS, encoding="utf-8")
    queue = RecordingQueue()
    runtime = Runtime(
        make_settings(policy_dir.parent, policies_dir=policy_dir), clock=FixedClock(), queue_factory=lambda _rt: queue
    )
    runtime_module.use(runtime)
    return runtime


@pytest.fixture
def client(rt: Runtime) -> Iterator[Client]:
    with Client(app, stage_name="local") as test_client:
        yield test_client


def secret(rt: Runtime, channel_id: str, name: str | None = None) -> str:
    channel = rt.channels[channel_id]
    value = rt.secrets.value(channel, name or registry.get(channel.platform).signing_secret)
    assert value
    return value


def customer_comment() -> bytes:
    body = load_event("samples/meta_page_feed_comment_add.json")
    body["entry"][0]["id"] = "104857600000001"
    body["entry"][0]["changes"][0]["value"]["from"] = {"id": "555", "name": "Maria"}
    return json.dumps(body).encode()


def post(client: Client, rt: Runtime, channel_id: str, body: bytes, **extra: str) -> Any:
    platform = registry.get(rt.channels[channel_id].platform)
    headers = {"Content-Type": "application/json", **platform.sign(body, secret(rt, channel_id)), **extra}
    return client.http.post(f"/webhooks/{channel_id}", headers=headers, body=body)


def queued(rt: Runtime) -> list[Any]:
    return rt.queue.events  # type: ignore[attr-defined, no-any-return]


def test_meta_handshake_through_the_route(client: Client, rt: Runtime) -> None:
    token = secret(rt, "fb-page", "verify_token")
    query = urlencode({"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    response = client.http.get(f"/webhooks/fb-page?{query}")
    assert response.status_code == 200
    assert response.body == b"1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")
    wrong = urlencode({"hub.mode": "subscribe", "hub.verify_token": token + "x", "hub.challenge": "1"})
    refused = client.http.get(f"/webhooks/fb-page?{wrong}")
    assert refused.status_code == 400 and refused.json_body["message"] == "verification refused"


def test_a_signed_facebook_comment_is_enqueued(client: Client, rt: Runtime) -> None:
    response = post(client, rt, "fb-page", customer_comment())
    assert response.status_code == 200 and response.json_body["accepted"] == 1
    [event] = queued(rt)
    assert (event.platform, event.kind) == ("facebook", "feed")


def tampered(rt: Runtime, channel_id: str, body: bytes) -> dict[str, str]:
    return registry.get(rt.channels[channel_id].platform).sign(body, secret(rt, channel_id))


CASES = ["tampered body", "wrong secret", "missing header"]


SIGNED = [
    ("fb-page", customer_comment()),
    ("whatsapp-care", fixture_bytes("samples/meta_whatsapp_message_text_docs.json")),
    ("community", fixture_bytes("samples/discourse_ping_body.json")),
    ("tg-bot", fixture_bytes("samples/telegram_update_message_text.json")),
    ("reviews", b'{"type":"post.created"}'),
]


@pytest.mark.parametrize(
    ("channel_id", "body", "case"),
    # Telegram signs no body: its secret token is all there is to check (PLATFORMS.md §4)
    [(c, b, case) for c, b in SIGNED for case in CASES if not (c == "tg-bot" and case == "tampered body")],
)
def test_bad_signatures_are_401_and_say_nothing_about_why(
    client: Client, rt: Runtime, channel_id: str, body: bytes, case: str
) -> None:
    platform = registry.get(rt.channels[channel_id].platform)
    good = platform.sign(body, secret(rt, channel_id))
    sent, headers = body, dict(good)
    if case == "tampered body":
        sent = body.replace(b"}", b" }", 1)
    elif case == "wrong secret":
        headers = platform.sign(body, platform.generate_secret(platform.signing_secret))
    else:
        headers = {}
    response = client.http.post(
        f"/webhooks/{channel_id}", headers={"Content-Type": "application/json", **headers}, body=sent
    )
    assert response.status_code == 401
    assert response.json_body == {"error": "bad_signature", "message": "missing or invalid signature"}
    assert queued(rt) == []


def test_a_stale_standard_webhooks_timestamp_is_401(client: Client, rt: Runtime) -> None:
    body = b'{"type":"post.created"}'
    headers = registry.get("webhook").sign(body, secret(rt, "reviews"))
    stale = str(int(headers["webhook-timestamp"]) - 301)
    key = secret_key(secret(rt, "reviews"))
    assert key is not None
    headers.update(
        {"webhook-timestamp": stale, "webhook-signature": signature(key, headers["webhook-id"], stale, body)}
    )
    response = client.http.post("/webhooks/reviews", headers={"Content-Type": "application/json", **headers}, body=body)
    assert response.status_code == 401
    assert response.json_body["message"] == "missing or invalid signature"


def test_the_previous_secret_verifies_during_its_rotation_window(
    client: Client, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = registry.get("webhook")
    new, old = platform.generate_secret("signing_secret"), platform.generate_secret("signing_secret")
    monkeypatch.setenv("CAREWIRE_TEST_REVIEWS_SECRET", new)
    monkeypatch.setenv("CAREWIRE_TEST_REVIEWS_OLD", old)
    body = json.dumps(
        {"type": "post.created", "data": {"id": "r1", "text": "slow data", "author": {"id": "u1"}}}
    ).encode()
    for key in (new, old):
        response = client.http.post(
            "/webhooks/reviews", headers={"Content-Type": "application/json", **platform.sign(body, key)}, body=body
        )
        assert response.status_code == 200, key
    third = platform.generate_secret("signing_secret")
    response = client.http.post(
        "/webhooks/reviews", headers={"Content-Type": "application/json", **platform.sign(body, third)}, body=body
    )
    assert response.status_code == 401


def test_unknown_kinds_are_200_logged_and_counted(client: Client, rt: Runtime) -> None:
    body = fixture_bytes("samples/meta_page_batch_two_entries.json").replace(b"1234567890321", b"104857600000001")
    response = post(client, rt, "fb-page", body)
    assert response.status_code == 200
    assert response.json_body == {
        "accepted": 0,
        "skipped": {"field:parking": 1, "field:payment_options": 1},
        "invalid": 0,
    }
    assert COUNTERS.tally["UnknownEventKinds"] == 2
    ping = post(client, rt, "community", b'{"ping":"OK"}', **{"X-Discourse-Event": "ping"})
    assert ping.status_code == 200 and ping.json_body["skipped"] == {"ping": 1}
    assert COUNTERS.tally["EventsNotActedOn"] == 1


def test_unknown_channel_is_404_and_wrong_method_405(client: Client, rt: Runtime) -> None:
    assert (
        client.http.post("/webhooks/nope", headers={"Content-Type": "application/json"}, body=b"{}").status_code == 404
    )
    assert client.http.get("/webhooks/nope").status_code == 404
    assert client.http.get("/webhooks/community").status_code == 405
    assert client.http.get("/webhooks/reviews").status_code == 405
    assert client.http.put("/webhooks/fb-page", body=b"{}").status_code == 405
    assert client.http.delete("/webhooks/fb-page").status_code == 405


def test_whatsapp_status_is_enqueued_as_a_delivery_report(client: Client, rt: Runtime) -> None:
    response = post(client, rt, "whatsapp-care", fixture_bytes("samples/meta_whatsapp_status_delivered.json"))
    assert response.status_code == 200
    [event] = queued(rt)
    assert event.kind == "status"


def test_a_telegram_update_with_the_secret_token(client: Client, rt: Runtime) -> None:
    response = post(client, rt, "tg-bot", fixture_bytes("samples/telegram_update_message_text.json"))
    assert response.status_code == 200 and response.json_body["accepted"] == 1


def test_a_generic_post_is_enqueued_with_its_webhook_id(client: Client, rt: Runtime) -> None:
    body = json.dumps(
        {"type": "post.created", "data": {"id": "r9", "text": "no signal", "author": {"id": "u9"}}}
    ).encode()
    response = post(client, rt, "reviews", body)
    assert response.status_code == 200
    [event] = queued(rt)
    assert event.payload["webhook_id"].startswith("msg_")


class ThrottledSsm:
    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        raise RuntimeError("ThrottlingException")


def test_a_secret_lookup_that_keeps_failing_is_503_and_retried_later(client: Client, rt: Runtime) -> None:
    from dataclasses import replace

    from chalicelib.channels.config import NamedSecret, SecretRef, SecretResolver

    object.__setattr__(rt.settings, "stage", "prod")
    channel = rt.channels["fb-page"]
    rt.channels["fb-page"] = replace(
        channel, secrets={**channel.secrets, "app_secret": NamedSecret(SecretRef(ssm="/carewire/prod/meta/app-secret"))}
    )
    rt.__dict__["secrets"] = SecretResolver(rt.settings, ssm_client_factory=ThrottledSsm, retry_delay=0)
    body = customer_comment()
    response = client.http.post(
        "/webhooks/fb-page",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
        body=body,
    )
    assert response.status_code == 503
    assert response.json_body["error"] == "try_again"
    assert queued(rt) == []

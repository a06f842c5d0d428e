"""The webhook routes through Chalice's test client: status codes, signatures, what gets enqueued."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from app import app
from chalicelib.channels.base import INVALID_KIND
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime
from tests.conftest import X_SECRET
from tests.support import BRAND_ID, fixture_bytes, mention_delivery, x_headers

PATH = "/webhooks/x-care"


@pytest.fixture
def client(route_runtime: Runtime) -> Iterator[Client]:
    with Client(app, stage_name="local") as test_client:
        yield test_client


def test_crc_answers_with_hmac_of_token(client: Client) -> None:
    response = client.http.get(f"{PATH}?crc_token=abc123")
    expected = base64.b64encode(hmac.new(X_SECRET.encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert response.status_code == 200
    assert response.json_body == {"response_token": f"sha256={expected}"}


def test_crc_without_token_is_400(client: Client) -> None:
    assert client.http.get(PATH).status_code == 400


def test_crc_refuses_a_json_body_as_token_and_counts_it(client: Client) -> None:
    body = mention_delivery("110", "@bayanitelcares cancel my plan now")
    response = client.http.get(f"{PATH}?{urlencode({'crc_token': body.decode()})}")
    assert response.status_code == 400
    assert response.json_body["error"] == "bad_challenge"
    assert "base64" in response.json_body["message"]
    assert "response_token" not in response.json_body
    assert COUNTERS.tally["ChallengesRefused"] == 1


def test_crc_forgery_cannot_sign_a_delivery(client: Client, route_runtime: Runtime) -> None:
    """The attack from issue 9: ask the CRC to sign a delivery body, then post it with that signature."""
    body = mention_delivery("109", "@bayanitelcares I am leaving for another network")
    crc = client.http.get(f"{PATH}?{urlencode({'crc_token': body.decode()})}")
    forged = crc.json_body.get("response_token", "sha256=")
    headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": forged}
    assert client.http.post(PATH, headers=headers, body=body).status_code == 401
    assert route_runtime.queue.events == []  # type: ignore[attr-defined]


def test_crc_is_rate_limited_per_channel(client: Client) -> None:
    statuses = [client.http.get(f"{PATH}?crc_token=abc{n}").status_code for n in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]
    last = client.http.get(f"{PATH}?crc_token=abc")
    assert last.json_body["error"] == "too_many_challenges"
    assert last.headers["Retry-After"] == "60"
    assert COUNTERS.tally["ChallengesRateLimited"] == 3


def test_unknown_channel_is_404(client: Client) -> None:
    body = mention_delivery("1", "@bayanitelcares hi")
    assert client.http.post("/webhooks/nope", headers=x_headers(body, X_SECRET), body=body).status_code == 404


def test_good_delivery_is_200_and_enqueued(client: Client, route_runtime: Runtime) -> None:
    body = mention_delivery("111", "@bayanitelcares no signal since morning")
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    assert response.json_body == {"accepted": 1, "skipped": {}, "invalid": 0}
    queued = route_runtime.queue.events  # type: ignore[attr-defined]
    assert [(e.channel, e.platform, e.kind) for e in queued] == [("x-care", "x", "tweet")]
    assert queued[0].payload["event"]["id_str"] == "111"


def test_missing_signature_is_401_and_nothing_enqueued(client: Client, route_runtime: Runtime) -> None:
    body = mention_delivery("112", "@bayanitelcares hello")
    response = client.http.post(PATH, headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 401
    assert route_runtime.queue.events == []  # type: ignore[attr-defined]
    assert COUNTERS.tally["SignaturesRejected"] == 1


def test_signature_over_other_bytes_is_401(client: Client) -> None:
    body = mention_delivery("113", "@bayanitelcares hello")
    tampered = body.replace(b"hello", b"hellO")
    assert client.http.post(PATH, headers=x_headers(body, X_SECRET), body=tampered).status_code == 401


def test_wrong_secret_is_401(client: Client) -> None:
    body = mention_delivery("114", "@bayanitelcares hello")
    assert client.http.post(PATH, headers=x_headers(body, "not-the-secret"), body=body).status_code == 401


def test_malformed_json_with_valid_signature_is_400(client: Client) -> None:
    body = b'{"tweet_create_events": [ {"id_str": '
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 400
    assert response.json_body["error"] == "malformed_body"


def test_wrong_structure_is_kept_as_one_invalid_event(client: Client, route_runtime: Runtime) -> None:
    body = json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": {"not": "a list"}}).encode()
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    assert response.json_body == {"accepted": 1, "skipped": {}, "invalid": 1}
    [event] = route_runtime.queue.events  # type: ignore[attr-defined]
    assert event.kind == INVALID_KIND
    assert event.payload["reason"] == "tweet_create_events must be a list"
    assert COUNTERS.tally["EventsInvalidAtIntake"] == 1


def _with_bad_sibling(bad: object) -> bytes:
    good = json.loads(mention_delivery("120", "@bayanitelcares my bill doubled"))
    good["tweet_create_events"].insert(0, bad)
    return json.dumps(good).encode()


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"id_str": "121", "user": {"id_str": ["not", "an", "id"]}}, "no id_str"),
        ({"id_str": "121", "user": {"id_str": "5"}, "in_reply_to_user_id_str": {"a": 1}}, None),
        ({"id_str": "9" * 3000, "user": {"id_str": "5"}}, "longer than 64"),
        ({"id_str": "121", "user": {"id_str": "5"}, "entities": {"user_mentions": [{"id_str": [1]}]}}, None),
        ("not an object", "must be an object"),
        ({"id_str": "121", "user": {"id_str": "5"}, "deep": json.loads("[" * 60 + "]" * 60)}, "nested deeper"),
    ],
)
def test_a_bad_event_is_kept_to_be_parked_and_its_sibling_goes_on(
    client: Client, route_runtime: Runtime, bad: object, reason: str | None
) -> None:
    body = _with_bad_sibling(bad)
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    events = route_runtime.queue.events  # type: ignore[attr-defined]
    kinds = [e.kind for e in events]
    if reason is None:  # odd but harmless values: the event is usable
        assert kinds == ["tweet", "tweet"]
        return
    assert kinds == [INVALID_KIND, "tweet"]
    assert reason in events[0].payload["reason"]
    kept = events[0].payload["event"]
    assert kept == bad or json.loads(kept["json_text"]) == bad  # too deep to nest in the message: kept as text
    assert events[1].payload["event"]["id_str"] == "120"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"for_user_id": "1", "tweet_create_events": [' * 2000, "nested too deeply"),
        (b'{"for_user_id": ' + b"7" * 5000 + b"}", "too many digits"),
        (b"\xff\xfe{}", "not JSON"),
    ],
)
def test_unparseable_bodies_are_400_not_500(client: Client, body: bytes, message: str) -> None:
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 400
    assert response.json_body["error"] == "malformed_body"
    assert message in response.json_body["message"]


@pytest.mark.parametrize("for_user_id", ["42", None, ["1000000000000000001"], "9" * 5000])
def test_delivery_not_for_the_brand_is_parked_never_decided(
    client: Client, route_runtime: Runtime, for_user_id: object
) -> None:
    doc = json.loads(mention_delivery("130", "@bayanitelcares I want to cancel"))
    doc["for_user_id"] = for_user_id
    body = json.dumps(doc).encode()
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    assert response.json_body["invalid"] == 1
    [event] = route_runtime.queue.events  # type: ignore[attr-defined]
    assert event.kind == INVALID_KIND
    assert "for_user_id" in event.payload["reason"]
    assert event.payload["event"]["id_str"] == "130"  # kept whole, so it can be replayed once the channel is fixed


def test_oversized_body_is_413(client: Client, route_runtime: Runtime) -> None:
    body = b'{"pad": "' + b"x" * route_runtime.settings.max_body_bytes + b'"}'
    assert client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body).status_code == 413


def test_events_not_acted_on_are_acknowledged_and_counted(client: Client, route_runtime: Runtime) -> None:
    body = fixture_bytes("x/docs_direct_message_indicate_typing_events.json")
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    assert response.json_body == {
        "accepted": 0,
        "skipped": {"direct_message_indicate_typing_events": 1},
        "invalid": 0,
    }
    assert COUNTERS.tally["EventsNotActedOn"] == 1
    assert route_runtime.queue.events == []  # type: ignore[attr-defined]


def test_unknown_event_kind_is_acknowledged_and_counted(client: Client) -> None:
    body = json.dumps({"for_user_id": "1", "brand_new_events": [{"id": "1"}]}).encode()
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code == 200
    assert response.json_body["skipped"] == {"brand_new_events": 1}
    assert COUNTERS.tally["UnknownEventKinds"] == 1


def test_missing_secret_fails_closed(client: Client, route_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    object.__setattr__(route_runtime.settings, "stage", "prod")  # no development secrets outside local
    monkeypatch.delenv("CAREWIRE_X_CARE_CONSUMER_SECRET")
    body = mention_delivery("115", "@bayanitelcares hi")
    assert client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body).status_code == 401
    assert client.http.get(f"{PATH}?crc_token=abc").status_code == 401


def test_non_json_content_type_is_refused_by_chalice(client: Client) -> None:
    body = mention_delivery("116", "@bayanitelcares hi")
    headers = {**x_headers(body, X_SECRET), "Content-Type": "text/plain"}
    assert client.http.post(PATH, headers=headers, body=body).status_code == 415

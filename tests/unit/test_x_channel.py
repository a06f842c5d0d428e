"""X Account Activity deliveries: splitting into queue events and normalising them to Posts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from chalicelib.channels.base import INVALID_KIND
from chalicelib.channels.config import ChannelConfig, NamedSecret, SecretRef
from chalicelib.channels.errors import MalformedDelivery, MalformedEvent
from chalicelib.channels.x import PLATFORM
from chalicelib.model import Author, Event
from tests.support import FIXTURES, load_event

RECEIVED_AT = "2024-05-01T12:00:00.000Z"
SAMPLES = sorted(p.name for p in (FIXTURES / "x").glob("*.json"))
MENTION_REPLY = "x/aaa_tweet_create_mention_reply.json"
DM_INBOUND = "x/aaa_direct_message_events_inbound_captured.json"
DM_BY_BOT = "x/aaa_direct_message_events_sent_by_bot.json"

X_SECRETS = {"consumer_secret": NamedSecret(SecretRef(env="X_SECRET"))}


def channel_for(body: dict[str, Any], handles: tuple[str, ...] = ()) -> ChannelConfig:
    """A channel whose brand account is the delivery's subscribed user."""
    brand_ids = (str(body["for_user_id"]),) if "for_user_id" in body else ()
    return ChannelConfig(id="telco-x", platform="x", brand_handles=handles, brand_ids=brand_ids, secrets=X_SECRETS)


BRANDLESS = ChannelConfig(id="telco-x", platform="x", brand_handles=("bigtelco",), brand_ids=("1",), secrets=X_SECRETS)


def one_event(body: dict[str, Any], channel: ChannelConfig) -> Event:
    split = PLATFORM.split(body, channel, RECEIVED_AT)
    assert len(split.events) == 1, split
    return split.events[0]


def normalize_body(body: dict[str, Any], channel: ChannelConfig | None = None) -> Any:
    channel = channel or channel_for(body)
    return PLATFORM.normalize(one_event(body, channel), channel)


def mention_reply() -> dict[str, Any]:
    body: dict[str, Any] = load_event(MENTION_REPLY)
    return body


def test_platform_identity() -> None:
    assert PLATFORM.name == "x"
    assert PLATFORM.signature_header == "x-twitter-webhooks-signature"


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_splits_and_every_event_normalises(name: str) -> None:
    body = load_event(f"x/{name}")
    channel = channel_for(body)
    split = PLATFORM.split(body, channel, RECEIVED_AT)
    assert split.events or split.skipped
    for event in split.events:
        assert event.channel == "telco-x"
        assert event.platform == "x"
        assert event.received_at == RECEIVED_AT
        assert len(json.dumps(event.to_message())) < 256 * 1024
        restored = Event.from_message(json.loads(json.dumps(event.to_message())))
        post = PLATFORM.normalize(restored, channel)
        assert post.platform == "x"
        assert post.channel == "telco-x"
        assert post.post_id
        assert post.author.id
        assert post.created_at.endswith("Z")


def test_mention_reply_sample_normalises_to_one_tweet_post() -> None:
    body = mention_reply()
    channel = channel_for(body)
    event = one_event(body, channel)
    assert event.kind == "tweet"
    post = PLATFORM.normalize(event, channel)
    assert post.post_id == "1332557345071644672"
    assert post.key == "x#1332557345071644672"
    assert post.author == Author(id="1247048165561270272", handle="TanuLearns", name="Tanu Learns")
    assert post.text == "@Learn_Awesome Save this"
    assert post.mentions == ("learn_awesome",)
    assert post.created_at == "2020-11-28T05:30:03.440Z"
    assert post.in_reply_to_post_id == "1332252354599555074"
    assert post.in_reply_to_user_id == "1247048165561270272"
    assert post.conversation_id == "1332252354599555074"
    assert post.language_hint == "en"
    assert post.is_dm is False
    assert post.skip_reason is None
    assert post.is_quote is False
    assert post.by_brand is False
    assert post.addressed_to_brand is True


def test_mention_of_another_account_is_not_addressed_to_the_brand() -> None:
    body = mention_reply()
    body["for_user_id"] = "1"
    post = normalize_body(body, BRANDLESS)
    assert post.addressed_to_brand is False
    assert post.by_brand is False


def test_brand_handle_mention_addresses_the_brand_when_its_id_is_not_listed() -> None:
    channel = ChannelConfig(
        id="telco-x", platform="x", brand_handles=("learn_awesome",), brand_ids=("9",), secrets=X_SECRETS
    )
    body = mention_reply()
    body["for_user_id"] = "9"
    assert normalize_body(body, channel).addressed_to_brand is True


def test_created_at_falls_back_to_the_created_at_string() -> None:
    body = mention_reply()
    del body["tweet_create_events"][0]["timestamp_ms"]
    assert normalize_body(body).created_at == "2020-11-28T05:30:03.000Z"


def test_brand_mention_only_in_the_auto_populated_reply_prefix_is_not_addressing_the_brand() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    brand = copy.deepcopy(tweet["entities"]["user_mentions"][0])
    alice = {"screen_name": "alice", "name": "Alice", "id": 42, "id_str": "42", "indices": [0, 6]}
    brand["indices"] = [7, 21]
    tweet["text"] = "@alice @Learn_Awesome totally agree"
    tweet["display_text_range"] = [22, 35]
    tweet["entities"]["user_mentions"] = [alice, brand]
    tweet["in_reply_to_user_id"], tweet["in_reply_to_user_id_str"] = 42, "42"
    tweet["in_reply_to_screen_name"] = "alice"

    post = normalize_body(body)
    assert post.mentions == ("alice", "learn_awesome")
    assert post.addressed_to_brand is False

    tweet["text"] = "@alice @Learn_Awesome totally agree @Learn_Awesome"
    tweet["display_text_range"] = [22, 50]
    tweet["entities"]["user_mentions"].append({**brand, "indices": [36, 50]})
    assert normalize_body(body).addressed_to_brand is True


def test_reply_to_the_brand_addresses_it_even_when_the_mention_is_in_the_prefix() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    tweet["display_text_range"] = [15, 24]
    tweet["in_reply_to_user_id_str"] = body["for_user_id"]
    assert normalize_body(body).addressed_to_brand is True


def test_quote_of_a_brand_tweet_addresses_the_brand() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    tweet["entities"]["user_mentions"] = []
    tweet["in_reply_to_user_id_str"] = tweet["in_reply_to_screen_name"] = None
    assert normalize_body(body).addressed_to_brand is False
    tweet["is_quote_status"] = True
    tweet["quoted_status"] = {"id_str": "7", "text": "x", "user": {"id_str": body["for_user_id"]}}
    post = normalize_body(body)
    assert post.is_quote is True
    assert post.addressed_to_brand is True


def test_brand_own_tweet_is_by_brand() -> None:
    body = mention_reply()
    body["tweet_create_events"][0]["user"]["id_str"] = body["for_user_id"]
    assert normalize_body(body).by_brand is True


def test_truncated_tweet_uses_extended_full_text_and_its_entities() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    full = "@Learn_Awesome " + "my line has been down for three days " * 8
    tweet["truncated"] = True
    tweet["text"] = full[:139] + "\u2026"
    tweet["entities"]["user_mentions"] = []
    tweet["extended_tweet"] = {
        "full_text": full,
        "display_text_range": [0, len(full)],
        "entities": {
            "user_mentions": [{"screen_name": "Learn_Awesome", "id_str": body["for_user_id"], "indices": [0, 14]}]
        },
    }
    post = normalize_body(body)
    assert post.text == full
    assert post.mentions == ("learn_awesome",)
    assert post.addressed_to_brand is True


def test_retweet_is_flagged() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    tweet["retweeted_status"] = {"id_str": "99", "text": "original", "user": {"id_str": "5", "screen_name": "o"}}
    assert normalize_body(body).skip_reason == "a retweet carries no new customer text"


def test_language_und_gives_no_hint_and_integer_ids_become_strings() -> None:
    body = mention_reply()
    tweet = body["tweet_create_events"][0]
    tweet["lang"] = "und"
    del tweet["id_str"], tweet["user"]["id_str"], tweet["in_reply_to_status_id_str"]
    body["for_user_id"] = int(body["for_user_id"])
    body["user_has_blocked"] = "false"
    post = normalize_body(body)
    assert post.language_hint is None
    assert post.post_id == "1332557345071644672"
    assert post.author.id == "1247048165561270272"
    assert post.in_reply_to_post_id == "1332252354599555074"
    assert post.addressed_to_brand is True


def test_conversation_id_field_wins() -> None:
    body = mention_reply()
    body["tweet_create_events"][0]["conversation_id_str"] = "1332000000000000000"
    assert normalize_body(body).conversation_id == "1332000000000000000"


def test_inbound_dm_is_a_dm_to_the_brand() -> None:
    body = load_event(DM_INBOUND)
    channel = channel_for(body)
    event = one_event(body, channel)
    assert event.kind == "direct_message"
    post = PLATFORM.normalize(event, channel)
    assert post.is_dm is True
    assert post.post_id == "1140928844112814089"
    assert post.author == Author(id="767659860", handle="tumaaron", name="Aaron Tumukunde")
    assert post.text.startswith("Briefly what will you be talking about")
    assert post.created_at == "2019-06-18T10:26:48.526Z"
    assert post.conversation_id == "dm:3753944237-767659860"
    assert post.addressed_to_brand is True
    assert post.by_brand is False


def test_dm_sent_by_the_brand_is_an_echo() -> None:
    body = load_event(DM_BY_BOT)
    post = normalize_body(body)
    assert post.is_dm is True
    assert post.by_brand is True
    assert post.addressed_to_brand is False
    assert post.author.handle == "snowman"


def test_dm_sent_from_another_brand_account_is_by_brand() -> None:
    body = load_event(DM_INBOUND)
    channel = ChannelConfig(
        id="telco-x",
        platform="x",
        brand_handles=(),
        brand_ids=(str(body["for_user_id"]), "767659860"),
        secrets=X_SECRETS,
    )
    assert normalize_body(body, channel).by_brand is True


def test_other_dm_event_types_are_skipped() -> None:
    body = load_event(DM_INBOUND)
    other = {"type": "participants_join", "id": "5"}
    body["direct_message_events"] += [other, other]
    split = PLATFORM.split(body, channel_for(body), RECEIVED_AT)
    assert [e.kind for e in split.events] == ["direct_message"]
    assert len(split.skipped) == 1
    assert split.skipped[0].kind == "direct_message_events"
    assert split.skipped[0].count == 2
    assert split.skipped[0].reason.startswith("not acted on")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("docs_direct_message_indicate_typing_events.json", "direct_message_indicate_typing_events"),
        ("docs_tweet_delete_events.json", "tweet_delete_events"),
        ("docs_user_event_revoke.json", "user_event"),
    ],
)
def test_acknowledged_kinds_give_no_events_and_a_not_acted_on_skip(name: str, kind: str) -> None:
    split = PLATFORM.split(load_event(f"x/{name}"), BRANDLESS, RECEIVED_AT)
    assert split.events == []
    assert len(split.skipped) == 1
    assert split.skipped[0].kind == kind
    assert split.skipped[0].count == 1
    assert split.skipped[0].reason.startswith("not acted on: ")


def test_unknown_key_is_skipped_as_unknown_event_kind() -> None:
    body = {"for_user_id": "1", "users": {}, "apps": {}, "source": {}, "poll_vote_events": [{}, {}, {}]}
    split = PLATFORM.split(body, BRANDLESS, RECEIVED_AT)
    assert split.events == []
    assert [(s.kind, s.reason, s.count, s.known) for s in split.skipped] == [
        ("poll_vote_events", "unknown event kind", 3, False)
    ]


def test_empty_object_gives_nothing() -> None:
    split = PLATFORM.split({}, BRANDLESS, RECEIVED_AT)
    assert split.events == []
    assert split.skipped == []


@pytest.mark.parametrize("body", [[], "text", 3, None, [{"tweet_create_events": []}]])
def test_non_object_body_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedDelivery):
        PLATFORM.split(body, BRANDLESS, RECEIVED_AT)


@pytest.mark.parametrize("key", ["tweet_create_events", "direct_message_events"])
@pytest.mark.parametrize("value", [{"id_str": "1"}, "x", None])
def test_event_list_that_is_not_a_list_becomes_one_invalid_event(key: str, value: Any) -> None:
    split = PLATFORM.split({"for_user_id": "1", key: value}, BRANDLESS, RECEIVED_AT)
    [event] = split.events
    assert event.kind == INVALID_KIND
    assert event.payload["reason"] == f"{key} must be a list"
    assert event.payload["event"] == value
    with pytest.raises(MalformedEvent, match=f"rejected at intake: {key} must be a list"):
        PLATFORM.normalize(event, BRANDLESS)


def test_entry_that_is_not_an_object_is_invalid_and_its_siblings_go_on() -> None:
    body = mention_reply()
    body["tweet_create_events"].append("oops")
    split = PLATFORM.split(body, channel_for(body), RECEIVED_AT)
    assert [e.kind for e in split.events] == ["tweet", INVALID_KIND]
    assert split.events[1].payload["reason"] == "tweet_create_events[1] must be an object"
    assert split.events[1].payload["event"] == "oops"


def test_each_tweet_of_a_batch_becomes_its_own_event() -> None:
    body = mention_reply()
    second = copy.deepcopy(body["tweet_create_events"][0])
    second["id_str"] = "1332557345071644673"
    body["tweet_create_events"].append(second)
    body["favorite_events"] = [{"id": "f"}]
    split = PLATFORM.split(body, channel_for(body), RECEIVED_AT)
    assert [e.payload["event"]["id_str"] for e in split.events] == ["1332557345071644672", "1332557345071644673"]
    assert [(s.kind, s.reason) for s in split.skipped] == [("favorite_events", "not acted on: favorites")]


def test_split_payload_carries_only_the_users_the_event_references() -> None:
    body = load_event(DM_INBOUND)
    body["users"]["999"] = {"id": "999", "screen_name": "bystander"}
    event = one_event(body, channel_for(body))
    assert set(event.payload) == {"for_user_id", "event", "users"}
    assert event.payload["for_user_id"] == "3753944237"
    assert event.payload["event"] == body["direct_message_events"][0]
    assert set(event.payload["users"]) == {"767659860", "3753944237"}


def test_tweet_payload_has_no_unrelated_users() -> None:
    body = mention_reply()
    body["users"] = {"999": {"id": "999"}, "1247048165561270272": {"id": "1247048165561270272"}}
    event = one_event(body, channel_for(body))
    assert set(event.payload["users"]) == {"1247048165561270272"}


def test_normalize_without_user_is_a_malformed_event() -> None:
    body = mention_reply()
    event = one_event(body, channel_for(body))
    del event.payload["event"]["user"]
    with pytest.raises(MalformedEvent, match="user"):
        PLATFORM.normalize(event, channel_for(body))


@pytest.mark.parametrize(
    ("kind", "item", "match"),
    [
        ("tweet", {"user": {"id_str": "1"}}, "id"),
        ("tweet", {"id_str": "1", "user": {"screen_name": "a"}}, "user"),
        ("direct_message", {"type": "message_create", "message_create": {"sender_id": "1"}}, "id"),
        ("direct_message", {"type": "message_create", "id": "1", "message_create": {}}, "sender_id"),
        ("direct_message", {"type": "message_create", "id": "1"}, "message_create"),
        ("favorite", {"id": "1"}, "kind"),
    ],
)
def test_normalize_rejects_events_missing_required_fields(kind: str, item: dict[str, Any], match: str) -> None:
    payload = {"for_user_id": "1", "event": item}
    event = Event(channel="telco-x", platform="x", kind=kind, payload=payload, received_at=RECEIVED_AT)
    with pytest.raises(MalformedEvent, match=match):
        PLATFORM.normalize(event, BRANDLESS)


def test_normalize_without_event_object_is_malformed() -> None:
    event = Event(channel="telco-x", platform="x", kind="tweet", payload={}, received_at=RECEIVED_AT)
    with pytest.raises(MalformedEvent):
        PLATFORM.normalize(event, BRANDLESS)


@pytest.mark.parametrize("depth", [49, 500, 950])
def test_deeply_nested_entries_and_users_are_kept_as_json_text_in_invalid_events(depth: int) -> None:
    deep = "[" * depth + "]" * depth
    raw = (
        '{"for_user_id": "1", "tweet_create_events": ['
        f'{{"id_str": "5", "user": {{"id_str": "6"}}, "deep": {deep}}},'
        f'{{"id_str": "7", "user": {{"id_str": "8"}}}}], "users": {{"8": {deep}}}}}'
    )
    split = PLATFORM.split(json.loads(raw), BRANDLESS, RECEIVED_AT)
    assert [e.kind for e in split.events] == [INVALID_KIND, INVALID_KIND]
    assert "nested deeper than 48 levels" in split.events[0].payload["reason"]
    assert "users it names are nested deeper" in split.events[1].payload["reason"]
    deep_tweet, shallow_tweet = json.loads(raw)["tweet_create_events"]
    first, second = (json.loads(json.dumps(e.to_message()))["payload"] for e in split.events)  # as the queue does
    assert json.loads(first["event"]["json_text"]) == deep_tweet
    assert second["event"] == shallow_tweet
    assert json.loads(second["users"]["json_text"]) == {"8": json.loads(deep)}


@pytest.mark.parametrize("for_user_id", ["2", None, "", ["1"], 10**70])
def test_normalize_refuses_an_event_whose_for_user_id_is_not_the_brand(for_user_id: Any) -> None:
    """Events already on the queue (enqueued before intake checked) are parked too, never decided."""
    body = mention_reply()
    event = one_event(body, channel_for(body))
    event.payload["for_user_id"] = for_user_id
    with pytest.raises(MalformedEvent, match="for_user_id"):
        PLATFORM.normalize(event, channel_for(body))

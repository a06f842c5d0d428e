"""Every recorded sample of issue 12 parses into the right posts, or the right non-post record."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.channels import registry
from chalicelib.channels.base import INVALID_KIND, DeliveryReport, Split
from chalicelib.channels.config import ChannelConfig
from chalicelib.channels.errors import MalformedDelivery
from chalicelib.model import Event, Post
from tests.support import load_event

RECEIVED_AT = "2026-11-30T09:00:00.000Z"
PAGE = "1234567890321"


def channel(platform: str, ids: tuple[str, ...], handles: tuple[str, ...] = ()) -> ChannelConfig:
    return ChannelConfig(id=f"test-{platform}", platform=platform, brand_handles=handles, brand_ids=ids)


FACEBOOK = channel("facebook", (PAGE, "12345654332"))
INSTAGRAM = channel("instagram", ("0",), ("bayanitel",))
WHATSAPP = channel("whatsapp", ("106540352242922", "10634295353625", "REDACTED"))
DISCOURSE = channel("discourse", ("999",), ("bayanitel_team",))
TELEGRAM = channel("telegram", ("777",), ("bayanitel_bot",))
WEBHOOK = channel("webhook", ("brand",))


def split(ch: ChannelConfig, body: Any, headers: dict[str, str] | None = None) -> Split:
    return registry.get(ch.platform).split(body, ch, RECEIVED_AT, headers or {})


def outcomes(ch: ChannelConfig, body: Any, headers: dict[str, str] | None = None) -> list[Post | DeliveryReport]:
    platform = registry.get(ch.platform)
    found: list[Post | DeliveryReport] = []
    for event in split(ch, body, headers).events:
        assert event.kind != INVALID_KIND, event.payload
        found.append(
            platform.report(event, ch) if event.kind in platform.report_kinds else platform.normalize(event, ch)
        )
    return found


def one_post(ch: ChannelConfig, body: Any, headers: dict[str, str] | None = None) -> Post:
    [post] = outcomes(ch, body, headers)
    assert isinstance(post, Post)
    return post


def skipped(ch: ChannelConfig, body: Any, headers: dict[str, str] | None = None) -> dict[str, tuple[int, bool]]:
    result = split(ch, body, headers)
    assert result.events == []
    return {s.kind: (s.count, s.known) for s in result.skipped}


def sample(name: str) -> Any:
    return load_event(f"samples/{name}")


# -- Facebook Page ---------------------------------------------------------------------------------------


def customer_comment(comment_id: str = "901097836652708_903438993085259", parent: str | None = None) -> Any:
    body = sample("meta_page_feed_comment_add.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["from"] = {"id": "555", "name": "Maria Santos"}
    value["comment_id"] = comment_id
    if parent is not None:
        value["parent_id"] = parent
    return body


def test_the_pages_own_comment_is_recognised_as_the_brands() -> None:
    post = one_post(FACEBOOK, sample("meta_page_feed_comment_add.json"))
    assert post.by_brand is True
    assert post.post_id == "901097836652708_903438993085259"


def test_a_customer_comment_is_a_post_addressed_to_the_brand() -> None:
    post = one_post(FACEBOOK, customer_comment())
    assert (post.platform, post.author.id, post.author.name) == ("facebook", "555", "Maria Santos")
    assert post.text == "and the next one"
    assert post.created_at == "2015-12-03T09:30:03.000Z"
    assert post.by_brand is False and post.addressed_to_brand is True
    assert post.in_reply_to_post_id == "1234567890321_901097836652708"
    assert post.conversation_id == "fb:901097836652708_903438993085259"


def test_a_reply_joins_the_thread_of_its_top_level_comment() -> None:
    top = one_post(FACEBOOK, customer_comment())
    reply = one_post(FACEBOOK, customer_comment("901097836652708_999", parent=top.post_id))
    assert reply.conversation_id == top.conversation_id
    assert reply.in_reply_to_post_id == top.post_id


def test_a_visitor_post_is_a_post_and_the_pages_status_is_its_own() -> None:
    visitor = one_post(FACEBOOK, sample("meta_page_feed_post_add.json"))
    assert (visitor.author.id, visitor.text, visitor.by_brand) == ("8423678347823", "Let's check this", False)
    status = one_post(FACEBOOK, sample("meta_page_feed_status_add.json"))
    assert status.by_brand is True


def test_mentions_are_posts_and_share_the_key_of_the_same_comment_from_feed() -> None:
    mention = one_post(FACEBOOK, sample("meta_page_mention_comment_add.json"))
    assert mention.text == "Just a test message" and mention.addressed_to_brand is True
    feed = customer_comment("7363534231324_3754798971271444")
    assert one_post(FACEBOOK, feed).key == mention.key == "facebook#7363534231324_3754798971271444"
    post_mention = one_post(FACEBOOK, sample("meta_page_mention_post_add.json"))
    assert post_mention.post_id == "1234567890321_98722536423179"


def test_reactions_are_acknowledged_not_posts() -> None:
    assert skipped(FACEBOOK, sample("meta_page_feed_reaction_add.json")) == {"reaction": (1, True)}


def test_fields_carewire_does_not_know_are_counted_apart() -> None:
    assert skipped(FACEBOOK, sample("meta_page_batch_two_entries.json")) == {
        "field:parking": (1, False),
        "field:payment_options": (1, False),
    }
    assert skipped(FACEBOOK, sample("meta_graph_user_photos_docs.json")) == {"object:user": (1, False)}


def test_messenger_message_and_postback_are_dms() -> None:
    message = one_post(FACEBOOK, sample("meta_messenger_message_text.json"))
    assert (message.post_id, message.text, message.is_dm) == (
        "mid.1457764197618:41d102a3e1ae206a38",
        "hello, world!",
        True,
    )
    assert message.author.id == "987654321432" and message.conversation_id == "fb:dm:987654321432"
    postback = one_post(FACEBOOK, sample("meta_messenger_postback.json"))
    assert postback.text == "USER_DEFINED_PAYLOAD" and postback.conversation_id == message.conversation_id


def test_messenger_echoes_and_deliveries_are_acknowledged_not_posts() -> None:
    assert skipped(FACEBOOK, sample("meta_messenger_message_echo.json")) == {"message_echo": (1, True)}
    assert skipped(FACEBOOK, sample("meta_messenger_delivery.json")) == {"delivery": (1, True)}


def test_a_page_that_is_not_the_channels_is_parked_not_decided() -> None:
    other = channel("facebook", ("42",))
    [event] = split(other, customer_comment()).events
    assert event.kind == INVALID_KIND
    assert "not one of the brand_ids of channel test-facebook" in event.payload["reason"]


def test_one_malformed_change_is_invalid_and_its_siblings_go_on() -> None:
    body = customer_comment()
    good = body["entry"][0]["changes"][0]
    bad = copy.deepcopy(good)
    del bad["value"]["comment_id"]
    body["entry"][0]["changes"] = [good, bad, "not an object", good]
    events = split(FACEBOOK, body).events
    assert [e.kind for e in events] == ["feed", INVALID_KIND, INVALID_KIND, "feed"]
    assert events[1].payload["reason"] == "entry[0].changes[1]: comment has no comment_id"
    assert events[2].payload["reason"] == "entry[0].changes[2] must be an object"


@pytest.mark.parametrize("body", [[], {"object": "page", "entry": {}}, "text"])
def test_a_delivery_that_is_not_a_meta_envelope_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedDelivery):
        split(FACEBOOK, body)


def test_edits_and_removals_are_acknowledged() -> None:
    body = customer_comment()
    body["entry"][0]["changes"][0]["value"]["verb"] = "remove"
    assert skipped(FACEBOOK, body) == {"feed:remove": (1, True)}


# -- Instagram -------------------------------------------------------------------------------------------


def test_instagram_comment_and_mention() -> None:
    comment = one_post(INSTAGRAM, sample("meta_instagram_comments.json"))
    assert (comment.post_id, comment.author.handle, comment.text) == ("123456789", "testuser", "This is an example.")
    assert comment.conversation_id == "ig:987654321" and comment.addressed_to_brand
    mention = one_post(INSTAGRAM, sample("meta_instagram_mentions.json"))
    assert mention.post_id == "17887498072083520" and mention.addressed_to_brand


def test_instagram_comment_by_the_brand_handle_is_its_own() -> None:
    body = sample("meta_instagram_comments.json")
    body["entry"][0]["changes"][0]["value"]["from"]["username"] = "BayaniTel"
    assert one_post(INSTAGRAM, body).by_brand is True


def test_instagram_dms_arrive_as_messaging_like_messenger() -> None:
    body = sample("meta_messenger_message_text.json")
    body["object"] = "instagram"
    body["entry"][0]["id"] = "0"
    message = body["entry"][0]["messaging"][0]
    message["recipient"]["id"] = "0"
    message["message"] = {"mid": "aWdfZAG1", "attachments": [{"type": "story_mention", "payload": {"url": "u"}}]}
    post = one_post(INSTAGRAM, body)
    assert (post.platform, post.is_dm, post.text) == ("instagram", True, "[story_mention]")
    assert post.conversation_id == "ig:dm:987654321432"


# -- WhatsApp --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "author"),
    [
        ("meta_whatsapp_message_text_docs.json", "Does it come in another color?", "Sheena Nelson"),
        ("meta_whatsapp_message_text_restfb.json", "Test", "TestUser"),
        ("meta_whatsapp_message_button_reply.json", "button-text", "TestUser"),
    ],
)
def test_whatsapp_messages_are_dms(name: str, text: str, author: str) -> None:
    post = one_post(WHATSAPP, sample(name))
    assert (post.text, post.author.name, post.is_dm, post.addressed_to_brand) == (text, author, True, True)
    assert post.post_id.startswith("wamid.")
    assert post.author.id not in post.conversation_id  # the phone number stays out of conversation ids


def test_whatsapp_media_message_without_caption_is_still_seen() -> None:
    body = sample("meta_whatsapp_message_text_docs.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message.update(type="image", image={"id": "media-1", "mime_type": "image/jpeg"})
    assert one_post(WHATSAPP, body).text == "[image]"


@pytest.mark.parametrize(
    ("name", "status", "errors"),
    [
        ("meta_whatsapp_status_delivered.json", "delivered", ()),
        (
            "meta_whatsapp_status_failed.json",
            "failed",
            ({"code": 131026, "title": "Receiver is incapable of receiving this message"},),
        ),
    ],
)
def test_whatsapp_statuses_are_delivery_reports_not_posts(name: str, status: str, errors: tuple[Any, ...]) -> None:
    [report] = outcomes(WHATSAPP, sample(name))
    assert isinstance(report, DeliveryReport)
    assert (report.status, report.errors) == (status, errors)
    assert report.message_id.startswith("wamid.")


def test_whatsapp_reactions_and_unknown_types_are_acknowledged() -> None:
    body = sample("meta_whatsapp_message_text_docs.json")
    messages = body["entry"][0]["changes"][0]["value"]["messages"]
    messages[0] = {"from": "1", "id": "wamid.r", "type": "reaction", "reaction": {"emoji": "x"}}
    messages.append({"from": "1", "id": "wamid.n", "type": "hologram"})
    assert skipped(WHATSAPP, body) == {"reaction": (1, True), "message:hologram": (1, False)}


# -- Discourse -------------------------------------------------------------------------------------------


def test_discourse_post_created_is_a_post_keyed_on_post_and_event() -> None:
    post = one_post(DISCOURSE, sample("discourse_post_created_body.json"), {"X-Discourse-Event": "post_created"})
    assert (post.post_id, post.conversation_id, post.author.handle) == ("10/1", "discourse:test-discourse:10", "user1")
    assert post.text.startswith("阿里云-计算")  # the topic title leads the first post
    assert post.key == "discourse#test-discourse#12#post_created"
    assert post.addressed_to_brand and not post.by_brand


def test_a_retry_with_a_new_event_id_has_the_same_key() -> None:
    body = sample("discourse_post_created_body.json")
    first = one_post(DISCOURSE, body, {"X-Discourse-Event": "post_created", "X-Discourse-Event-Id": "47"})
    again = one_post(DISCOURSE, body, {"X-Discourse-Event": "post_created", "X-Discourse-Event-Id": "48"})
    assert first.key == again.key


def test_discourse_topic_created_is_recognised_and_left_to_its_first_post() -> None:
    post = one_post(DISCOURSE, sample("discourse_topic_created_body.json"), {"X-Discourse-Event": "topic_created"})
    assert post.conversation_id == "discourse:test-discourse:8" and post.skip_reason


def test_discourse_staff_posts_are_the_brands_and_pings_are_acknowledged() -> None:
    body = sample("discourse_post_created_body.json")
    body["post"]["username"] = "bayanitel_team"
    assert one_post(DISCOURSE, body, {"X-Discourse-Event": "post_created"}).by_brand is True
    assert skipped(DISCOURSE, sample("discourse_ping_body.json"), {"X-Discourse-Event": "ping"}) == {"ping": (1, True)}
    assert skipped(DISCOURSE, body, {"X-Discourse-Event": "user_created"}) == {"user_created": (1, False)}


# -- Telegram --------------------------------------------------------------------------------------------


def test_telegram_message_is_a_dm_in_a_private_chat() -> None:
    post = one_post(TELEGRAM, sample("telegram_update_message_text.json"))
    assert (post.post_id, post.conversation_id, post.text) == ("1111111:1365", "tg:test-telegram:1111111", "/start")
    assert (post.author.handle, post.is_dm, post.addressed_to_brand) == ("Testusername", True, True)
    assert post.key == "telegram#test-telegram#1111111:1365"


def test_telegram_edits_and_unknown_updates_are_acknowledged() -> None:
    body = sample("telegram_update_message_text.json")
    body["edited_message"] = body.pop("message")
    assert skipped(TELEGRAM, body) == {"edited_message": (1, True)}
    assert skipped(TELEGRAM, {"update_id": 1, "hologram": {}}) == {"hologram": (1, False)}


# -- Standard Webhooks -----------------------------------------------------------------------------------

GENERIC = {
    "type": "post.created",
    "timestamp": "2026-11-30T08:59:00Z",
    "data": {
        "id": "review-77",
        "text": "App keeps crashing after the update",
        "author": {"id": "u-9", "handle": "rev9", "name": "Rev Nine"},
        "source": "appstore",
    },
}


def test_a_generic_post_in_the_documented_shape() -> None:
    post = one_post(WEBHOOK, GENERIC)
    assert (post.post_id, post.text, post.author.handle) == ("review-77", GENERIC["data"]["text"], "rev9")  # type: ignore[index]
    assert post.created_at == "2026-11-30T08:59:00.000Z" and post.key == "webhook#test-webhook#review-77"


def test_the_spec_examples_are_acknowledged_as_unknown_types() -> None:
    assert skipped(WEBHOOK, sample("standardwebhooks_spec_example_payload.json")) == {
        "type:contact.created": (1, False)
    }
    assert skipped(WEBHOOK, sample("standardwebhooks_testvector_payload.json")) == {"type:?": (1, False)}


def test_a_generic_post_outside_the_schema_is_parked_with_the_field_named() -> None:
    body = copy.deepcopy(GENERIC)
    del body["data"]["author"]  # type: ignore[attr-defined]
    [event] = split(WEBHOOK, body).events
    assert event.kind == INVALID_KIND
    assert event.payload["reason"] == "post: data: 'author' is a required property"


def test_every_invalid_event_is_parked_by_normalize_with_its_reason() -> None:
    for name in registry.names():
        platform = registry.get(name)
        event = Event("c", name, INVALID_KIND, {"reason": "why"}, RECEIVED_AT)
        with pytest.raises(ValueError, match="rejected at intake: why"):
            platform.normalize(event, channel(name, ("1",)))


def test_a_generic_post_with_a_blank_id_is_parked_and_threads_are_scoped_to_the_channel() -> None:
    blank = copy.deepcopy(GENERIC)
    blank["data"]["id"] = "   "  # type: ignore[index]
    [event] = split(WEBHOOK, blank).events
    assert event.kind == INVALID_KIND and "data/id" in event.payload["reason"]
    threaded = copy.deepcopy(GENERIC)
    threaded["data"]["conversation_id"] = "thread-1"  # type: ignore[index]
    assert one_post(WEBHOOK, threaded).conversation_id == "test-webhook:thread-1"

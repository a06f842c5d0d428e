"""The one outbox builder: ids from what an item answers, lanes, refusals; platform text rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.actions import ACTIONS, ActContext
from chalicelib.clock import iso
from chalicelib.delivery.text import window_rule, x_length
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.outbox import OutboxItem, OutboxRejected, outbox_item
from chalicelib.policy.loader import load_policy
from tests.conftest import POLICIES

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _reply(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "agent_reply",
        "key": ("esc-1", "x#9", "On it"),
        "channel": "x-care",
        "platform": "x",
        "created_at": "2026-11-23T09:00:00.000Z",
        "text": "On it",
        "in_reply_to_post_id": "9",
        "conversation_id": "9",
    }
    values.update(overrides)
    return outbox_item(**values)


def test_the_id_derives_from_what_the_item_answers_never_random() -> None:
    first, again = _reply(), _reply(created_at="2026-11-23T09:05:00.000Z")
    assert first["reply_id"] == again["reply_id"]
    assert _reply(text="Other words", key=("esc-1", "x#9", "Other words"))["reply_id"] != first["reply_id"]
    assert (first["status"], first["lane"], first["visibility"], first["attempts"]) == (
        "pending",
        "x-care#9",
        "public",
        0,
    )


def test_every_writer_builds_through_it_a_decision_reply_and_its_dm_share_one_id() -> None:
    policy = load_policy(POLICIES)
    post = Post("x", "x-care", "9", "9", Author("7", "maria"), "thanks!", "2026-11-23T08:59:00.000Z")
    classification = Classification("praise", Sentiment("positive", 0.8), False, True, "en")
    ctx = ActContext(post, classification, "thank-praise", policy, NOW)
    template = next(iter(policy.templates["en"]))
    public = ACTIONS["reply"].effects({"template": template}, ctx)[0].item
    private = ACTIONS["reply"].effects({"template": template, "private": True}, ctx)[0].item
    assert public is not None and private is not None
    assert public["reply_id"] == private["reply_id"]
    assert (public["kind"], private["kind"], private["recipient_id"]) == ("reply", "dm", "7")
    assert OutboxItem.from_doc(public).customer_at == post.created_at


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "shout"}, "kind"),
        ({"key": ()}, "key"),
        ({"in_reply_to_post_id": ""}, "in_reply_to_post_id"),
        ({"text": "  "}, "text"),
        ({"text": "call me on 0917 123 4567"}, "text"),
        ({"kind": "dm", "conversation_id": "", "recipient_id": ""}, "recipient_id"),
        ({"colour": "red"}, "context"),
    ],
)
def test_it_refuses_what_cannot_be_sent(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(OutboxRejected) as refused:
        _reply(**overrides)
    assert refused.value.field == field


def test_a_links_digits_are_not_personal_data() -> None:
    item = _reply(text="Fixed: https://status.bayanitel.example/incidents/20261123/0917123456")
    assert item["visibility"] == "public"


def test_the_brands_own_hotline_may_go_out_in_public_but_a_customers_number_never() -> None:
    from chalicelib.publishing import ContentRules

    brand = ContentRules("bayanitel", contacts=("(02) 8888-1234", "care@bayanitel.example"))
    ok = _reply(text="Call our hotline (02) 8888-1234 or care@bayanitel.example", contacts=brand)
    assert ok["visibility"] == "public"
    for text in ("Call our hotline (02) 8888-1234", "we will call you on 0917 123 4567", "0917\u200b123\u200b4567"):
        with pytest.raises(OutboxRejected) as refused:
            _reply(text=text, contacts=None if "8888" in text else brand)
        assert refused.value.field == "text"


def test_personal_data_may_go_privately() -> None:
    item = _reply(text="call me on 0917 123 4567", private=True, recipient_id="7")
    assert (item["visibility"], item["private"]) == ("private", True)


def test_x_counts_urls_as_23_and_wide_characters_as_2() -> None:
    url = "https://status.bayanitel.example/incidents/2026-11-23/qc-mobile-data?utm_source=x"
    assert x_length("see " + url) == 4 + 23
    assert x_length("a" * 280) == 280
    assert x_length("日本") == 4
    assert x_length("é") == 1


def test_x_replies_are_cut_as_x_counts() -> None:
    from chalicelib.delivery.text import fit

    assert fit("see https://example.com/" + "a" * 400, "x", 280) == "see https://example.com/" + "a" * 400
    cut = fit("日" * 200, "x", 280)
    assert cut.endswith("…") and x_length(cut) <= 280 and x_length(cut) >= 278


def test_meta_windows_hold_tag_or_template() -> None:
    fresh, stale, week_old = (iso(NOW - timedelta(hours=h)) for h in (2, 30, 24 * 8))
    assert window_rule("x", True, False, stale, None, NOW).mode == "send"
    assert window_rule("facebook", True, False, fresh, None, NOW).mode == "send"
    assert window_rule("facebook", False, False, stale, None, NOW).mode == "send"  # public comments: no window
    assert window_rule("facebook", True, True, stale, None, NOW).mode == "tag"
    assert window_rule("instagram", True, True, week_old, None, NOW).mode == "hold"
    held = window_rule("facebook", True, False, stale, None, NOW)
    assert held.mode == "hold" and "24-hour" in held.reason
    assert window_rule("whatsapp", True, True, stale, "service_update", NOW).mode == "template"
    assert window_rule("whatsapp", True, True, stale, None, NOW).mode == "hold"

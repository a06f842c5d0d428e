"""Masking that knows whose data it is: the operator's own hotline in a template or a notice goes out as
written; the customer's data in a substituted value never does (issue 13). Through the actions' effects,
the code production runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.actions import ACTIONS, ActContext, Effect
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.policy.loader import load_policy
from chalicelib.policy.model import Policy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOTLINE = "+63 2 8888 1234"
EMAIL = "care@bayanitel.example"


def _post(name: str) -> Post:
    return Post("x", "x-care", "9", "9", Author("1", "maria_qc", name), "no signal", "2026-11-23T09:00:00.000Z")


def _classification() -> Classification:
    return Classification("outage", Sentiment("negative", -0.6), False, True, "en")


def _policy_with_hotline(policy_dir: Path) -> Policy:
    path = policy_dir / "templates" / "en.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "Thank you $name, that's great to hear!",
        f"Thank you $name, that's great to hear! Call {HOTLINE} or email {EMAIL} any time.",
    )
    path.write_text(text, encoding="utf-8")
    return load_policy(policy_dir)


def _items(effects: list[Effect]) -> list[dict[str, Any]]:
    return [e.item for e in effects if e.item is not None]


def test_the_operators_hotline_in_a_template_is_kept_while_the_customers_number_is_masked(policy_dir: Path) -> None:
    policy = _policy_with_hotline(policy_dir)
    ctx = ActContext(_post("0917-123-4567 Maria"), _classification(), "thanks", policy, NOW)
    [reply] = _items(ACTIONS["reply"].effects({"template": "thanks"}, ctx))
    assert reply["text"].startswith("Thank you [phone], that's great to hear!")
    assert f"Call {HOTLINE} or email {EMAIL} any time." in reply["text"]
    assert "0917" not in reply["text"]


def _notice(body: str) -> dict[str, Any]:
    return {
        "id": "outage-qc",
        "version": 3,
        "title": "Mobile data outage in Quezon City",
        "body": body,
        "link": "https://bayanitel.example/advisories/qc",
    }


def test_a_notice_reply_keeps_the_operators_hotline_and_masks_any_other_number() -> None:
    from tests.conftest import POLICIES

    policy = load_policy(POLICIES)
    notice = _notice(f"Call {HOTLINE} for updates; a customer wrote 0917 555 1234.")
    ctx = ActContext(_post("Maria"), _classification(), "outage-with-notice", policy, NOW, notice)
    reply, citation = _items(ACTIONS["notice"].effects({}, ctx))
    assert reply["text"] == (
        f"Mobile data outage in Quezon City: Call {HOTLINE} for updates; a customer wrote [phone]. "
        "https://bayanitel.example/advisories/qc"
    )
    assert (reply["notice_id"], reply["notice_version"], reply["template"]) == ("outage-qc", 3, "notice")
    assert (citation["notice_id"], citation["notice_version"], citation["post_key"]) == ("outage-qc", 3, "x#9")


def test_a_notice_reply_through_a_template_masks_the_customer_not_the_operator() -> None:
    from tests.conftest import POLICIES

    policy = load_policy(POLICIES)
    notice = _notice(f"Call {HOTLINE}.")
    ctx = ActContext(_post("Maria"), _classification(), "outage-with-notice", policy, NOW, notice)
    reply, _ = _items(ACTIONS["notice"].effects({"template": "outage_notice"}, ctx))
    assert reply["text"] == (
        f"Sorry for the trouble. Mobile data outage in Quezon City — Call {HOTLINE}. "
        "https://bayanitel.example/advisories/qc"
    )
    assert reply["template"] == "outage_notice"


def test_hide_queues_a_hide_for_the_post() -> None:
    from tests.conftest import POLICIES

    ctx = ActContext(_post("Maria"), _classification(), "spam", load_policy(POLICIES), NOW)
    [effect] = ACTIONS["hide"].effects({"reason": "spam"}, ctx)
    assert effect.table == "outbox"
    assert effect.item is not None
    assert {k: effect.item[k] for k in ("kind", "status", "in_reply_to_post_id", "reason", "rule")} == {
        "kind": "hide",
        "status": "pending",
        "in_reply_to_post_id": "9",
        "reason": "spam",
        "rule": "spam",
    }


def test_tag_and_ignore_write_nothing_of_their_own() -> None:
    from tests.conftest import POLICIES

    ctx = ActContext(_post("Maria"), _classification(), "r", load_policy(POLICIES), NOW)
    assert ACTIONS["tag"].effects({"tags": ["vip"]}, ctx) == []
    assert ACTIONS["ignore"].effects({}, ctx) == []


def test_a_follow_up_and_an_announcement_keep_the_brands_hotline_and_mask_anything_else() -> None:
    from chalicelib.notices.items import announcement_item, follow_up_reply
    from chalicelib.publishing import ContentRules
    from tests.support import live_notice

    notice = live_notice(
        id="outage-qc",
        title={"en": "Mobile data outage"},
        body={"en": f"Updates on {HOTLINE}; not on 0917 555 1234."},
        version=4,
        link="https://bayanitel.example/qc",
        follow_up={"en": f"Service is back. Call {HOTLINE} if it is not."},
    )
    brand = ContentRules("bayanitel", contacts=(HOTLINE, EMAIL))
    citation = {"platform": "x", "channel": "x-care", "post_id": "9", "conversation_id": "9", "language": "en"}
    follow_up = follow_up_reply(notice, citation, NOW, brand)
    assert follow_up["text"] == f"Service is back. Call {HOTLINE} if it is not. https://bayanitel.example/qc"
    post = announcement_item(notice, "x-care", "x", NOW, brand)
    assert post["text"] == (f"Mobile data outage: Updates on {HOTLINE}; not on [phone]. https://bayanitel.example/qc")

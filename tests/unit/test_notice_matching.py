"""Matching posts to live notices, rendering the reply, and the citation item: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.delivery.text import x_length
from chalicelib.model import Author, Classification, Notice, Post, Sentiment
from chalicelib.notices.items import citation_item, notice_pk
from chalicelib.notices.matching import NoticeMatch, context_notices, match_notices
from chalicelib.notices.render import render_follow_up
from chalicelib.reply_text import notice_reply_text

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _notice(notice_id: str = "outage-qc", **overrides: Any) -> Notice:
    values: dict[str, Any] = {
        "id": notice_id,
        "kind": "outage",
        "title": {"en": "Mobile data outage in Quezon City", "tl": "May aberya sa mobile data sa Quezon City"},
        "body": {
            "en": "A fibre cut affects mobile data. Back by 6 PM.",
            "tl": "May naputol na fiber. Babalik bago 6 PM.",
        },
        "link": "https://bayanitel.example/advisories/qc",
        "services": ("mobile_data",),
        "regions": ("Quezon City",),
        "keywords": ("no signal",),
        "starts_at": "2026-11-23T06:00:00.000Z",
        "ends_at": "2026-11-23T18:00:00.000Z",
        "status": "active",
        "version": 3,
        "author": "local:marketer",
        "created_at": "2026-11-23T05:00:00.000Z",
        "updated_at": "2026-11-23T06:00:00.000Z",
        "follow_up": {"en": "Service is restored in Quezon City."},
    }
    values.update(overrides)
    return Notice(**values)


def _post(text: str = "@bayanitelcares help", channel: str = "x-care", platform: str = "x", **kw: Any) -> Post:
    return Post(
        platform=platform,
        channel=channel,
        post_id=kw.pop("post_id", "2001"),
        conversation_id=kw.pop("conversation_id", "2001"),
        author=Author("42", "maria_qc", "Maria Santos"),
        text=text,
        created_at="2026-11-23T09:29:00.000Z",
        **kw,
    )


def _classification(
    services: tuple[str, ...] = (), regions: tuple[str, ...] = (), topic: str = "outage", language: str = "en"
) -> Classification:
    return Classification(
        topic=topic,
        sentiment=Sentiment("negative", -0.5),
        churn_risk=False,
        addressed_to_brand=True,
        language=language,
        services=services,
        regions=regions,
    )


def _ids(notices: list[Notice], post: Post, classification: Classification, now: datetime = NOW) -> list[str]:
    return [m.notice.id for m in match_notices(notices, post, classification, now)]


def test_matches_by_region_and_excludes_another_region() -> None:
    qc, cebu = _notice("outage-qc"), _notice("outage-cebu", regions=("Cebu",))
    assert _ids([qc, cebu], _post(), _classification(regions=("Quezon City",))) == ["outage-qc"]
    assert _ids([qc, cebu], _post(), _classification(regions=("Cebu",))) == ["outage-cebu"]


def test_matches_by_service_and_excludes_another_service() -> None:
    data, fiber = _notice("data"), _notice("fiber", services=("fiber",), regions=())
    assert _ids([data, fiber], _post(), _classification(services=("fiber",))) == ["fiber"]
    assert _ids([data, fiber], _post(), _classification(services=("mobile_data",))) == ["data"]


def test_matches_by_keyword_alone_including_hashtags() -> None:
    notice = _notice(services=(), regions=(), keywords=("no signal", "#bayanidown"))
    assert _ids([notice], _post("@bayanitelcares NO SIGNAL here"), _classification()) == [notice.id]
    assert _ids([notice], _post("@bayanitelcares what is going on #BayaniDown"), _classification()) == [notice.id]
    assert _ids([notice], _post("@bayanitelcares signal is fine, no worries"), _classification()) == []


def test_nothing_positive_means_no_match() -> None:
    assert _ids([_notice()], _post("@bayanitelcares hello"), _classification()) == []


def test_time_window_and_status() -> None:
    notice = _notice()
    post, classification = _post(), _classification(regions=("Quezon City",))
    assert _ids([notice], post, classification, datetime(2026, 11, 23, 5, 59, tzinfo=UTC)) == []
    assert _ids([notice], post, classification, datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == [notice.id]
    assert _ids([notice], post, classification, datetime(2026, 11, 23, 18, 0, tzinfo=UTC)) == []
    assert _ids([replace(notice, ends_at=None)], post, classification, datetime(2027, 1, 1, tzinfo=UTC)) == [notice.id]
    assert _ids([replace(notice, status="scheduled")], post, classification) == [notice.id]  # started: live
    for status in ("draft", "resolved", "expired"):
        assert _ids([replace(notice, status=status)], post, classification) == [], status


def test_channel_restriction() -> None:
    notice = _notice(channels=("x-care",))
    classification = _classification(regions=("Quezon City",))
    assert _ids([notice], _post(channel="x-care"), classification) == [notice.id]
    assert _ids([notice], _post(channel="x-sales"), classification) == []


def test_best_first_by_score_then_most_recent() -> None:
    region_only = _notice("region-only", services=("fiber",), keywords=())
    both = _notice("both")
    newer = _notice("newer", starts_at="2026-11-23T08:00:00.000Z")
    classification = _classification(services=(), regions=("Quezon City",))
    post = _post("@bayanitelcares no signal in QC")
    matches = match_notices([region_only, both, newer], post, classification, NOW)
    assert [m.notice.id for m in matches] == ["newer", "both", "region-only"]
    assert "region Quezon City" in matches[0].reasons
    assert "keyword 'no signal'" in matches[0].reasons
    assert matches[0].score > matches[2].score


def render_notice_reply(notice: Notice, post: Post, classification: Classification) -> str:
    """What production does: the notice as the engine's context gives it, worded by the `notice` action's
    text function."""
    [doc] = context_notices([NoticeMatch(notice, 1, ())], classification.language)
    return notice_reply_text(doc, post.platform)


def test_reply_in_post_language_with_fallback_and_link() -> None:
    notice = _notice()
    tagalog = render_notice_reply(notice, _post(), _classification(language="tl"))
    assert tagalog.startswith("May aberya sa mobile data sa Quezon City: May naputol")
    assert tagalog.endswith(" https://bayanitel.example/advisories/qc")
    spanish = render_notice_reply(notice, _post(), _classification(language="es"))
    assert spanish.startswith("Mobile data outage in Quezon City: A fibre cut")


def test_reply_fits_the_platform_limit_and_keeps_the_link_whole() -> None:
    notice = _notice(body={"en": "word " * 200})
    text = render_notice_reply(notice, _post(), _classification())
    assert x_length(text) == 280  # as X counts: the link is 23 whatever its length
    assert text.endswith("… https://bayanitel.example/advisories/qc")
    unlimited = render_notice_reply(notice, _post(platform="web"), _classification())
    assert len(unlimited) > 280


def test_reply_masks_personal_data() -> None:
    notice = _notice(body={"en": "Questions? maria@example.com"})
    assert "[email]" in render_notice_reply(notice, _post(), _classification())


def test_follow_up_in_language_with_fallback() -> None:
    notice = _notice(follow_up={"en": "Service is restored.", "tl": "Naibalik na ang serbisyo."})
    assert render_follow_up(notice, "tl", "x").startswith("Naibalik na ang serbisyo.")
    assert render_follow_up(notice, "es", "x").startswith("Service is restored.")


def test_citation_item_names_notice_version_and_post_without_text() -> None:
    post = _post("@bayanitelcares no signal at 09171234567", post_id="2005", conversation_id="1999", is_dm=True)
    item = citation_item("outage-qc", 3, post, _classification(language="tl"), NOW)
    assert item["pk"] == notice_pk("outage-qc")
    assert item["sk"] == "cited#x#2005"
    assert (item["notice_id"], item["notice_version"]) == ("outage-qc", 3)
    assert (item["conversation_id"], item["is_dm"], item["language"]) == ("1999", True, "tl")
    assert item["cited_at"] == "2026-11-23T09:30:00.000Z"
    assert "status" not in item and "starts_at" not in item  # stays out of the by_status index
    assert not any("0917" in str(v) or "maria" in str(v) for v in item.values())


def test_context_document_entries() -> None:
    matches = match_notices([_notice()], _post(), _classification(regions=("Quezon City",), language="tl"), NOW)
    [doc] = context_notices(matches, "tl")
    assert doc["id"] == "outage-qc"
    assert doc["version"] == 3
    assert doc["language"] == "tl"
    assert doc["title"] == "May aberya sa mobile data sa Quezon City"
    assert doc["link"] == "https://bayanitel.example/advisories/qc"
    assert doc["matched"] == ["region Quezon City", "topic outage"]


@pytest.mark.parametrize("status", ["draft", "resolved", "expired"])
def test_context_never_offers_a_notice_that_is_not_live(status: str) -> None:
    matches = match_notices([_notice(status=status)], _post(), _classification(regions=("Quezon City",)), NOW)
    assert context_notices(matches, "en") == []

"""Notices on DynamoDB Local: scheduled start and expiry (the schedule handler), live notices for matching,
and the "service restored" follow-up after resolution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.model import Author, Classification, Notice, Post, Sentiment
from chalicelib.notices.items import citation_item
from chalicelib.notices.matching import match_notices
from chalicelib.notices.service import Notices
from chalicelib.runtime import Runtime
from chalicelib.store.dynamo import to_item
from tests.conftest import FixedClock

MARKETER = "local:marketer"
FIELDS: dict[str, Any] = {
    "kind": "outage",
    "title": {"en": "Mobile data outage in Quezon City", "tl": "May aberya sa mobile data sa Quezon City"},
    "body": {"en": "A fibre cut affects mobile data.", "tl": "May naputol na fiber."},
    "link": "https://bayanitel.example/advisories/qc",
    "services": ["mobile_data"],
    "regions": ["Quezon City"],
    "starts_at": "2026-11-23T06:00:00Z",
    "ends_at": "2026-11-23T18:00:00Z",
    "follow_up": {"en": "Service is restored in Quezon City.", "tl": "Naibalik na ang serbisyo sa Quezon City."},
}


def _clock(runtime: Runtime) -> FixedClock:
    assert isinstance(runtime.clock, FixedClock)
    return runtime.clock


def _published(service: Notices, notice_id: str, **overrides: Any) -> Notice:
    draft = service.create({**FIELDS, "id": notice_id, **overrides}, MARKETER)
    return service.publish(notice_id, draft.version, MARKETER)


def _post(post_id: str, conversation_id: str, is_dm: bool = False) -> Post:
    return Post(
        platform="x",
        channel="x-care",
        post_id=post_id,
        conversation_id=conversation_id,
        author=Author("42", "maria_qc"),
        text="@bayanitelcares no signal in Cubao",
        created_at="2026-11-23T09:00:00.000Z",
        is_dm=is_dm,
    )


def _classification(language: str = "en") -> Classification:
    return Classification(
        topic="outage",
        sentiment=Sentiment("negative", -0.5),
        churn_risk=False,
        addressed_to_brand=True,
        language=language,
        regions=("Quezon City",),
        services=("mobile_data",),
    )


def _cite(runtime: Runtime, notice: Notice, post: Post, language: str = "en", at: int = 9) -> None:
    """What the `notice` action writes in the decision's transaction (one Put of the citation item)."""
    item = citation_item(
        notice.id, notice.version, post, _classification(language), datetime(2026, 11, 23, at, tzinfo=UTC)
    )
    runtime.dynamodb.put_item(TableName=runtime.settings.table("notices"), Item=to_item(item))


def _follow_ups(runtime: Runtime) -> list[dict[str, Any]]:
    return sorted(
        (o for o in runtime.store.outbox() if o.get("kind") == "notice_follow_up"), key=lambda o: o["conversation_id"]
    )


def test_schedule_starts_and_expires_notices(ddb_runtime: Runtime) -> None:
    service = ddb_runtime.notices
    clock = _clock(ddb_runtime)
    later = _published(service, "maint-later", kind="maintenance", starts_at="2026-11-23T12:00:00Z")
    assert later.status == "scheduled"
    _published(service, "outage-now")
    assert [n.id for n in service.live()] == ["outage-now"]  # not started: not offered for matching

    clock.moment = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with Client(app) as client:
        event = client.events.generate_cw_event("aws.events", "Scheduled Event", {}, [])
        result = client.lambda_.invoke("expire_notices", event)
    assert result.payload == {"activated": ["maint-later"], "expired": [], "skipped": []}
    assert service.get("maint-later").status == "active"
    assert service.get("maint-later").history[-1]["by"] == "schedule"

    clock.moment = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert sorted(service.sweep().expired) == ["maint-later", "outage-now"]
    assert [n.status for n in service.find()] == ["expired", "expired"]
    assert service.live() == []
    assert service.sweep().to_doc() == {"activated": [], "expired": [], "skipped": []}


def test_live_notices_feed_matching_and_stop_when_resolved(ddb_runtime: Runtime) -> None:
    service = ddb_runtime.notices
    notice = _published(service, "outage-qc")
    _published(service, "outage-cebu", regions=["Cebu"])
    service.create({**FIELDS, "id": "draft-qc"}, MARKETER)
    now = _clock(ddb_runtime)()
    matches = match_notices(service.live(), _post("1", "1"), _classification(), now)
    assert [m.notice.id for m in matches] == ["outage-qc"]
    [doc] = service.for_post(_post("1", "1"), _classification("tl"), now)
    assert (doc["id"], doc["version"], doc["title"]) == ("outage-qc", 2, "May aberya sa mobile data sa Quezon City")
    service.resolve("outage-qc", notice.version, MARKETER)
    assert service.for_post(_post("1", "1"), _classification(), now) == []


def test_resolution_follows_up_once_per_conversation_in_its_language(ddb_runtime: Runtime) -> None:
    service = ddb_runtime.notices
    notice = _published(service, "outage-qc")
    _cite(ddb_runtime, notice, _post("101", "c1"), "tl", at=8)
    _cite(ddb_runtime, notice, _post("102", "c1"), "tl", at=9)  # the same conversation, later
    _cite(ddb_runtime, notice, _post("201", "c2", is_dm=True), "es")
    _clock(ddb_runtime).moment = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

    resolution = service.resolve("outage-qc", notice.version, MARKETER)
    assert resolution.follow_ups == 2
    first, second = _follow_ups(ddb_runtime)
    assert (first["conversation_id"], first["in_reply_to_post_id"], first["private"]) == ("c1", "102", False)
    assert first["text"].startswith("Naibalik na ang serbisyo sa Quezon City.")
    assert first["status"] == "pending"
    assert (first["notice_id"], first["notice_version"]) == ("outage-qc", resolution.notice.version)
    assert (second["conversation_id"], second["private"]) == ("c2", True)
    assert second["text"].startswith("Service is restored in Quezon City.")  # no Spanish text: the notice's own
    assert first["created_at"] == "2026-11-23T14:00:00.000Z"

    assert service.follow_up(resolution.notice) == 0  # never twice
    assert len(_follow_ups(ddb_runtime)) == 2


def test_a_conversation_gets_one_follow_up_even_across_notices(ddb_runtime: Runtime) -> None:
    service = ddb_runtime.notices
    data = _published(service, "outage-data")
    voice = _published(service, "outage-voice", services=["voice"])
    _cite(ddb_runtime, data, _post("101", "c1"))
    _cite(ddb_runtime, voice, _post("102", "c1"))
    assert service.resolve("outage-data", data.version, MARKETER).follow_ups == 1
    assert service.resolve("outage-voice", voice.version, MARKETER).follow_ups == 0
    assert len(_follow_ups(ddb_runtime)) == 1


@pytest.mark.parametrize("follow_up", [None, {}])
def test_no_follow_up_without_one_in_the_notice(ddb_runtime: Runtime, follow_up: Any) -> None:
    service = ddb_runtime.notices
    notice = _published(service, "outage-qc", follow_up=follow_up)
    _cite(ddb_runtime, notice, _post("101", "c1"))
    assert service.resolve("outage-qc", notice.version, MARKETER).follow_ups == 0
    assert _follow_ups(ddb_runtime) == []


def test_expiring_sends_no_follow_up(ddb_runtime: Runtime) -> None:
    service = ddb_runtime.notices
    notice = _published(service, "outage-qc")
    _cite(ddb_runtime, notice, _post("101", "c1"))
    expired = service.expire("outage-qc", notice.version, MARKETER)
    assert service.follow_up(expired) == 0
    assert _follow_ups(ddb_runtime) == []

"""The notices API through chalice.test.Client on DynamoDB Local: auth, validation, 404, 409, the life cycle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.auth import local_tokens
from chalicelib.notices.errors import StaleVersion
from chalicelib.runtime import Runtime

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")

OUTAGE: dict[str, Any] = {
    "id": "outage-qc",
    "kind": "outage",
    "title": {"en": "Mobile data outage in Quezon City", "tl": "May aberya sa mobile data sa Quezon City"},
    "body": {"en": "A fibre cut affects mobile data. Back by 6 PM.", "tl": "May naputol na fiber. Babalik bago 6 PM."},
    "link": "https://bayanitel.example/advisories/qc",
    "services": ["mobile data"],
    "regions": ["qc"],
    "keywords": ["no signal"],
    "announce_on": ["x-care"],
    "starts_at": "2026-11-23T06:00:00Z",
    "ends_at": "2026-11-23T18:00:00Z",
    "follow_up": {"en": "Service is restored in Quezon City."},
}


class Api:
    def __init__(self, client: Client, tokens: dict[str, str]) -> None:
        self._client = client
        self._tokens = tokens

    def call(self, method: str, path: str, body: Any = None, role: str | None = "marketer") -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if role is not None:
            headers["Authorization"] = f"Bearer {self._tokens[role]}"
        payload = None if body is None else json.dumps(body)
        response = getattr(self._client.http, method)(path, headers=headers, body=payload)
        return response.status_code, response.json_body


@pytest.fixture
def api(ddb_runtime: Runtime) -> Iterator[Api]:
    with Client(app) as client:
        yield Api(client, local_tokens(ddb_runtime.settings))


def test_unauthenticated_is_401_and_wrong_role_403(api: Api) -> None:
    assert api.call("get", "/notices", role=None)[0] == 401
    assert api.call("post", "/notices", OUTAGE, role=None)[0] == 401
    status, body = api.call("post", "/notices", OUTAGE, role="agent")
    assert (status, body["error"]) == (403, "forbidden")
    assert api.call("get", "/notices/outage-qc", role="agent")[0] == 403
    assert api.call("get", "/notices", role="marketer")[0] == 200
    assert api.call("get", "/notices", role="admin")[0] == 200


def test_create_records_author_and_history(api: Api) -> None:
    status, body = api.call("post", "/notices", OUTAGE)
    assert status == 201, body
    notice = body["notice"]
    assert (notice["id"], notice["status"], notice["version"]) == ("outage-qc", "draft", 1)
    assert notice["author"] == "local:marketer"
    assert notice["services"] == ["mobile_data"]
    assert notice["regions"] == ["Quezon City"]
    assert [(h["version"], h["action"], h["by"]) for h in notice["history"]] == [(1, "created", "local:marketer")]
    assert api.call("post", "/notices", OUTAGE)[1]["error"] == "notice_exists"


def test_validation_is_400_with_field_and_reason(api: Api) -> None:
    status, body = api.call("post", "/notices", {**OUTAGE, "regions": ["Atlantis"], "starts_at": "2026-11-23T06:00"})
    assert status == 400
    assert body["error"] == "invalid_notice"
    reasons = {e["field"]: e["reason"] for e in body["errors"]}
    assert reasons["regions[0]"].startswith("unknown region 'Atlantis'")
    assert reasons["starts_at"].startswith("needs a timezone")
    api.call("post", "/notices", OUTAGE)
    status, body = api.call("post", "/notices/outage-qc/publish", {})
    assert status == 400
    assert body["errors"][0]["field"] == "version"
    assert api.call("patch", "/notices/outage-qc", {"version": 1, "ends_at": "2026-11-23T01:00:00Z"})[0] == 400
    assert api.call("get", "/notices?status=open")[0] == 400


def test_unknown_notice_is_404(api: Api) -> None:
    status, body = api.call("get", "/notices/nope")
    assert (status, body["error"]) == (404, "not_found")
    assert api.call("post", "/notices/nope/publish", {"version": 1})[0] == 404


def test_stale_version_is_409_and_nothing_is_overwritten(api: Api) -> None:
    api.call("post", "/notices", OUTAGE)
    first = api.call("patch", "/notices/outage-qc", {"version": 1, "title": {"en": "Outage in QC", "tl": "Aberya"}})
    assert first[0] == 200
    assert first[1]["notice"]["version"] == 2
    status, body = api.call("patch", "/notices/outage-qc", {"version": 1, "title": {"en": "Overwrite", "tl": "X"}})
    assert (status, body["error"]) == (409, "stale_version")
    assert api.call("post", "/notices/outage-qc/publish", {"version": 1})[0] == 409
    notice = api.call("get", "/notices/outage-qc")[1]["notice"]
    assert notice["title"]["en"] == "Outage in QC"
    assert [h["fields"] for h in notice["history"]][-1] == ["title"]


def test_the_dynamodb_condition_refuses_a_writer_who_read_before_another_wrote(ddb_runtime: Runtime, api: Api) -> None:
    """The read-time check can pass for both marketers; the conditional write still lets only one win."""
    api.call("post", "/notices", OUTAGE)
    service = ddb_runtime.notices
    store = service._store
    read_by_both = service.get("outage-qc")
    service.update("outage-qc", {"keywords": ["walang signal"]}, 1, "local:marketer")
    with pytest.raises(StaleVersion):
        store.replace(read_by_both, expected_version=1)
    assert service.get("outage-qc").keywords == ("walang signal",)


def test_publish_list_resolve(api: Api, ddb_runtime: Runtime) -> None:
    api.call("post", "/notices", OUTAGE)
    status, body = api.call("post", "/notices/outage-qc/publish", {"version": 1})
    assert status == 200, body
    assert (body["notice"]["status"], body["notice"]["version"]) == ("active", 2)
    [post] = [o for o in ddb_runtime.store.outbox() if o.get("kind") == "brand_post"]
    assert (post["channel"], post["status"], post["notice_id"]) == ("x-care", "pending", "outage-qc")
    assert post["text"].endswith("https://bayanitel.example/advisories/qc")
    assert [n["id"] for n in api.call("get", "/notices?status=active")[1]["notices"]] == ["outage-qc"]
    assert api.call("get", "/notices?status=draft")[1]["notices"] == []
    assert api.call("post", "/notices/outage-qc/publish", {"version": 2})[1]["error"] == "invalid_transition"
    status, body = api.call("post", "/notices/outage-qc/resolve", {"version": 2})
    assert status == 200, body
    assert body["notice"]["status"] == "resolved"
    assert body["notice"]["resolved_at"] == "2026-11-23T09:30:00.000Z"
    assert body["follow_ups"] == 0
    assert [h["action"] for h in body["notice"]["history"]] == ["created", "published", "resolved"]
    status, body = api.call("patch", "/notices/outage-qc", {"version": 3, "keywords": ["down"]})
    assert (status, body["error"]) == (409, "invalid_transition")


def test_a_draft_cannot_be_resolved_but_can_be_expired(api: Api) -> None:
    api.call("post", "/notices", OUTAGE)
    assert api.call("post", "/notices/outage-qc/resolve", {"version": 1})[1]["error"] == "invalid_transition"
    status, body = api.call("post", "/notices/outage-qc/expire", {"version": 1})
    assert (status, body["notice"]["status"]) == (200, "expired")

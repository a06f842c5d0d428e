"""The agent API through chalice.test.Client, on DynamoDB Local: auth, validation, conflicts, the happy path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.auth import local_tokens
from chalicelib.runtime import Runtime
from tests.integration.test_escalation_queue import seed

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")


def _headers(rt: Runtime, role: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if role:
        headers["Authorization"] = f"Bearer {local_tokens(rt.settings)[role]}"
    return headers


def _post(client: Client, rt: Runtime, path: str, role: str | None = "agent", body: Any = None) -> Any:
    return client.http.post(path, headers=_headers(rt, role), body=json.dumps(body if body is not None else {}))


def _get(client: Client, rt: Runtime, path: str, role: str | None = "agent") -> Any:
    return client.http.get(path, headers=_headers(rt, role))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/agent/queues/network"),
        ("post", "/agent/queues/network/claim"),
        ("get", "/agent/escalations/esc-1"),
        ("post", "/agent/escalations/esc-1/resolve"),
        ("get", "/agent/stats"),
    ],
)
def test_unauthenticated_401_wrong_role_403(ddb_runtime: Runtime, method: str, path: str) -> None:
    with Client(app) as client:
        call = getattr(client.http, method)
        assert call(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert call(path, headers={}).status_code == 401
        response = call(path, headers=_headers(ddb_runtime, "marketer"))
        assert response.status_code == 403
        assert response.json_body["error"] == "forbidden"


def test_claim_work_and_resolve(ddb_runtime: Runtime) -> None:
    eid = seed(ddb_runtime, "1", priority=2)["escalation_id"]
    with Client(app) as client:
        listed = _get(client, ddb_runtime, "/agent/queues/network")
        assert [e["escalation_id"] for e in listed.json_body["escalations"]] == [eid]
        claimed = _post(client, ddb_runtime, "/agent/queues/network/claim")
        assert claimed.status_code == 200
        assert (claimed.json_body["escalation"]["escalation_id"], claimed.json_body["escalation"]["agent"]) == (
            eid,
            "local:agent",
        )
        assert _post(client, ddb_runtime, "/agent/queues/network/claim").status_code == 204
        assert _get(client, ddb_runtime, "/agent/mine").json_body["escalations"][0]["escalation_id"] == eid
        assert _post(client, ddb_runtime, f"/agent/escalations/{eid}/renew").status_code == 200
        note = _post(client, ddb_runtime, f"/agent/escalations/{eid}/notes", body={"text": "checking the NOC"})
        assert note.json_body["escalation"]["notes"][-1]["by"] == "local:agent"
        reply = _post(client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": "On it, Maria."})
        assert reply.status_code == 201
        assert reply.json_body["reply"]["author"] == "local:agent"
        assert [o["reply_id"] for o in ddb_runtime.store.outbox()] == [reply.json_body["reply"]["reply_id"]]
        done = _post(client, ddb_runtime, f"/agent/escalations/{eid}/resolve", body={"outcome": "answered"})
        assert done.status_code == 200
        assert done.json_body["escalation"]["status"] == "resolved"
        stats = _get(client, ddb_runtime, "/agent/stats").json_body
        waiting = {"resolved": 1, "met": 0, "awaiting_delivery": 1, "compliance": None}
        assert stats["sla"]["by_queue"]["network"] == waiting  # queued, not delivered: no first response yet
        reply_id = reply.json_body["reply"]["reply_id"]
        ddb_runtime.escalations.mark_answered(eid, reply_id, "1869", ddb_runtime.clock())  # the sender's hook
        stats = _get(client, ddb_runtime, "/agent/stats").json_body
        met = {"resolved": 1, "met": 1, "awaiting_delivery": 0, "compliance": 1.0}
        assert stats["sla"]["by_queue"]["network"] == met
        assert _get(client, ddb_runtime, f"/agent/escalations/{eid}").json_body["escalation"]["outcome"] == "answered"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agent/escalations/{eid}/resolve", {}, "outcome"),
        ("/agent/escalations/{eid}/resolve", {"outcome": "vanished"}, "outcome"),
        ("/agent/escalations/{eid}/transfer", {"queue": "nowhere"}, "queue"),
        ("/agent/escalations/{eid}/transfer", {"queue": 3}, "queue"),
        ("/agent/escalations/{eid}/notes", {"text": "   "}, "text"),
        ("/agent/escalations/{eid}/reply", {"text": "hi", "private": "yes"}, "private"),
        ("/agent/escalations/{eid}/reply", {"text": "call 0917 123 4567"}, "text"),
        ("/agent/queues/nowhere/claim", {}, "queue"),
    ],
)
def test_bad_input_is_400_naming_the_field(ddb_runtime: Runtime, path: str, body: Any, field: str) -> None:
    eid = seed(ddb_runtime, "1")["escalation_id"]
    ddb_runtime.escalations.claim_next("network", "local:agent", ddb_runtime.clock())
    with Client(app) as client:
        response = _post(client, ddb_runtime, path.format(eid=eid), body=body)
    assert response.status_code == 400, response.json_body
    assert response.json_body["field"] == field


def test_bad_query_parameters_are_400(ddb_runtime: Runtime) -> None:
    with Client(app) as client:
        assert _get(client, ddb_runtime, "/agent/queues/network?status=gone").json_body["field"] == "status"
        assert _get(client, ddb_runtime, "/agent/queues/network?limit=many").json_body["field"] == "limit"
        assert _get(client, ddb_runtime, "/agent/stats?days=0").status_code == 400


def test_unknown_id_404_and_someone_elses_item_409(ddb_runtime: Runtime) -> None:
    eid = seed(ddb_runtime, "1")["escalation_id"]
    ddb_runtime.escalations.claim_next("network", "CarewireAgents/other", ddb_runtime.clock())
    with Client(app) as client:
        assert _get(client, ddb_runtime, "/agent/escalations/esc-missing").status_code == 404
        assert _post(client, ddb_runtime, "/agent/escalations/esc-missing/renew").status_code == 404
        for path, body in [
            (f"/agent/escalations/{eid}/renew", {}),
            (f"/agent/escalations/{eid}/resolve", {"outcome": "answered"}),
            (f"/agent/escalations/{eid}/reply", {"text": "hello"}),
            (f"/agent/escalations/{eid}/transfer", {"queue": "care"}),
        ]:
            response = _post(client, ddb_runtime, path, body=body)
            assert response.status_code == 409, path
            assert response.json_body["error"] == "conflict"
        # a supervisor may take over
        response = _post(client, ddb_runtime, f"/agent/escalations/{eid}/transfer", "supervisor", {"queue": "care"})
        assert response.status_code == 200
        assert response.json_body["escalation"]["queue"] == "care"


DISGUISED = [
    "call me back on 0917\u200b123\u200b4567",  # zero-width spaces
    "call me back on 0917\u2060123\u20604567",  # word joiners
    "call me back on \uff10\uff19\uff11\uff17\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # full-width digits
    "call me back on 0917\ufeff-123-\ufeff4567",  # byte-order marks around the dashes
    "mail maria\u200b.santos@gmail\u200b.com",
]


@pytest.mark.parametrize(
    "text",
    [
        *DISGUISED,
        "fixed! see https://bayanitel-promo.example/win",
        "<b>fixed</b>",
        "@a @b @c please retweet",
    ],
)
def test_a_public_agent_reply_must_be_publishable(ddb_runtime: Runtime, text: str) -> None:
    eid = seed(ddb_runtime, "1")["escalation_id"]
    ddb_runtime.escalations.claim_next("network", "local:agent", ddb_runtime.clock())
    with Client(app) as client:
        response = _post(client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": text})
    assert response.status_code == 400, response.json_body
    assert response.json_body["message"].startswith("text: not publishable in a public reply")
    assert ddb_runtime.store.outbox() == []


def test_the_operators_own_hotline_and_site_may_go_out_in_public(ddb_runtime: Runtime) -> None:
    eid = seed(ddb_runtime, "1")["escalation_id"]
    ddb_runtime.escalations.claim_next("network", "local:agent", ddb_runtime.clock())
    text = "Sorry Maria! Call our hotline (02) 8888-1234 or see https://bayanitel.example/status"
    with Client(app) as client:
        public = _post(client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": text})
        private = _post(
            client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": DISGUISED[0], "private": True}
        )
    assert (public.status_code, private.status_code) == (201, 201)
    assert len(ddb_runtime.store.outbox()) == 2

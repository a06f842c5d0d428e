"""No input gives a 5xx on the agent and notices APIs (issue 9, finding 5): random ids, oversized ids,
deeply nested and unparseable bodies, through chalice.test.Client on DynamoDB Local."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.api.http import MAX_BODY_DEPTH, MAX_PATH_PARAM_BYTES
from chalicelib.auth import local_tokens
from chalicelib.runtime import Runtime

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")

ROUTES: list[tuple[str, str, str]] = [
    ("get", "/agent/escalations/{id}", "agent"),
    ("post", "/agent/escalations/{id}/renew", "agent"),
    ("post", "/agent/escalations/{id}/requeue", "agent"),
    ("post", "/agent/escalations/{id}/resolve", "agent"),
    ("post", "/agent/escalations/{id}/transfer", "agent"),
    ("post", "/agent/escalations/{id}/notes", "agent"),
    ("post", "/agent/escalations/{id}/reply", "agent"),
    ("get", "/agent/queues/{id}", "agent"),
    ("post", "/agent/queues/{id}/claim", "agent"),
    ("get", "/notices/{id}", "marketer"),
    ("patch", "/notices/{id}", "marketer"),
    ("post", "/notices/{id}/publish", "marketer"),
    ("post", "/notices/{id}/resolve", "marketer"),
    ("post", "/notices/{id}/expire", "marketer"),
]
COLLECTIONS = [("post", "/notices", "marketer"), ("get", "/notices", "marketer"), ("get", "/agent/stats", "agent")]

ids = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(min_size=MAX_PATH_PARAM_BYTES, max_size=3000),
    st.sampled_from(["esc-1", "outage-qc", "network", "x" * 2049, "é" * 1100]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
field_bodies = st.fixed_dictionaries(
    {},
    optional={
        "version": json_values | st.integers(min_value=1, max_value=3),
        "text": json_values,
        "outcome": json_values,
        "queue": json_values,
        "note": json_values,
        "private": json_values,
        "title": json_values,
    },
)
bodies = st.one_of(
    field_bodies.map(json.dumps),
    json_values.map(json.dumps),
    st.integers(min_value=MAX_BODY_DEPTH, max_value=5000).map(lambda d: '{"text": ' + "[" * d + "]" * d + "}"),
    st.just('{"version": ' + "9" * 5000 + "}"),
    st.text(max_size=60),
)


def _headers(rt: Runtime, role: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {local_tokens(rt.settings)[role]}"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES + COLLECTIONS), path_id=ids, body=bodies)
def test_no_input_gives_a_5xx(ddb_runtime: Runtime, route: tuple[str, str, str], path_id: str, body: str) -> None:
    method, template, role = route
    path = template.replace("{id}", quote(path_id, safe=""))
    with Client(app) as client:
        response: Any = getattr(client.http, method)(path, headers=_headers(ddb_runtime, role), body=body)
    assert response.status_code < 500, (path[:80], body[:80], response.body[:300])


def test_ids_over_the_limit_are_400_on_every_route(ddb_runtime: Runtime) -> None:
    with Client(app) as client:
        for method, template, role in ROUTES:
            path = template.replace("{id}", "x" * 2049)
            response = getattr(client.http, method)(path, headers=_headers(ddb_runtime, role), body="{}")
            assert response.status_code == 400, path[:40]
            assert response.json_body["error"] == "bad_request"
            assert response.json_body["field"] in {"escalation_id", "notice_id", "queue"}
            assert "longer than 256 bytes" in response.json_body["message"]


READS_BODY = [r for r in ROUTES if r[0] != "get" and not r[1].endswith(("/renew", "/requeue", "/claim"))]


@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"text": ' + "[" * 40 + "]" * 40 + "}"])
def test_deeply_nested_bodies_are_400_on_every_route_that_reads_one(ddb_runtime: Runtime, body: str) -> None:
    with Client(app) as client:
        for method, template, role in [*READS_BODY, COLLECTIONS[0]]:
            path = template.replace("{id}", "esc-1")
            response = getattr(client.http, method)(path, headers=_headers(ddb_runtime, role), body=body)
            assert response.status_code == 400, path
            assert "nested deeper" in json.dumps(response.json_body)

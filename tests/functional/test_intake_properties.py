"""Property tests (issue 9, finding 5): mutated real X deliveries, correctly signed, never give a 5xx, and
every acted-on entry of an accepted delivery is kept — as an event to decide or one to park."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib.channels.base import INVALID_KIND
from chalicelib.channels.errors import MalformedEvent
from chalicelib.channels.x import PLATFORM
from chalicelib.runtime import Runtime
from tests.conftest import BRAND_ID, X_SECRET
from tests.support import FIXTURES, json_paths, replace_at, x_headers

PATH = "/webhooks/x-care"
HUGE_INT = "__huge_int__"
TOO_DEEP = "__too_deep__"
SAMPLES = {p.name: json.loads(p.read_bytes()) for p in sorted((FIXTURES / "x").glob("*.json"))}
ACTED_ON = ("tweet_create_events", "direct_message_events")

for _sample in SAMPLES.values():  # the samples were captured for other accounts; make them this channel's
    if "for_user_id" in _sample:
        _sample["for_user_id"] = BRAND_ID

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
replacements = st.one_of(
    json_values,
    st.text(min_size=2049, max_size=2100),  # an id over 2 KB
    st.integers(min_value=10**30, max_value=10**40),
    st.one_of(st.integers(min_value=1, max_value=950), st.sampled_from([49, 300, 600, 900])).map(
        lambda depth: json.loads("[" * depth + "]" * depth)
    ),
    st.sampled_from([HUGE_INT, TOO_DEEP]),
)


@st.composite
def mutated_deliveries(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [path for path, _node in json_paths(doc)]
        path = paths[draw(st.integers(min_value=0, max_value=len(paths) - 1))]
        doc = replace_at(doc, path, draw(replacements))
    raw = json.dumps(doc)
    raw = raw.replace(json.dumps(HUGE_INT), "9" * 5000).replace(json.dumps(TOO_DEEP), "[" * 3000 + "]" * 3000)
    return raw.encode()


def _entries(doc: Any) -> int:
    """Acted-on entries in a delivery that intake must keep (DM events other than message_create are skipped)."""
    count = 0
    for key in ACTED_ON:
        value = doc.get(key)
        if key not in doc:
            continue
        if not isinstance(value, list):
            count += 1
            continue
        count += sum(
            1
            for entry in value
            if key != "direct_message_events" or not isinstance(entry, dict) or entry.get("type") == "message_create"
        )
    return count


@pytest.fixture
def client(route_runtime: Runtime) -> Iterator[Client]:
    with Client(app, stage_name="local") as test_client:
        yield test_client


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=mutated_deliveries())
def test_signed_mutated_deliveries_never_5xx_and_nothing_is_dropped(
    client: Client, route_runtime: Runtime, body: bytes
) -> None:
    queue = route_runtime.queue.events  # type: ignore[attr-defined]
    queue.clear()
    response = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body)
    assert response.status_code < 500, response.body
    if response.status_code != 200:
        assert response.status_code == 400
        assert response.json_body["error"] == "malformed_body"
        return
    doc = json.loads(body)
    assert len(queue) == _entries(doc) == response.json_body["accepted"]
    channel = route_runtime.channels["x-care"]
    for event in queue:
        json.dumps(event.to_message())  # every kept event fits on the queue
        if event.kind == INVALID_KIND:
            assert event.payload["reason"]
            with pytest.raises(MalformedEvent):
                PLATFORM.normalize(event, channel)
        else:
            assert PLATFORM.normalize(event, channel).post_id
    assert response.json_body["invalid"] == sum(e.kind == INVALID_KIND for e in queue)

"""Issue 9 findings 5 and 8 end to end on DynamoDB Local: a bad event is parked with its reason while its
siblings are decided, and a delivery not for the channel's brand is parked, never decided."""

from __future__ import annotations

import json

from chalice.test import Client

from app import app
from chalicelib.runtime import Runtime
from tests.conftest import X_SECRET
from tests.support import mention_delivery, x_headers

PATH = "/webhooks/x-care"
OUTAGE = "@bayanitelcares no signal in Quezon City since 6am, please fix this"


def _post(client: Client, doc: dict[str, object]) -> int:
    body = json.dumps(doc).encode()
    status: int = client.http.post(PATH, headers=x_headers(body, X_SECRET), body=body).status_code
    return status


def test_bad_event_is_parked_and_its_sibling_decided(ddb_runtime: Runtime) -> None:
    doc = json.loads(mention_delivery("3001", OUTAGE))
    doc["tweet_create_events"].insert(0, {"id_str": "3000", "user": {"id_str": {"unhashable": ["id"]}}})
    with Client(app, stage_name="local") as client:
        assert _post(client, doc) == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    assert ddb_runtime.store.decision("x#3001") is not None
    [parked] = ddb_runtime.store.parked()
    assert "rejected at intake: tweet_create_events[0]: tweet user has no id_str" in parked["reason"]
    assert json.loads(parked["message"])["payload"]["event"]["id_str"] == "3000"


def test_delivery_for_another_account_is_parked_not_decided(ddb_runtime: Runtime) -> None:
    doc = json.loads(mention_delivery("3002", OUTAGE))
    doc["for_user_id"] = "42"  # the author's own id: own-post detection must not be steered by the sender
    with Client(app, stage_name="local") as client:
        assert _post(client, doc) == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    assert ddb_runtime.store.decision("x#3002") is None
    assert ddb_runtime.store.decisions() == []
    [parked] = ddb_runtime.store.parked()
    assert "for_user_id is not one of the brand_ids of channel x-care" in parked["reason"]

"""Issue 12 on DynamoDB Local: a 1,000-change Meta delivery with one malformed change ends as 999 decided
posts and one parked item; the same delivery again adds no decision."""

from __future__ import annotations

import json
from datetime import datetime

from chalice.test import Client

from app import app
from chalicelib.channels import registry
from chalicelib.runtime import Runtime

PAGE = "104857600000001"
TOPICS = ("no signal since 6am", "billing charged twice", "data very slow", "cannot top up load", "sim not working")


def comment(n: int, at: datetime) -> dict[str, object]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": f"{PAGE}_9000_{n}",
            "post_id": f"{PAGE}_9000",
            "parent_id": f"{PAGE}_9000",
            "from": {"id": str(50_000 + n), "name": f"Customer {n}"},
            "created_time": int(at.timestamp()) - 60,
            "message": f"{TOPICS[n % len(TOPICS)]} in area {n}",
        },
    }


def delivery(at: datetime) -> bytes:
    changes = [comment(n, at) for n in range(1000)]
    del changes[500]["value"]["comment_id"]  # type: ignore[attr-defined]
    entries = [{"id": PAGE, "time": int(at.timestamp()), "changes": changes[i : i + 100]} for i in range(0, 1000, 100)]
    return json.dumps({"object": "page", "entry": entries}).encode()


def test_a_thousand_changes_with_one_malformed_and_a_redelivery(ddb_runtime: Runtime) -> None:
    channel = ddb_runtime.channels["fb-page"]
    secret = ddb_runtime.secrets.resolve(channel)
    assert secret
    body = delivery(ddb_runtime.clock())
    headers = {"Content-Type": "application/json", **registry.get("facebook").sign(body, secret)}
    with Client(app, stage_name="local") as client:
        response = client.http.post("/webhooks/fb-page", headers=headers, body=body)
        assert response.status_code == 200
        assert response.json_body == {"accepted": 1000, "skipped": {}, "invalid": 1}
        ddb_runtime.queue.join()  # type: ignore[attr-defined]
        decided = ddb_runtime.store.decisions(limit=2000)
        assert len(decided) == 999
        [parked] = ddb_runtime.store.parked()
        assert "entry[5].changes[0]: comment has no comment_id" in parked["reason"]

        again = client.http.post("/webhooks/fb-page", headers=headers, body=body)
        assert again.status_code == 200
        ddb_runtime.queue.join()  # type: ignore[attr-defined]
    assert len(ddb_runtime.store.decisions(limit=2000)) == 999
    assert {d["post_key"] for d in ddb_runtime.store.decisions(limit=2000)} == {
        f"facebook#{PAGE}_9000_{n}" for n in range(1000) if n != 500
    }

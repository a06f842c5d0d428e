"""Personal data at rest on DynamoDB Local: retention stamps and `carewire forget`."""

from __future__ import annotations

from datetime import timedelta

from chalice.test import Client
from click.testing import CliRunner

from app import app
from chalicelib.clock import parse
from chalicelib.privacy import Forgetter, idempotency_record_id
from chalicelib.runtime import Runtime
from tests.conftest import X_SECRET
from tests.support import mention_delivery, x_headers

OUTAGE = "@bayanitelcares no signal in Quezon City since 6am, call me on 0917 555 1234"
OTHER = "@bayanitelcares no signal in Makati since noon, please fix this"
BILL = "@bayanitelcares why is my bill 3000 this month?? I want a refund"


def _deliver(runtime: Runtime, *bodies: bytes) -> None:
    with Client(app, stage_name="local") as client:
        for body in bodies:
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    runtime.queue.join()  # type: ignore[attr-defined]


def _items(runtime: Runtime, logical: str) -> list[dict]:  # type: ignore[type-arg]
    from chalicelib.store.dynamo import from_item

    pages = runtime.dynamodb.get_paginator("scan").paginate(TableName=runtime.settings.table(logical))
    return [from_item(i) for page in pages for i in page.get("Items", [])]


def test_rows_with_personal_data_carry_their_retention_expiry(ddb_runtime: Runtime) -> None:
    _deliver(ddb_runtime, mention_delivery("3001", OUTAGE))
    decision = ddb_runtime.store.decision("x#3001")
    assert decision is not None
    assert decision["expires_at"] == int((parse(decision["decided_at"]) + timedelta(days=90)).timestamp())
    [escalation] = [e for e in _items(ddb_runtime, "escalations") if "post" in e]
    assert escalation["expires_at"] == int((parse(escalation["created_at"]) + timedelta(days=365)).timestamp())
    [reply] = _items(ddb_runtime, "outbox")
    assert reply["expires_at"] == int((parse(reply["created_at"]) + timedelta(days=30)).timestamp())
    ddb_runtime.store.park({"event": "x"}, "test", ddb_runtime.clock())
    [parked] = _items(ddb_runtime, "parked")
    assert parked["expires_at"] == int((ddb_runtime.clock() + timedelta(days=30)).timestamp())


def test_tables_with_personal_data_expire_rows_by_ttl(ddb_runtime: Runtime) -> None:
    for logical in ("decisions", "escalations", "outbox", "parked"):
        got = ddb_runtime.dynamodb.describe_time_to_live(TableName=ddb_runtime.settings.table(logical))
        assert got["TimeToLiveDescription"]["AttributeName"] == "expires_at", logical


def test_forget_erases_one_customer_and_leaves_the_others(ddb_runtime: Runtime) -> None:
    _deliver(
        ddb_runtime,
        mention_delivery("3101", OUTAGE, author_id="77", handle="forget_me"),
        mention_delivery("3102", BILL, author_id="77", handle="forget_me"),
        mention_delivery("3103", OTHER, author_id="88", handle="keep_me"),
    )
    ddb_runtime.store.park({"event": {"user": {"id_str": "77"}}}, "test", ddb_runtime.clock())
    ddb_runtime.store.park({"event": {"user": {"id_str": "770"}}}, "test", ddb_runtime.clock())
    ids = {i["id"] for i in _items(ddb_runtime, "idempotency")}
    assert idempotency_record_id("x#3101") in ids  # the same id Powertools wrote

    report = Forgetter(ddb_runtime.dynamodb, ddb_runtime.settings, ddb_runtime.clock()).forget("77", "x").to_doc()

    assert report["redacted"]["decisions"] == 2
    assert report["deleted"]["idempotency"] == 2
    assert report["deleted"]["parked"] == 1
    assert report["deleted"].get("activity", 0) >= 1
    for key in ("x#3101", "x#3102"):
        decision = ddb_runtime.store.decision(key)
        assert decision is not None
        assert decision["post"] == {"text": "[forgotten]"} and "forgotten_at" in decision
        assert decision["action"]  # the audit skeleton stays
    kept = ddb_runtime.store.decision("x#3103")
    assert kept is not None and kept["post"]["author"]["handle"] == "keep_me"
    dump = _items(ddb_runtime, "decisions") + _items(ddb_runtime, "escalations") + _items(ddb_runtime, "outbox")
    for row in dump:
        assert "forget_me" not in repr(row) and "0917 555 1234" not in repr(row), row
    assert "keep_me" in repr(dump)
    remaining = {i["id"] for i in _items(ddb_runtime, "idempotency")}
    assert remaining == {idempotency_record_id("x#3103")}
    assert [p["message"] for p in _items(ddb_runtime, "parked")] == ['{"event": {"user": {"id_str": "770"}}}']
    assert not [a for a in _items(ddb_runtime, "activity") if a["pk"] == "author#x#77"]
    assert [a for a in _items(ddb_runtime, "activity") if a["pk"] == "author#x#88"]


def test_forget_by_handle_from_the_cli_prints_counts_not_data(stack: Runtime) -> None:
    from chalicelib.cli import cli

    _deliver(stack, mention_delivery("3201", OUTAGE, author_id="99", handle="gone_soon"))
    refused = CliRunner().invoke(cli, ["forget", "@gone_soon"], input="n\n")
    assert refused.exit_code == 1 and stack.store.decision("x#3201")["post"]["author"]["id"] == "99"  # type: ignore[index]
    result = CliRunner().invoke(cli, ["forget", "@gone_soon", "--yes"])
    assert result.exit_code == 0, result.output
    assert "forgot @gone_soon" in result.output and "decisions" in result.output
    assert "0917" not in result.output
    decision = stack.store.decision("x#3201")
    assert decision is not None and decision["post"] == {"text": "[forgotten]"}


def test_decisions_page_through_the_channel_index_without_skipping_ties(ddb_runtime: Runtime) -> None:
    # the fixed clock gives every decision the same time: pages must still neither skip nor repeat
    _deliver(ddb_runtime, *(mention_delivery(str(3300 + n), f"@bayanitelcares hello {n}") for n in range(7)))
    seen: list[str] = []
    before = None
    for _ in range(10):
        page = ddb_runtime.store.decisions(3, channels=list(ddb_runtime.channels), before=before)
        seen += [d["post_key"] for d in page]
        if len(page) < 3:
            break
        before = f"{page[-1]['decided_at']},{page[-1]['post_key']}"
    assert sorted(seen) == sorted(f"x#{3300 + n}" for n in range(7))
    assert len(seen) == len(set(seen))
    assert ddb_runtime.store.decisions(10, channels=["no-such-channel"]) == []

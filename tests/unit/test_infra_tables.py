"""The table definitions every environment shares come from infra/resources.yaml."""

from __future__ import annotations

from chalicelib.settings import TABLES, Settings
from chalicelib.store.dynamo import from_item, to_item
from chalicelib.store.tables import create_table_request, load_definitions


def test_every_logical_table_is_defined_in_infra() -> None:
    definitions = load_definitions()
    assert set(definitions) == set(TABLES)
    assert definitions["idempotency"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_create_table_request_keeps_keys_and_indexes() -> None:
    request = create_table_request("carewire-local-escalations", load_definitions()["escalations"])
    assert request["KeySchema"] == [{"AttributeName": "escalation_id", "KeyType": "HASH"}]
    indexes = {g["IndexName"]: [k["AttributeName"] for k in g["KeySchema"]] for g in request["GlobalSecondaryIndexes"]}
    assert indexes["by_queue"] == ["queue_shard", "rank"]


def test_table_names_follow_stage_unless_configured() -> None:
    assert Settings(stage="prod").table("decisions") == "carewire-prod-decisions"
    env = {"CAREWIRE_STAGE": "dev", "CAREWIRE_OUTBOX_TABLE": "Stack-OutboxTable-1X"}
    settings = Settings.from_env(env)
    assert settings.table("outbox") == "Stack-OutboxTable-1X"
    assert settings.table("parked") == "carewire-dev-parked"


def test_items_round_trip_with_floats_and_nesting() -> None:
    doc = {"k": "v", "score": -0.25, "n": 3, "nested": {"list": [1, 2.5, "x"], "flag": True}, "gone": None}
    assert from_item(to_item(doc)) == {k: v for k, v in doc.items() if v is not None}


def test_shape_compares_keys_and_indexes() -> None:
    from chalicelib.store.tables import _shape

    request = create_table_request("t", load_definitions()["escalations"])
    assert len(request["GlobalSecondaryIndexes"]) > 1
    # how DescribeTable answers for that table: more fields, indexes in another order
    described = {
        "TableName": "t",
        "TableStatus": "ACTIVE",
        "ItemCount": 0,
        "KeySchema": request["KeySchema"],
        "GlobalSecondaryIndexes": [
            {**index, "IndexStatus": "ACTIVE", "ItemCount": 0} for index in reversed(request["GlobalSecondaryIndexes"])
        ],
    }
    assert _shape(described) == _shape(request)
    fewer = dict(described, GlobalSecondaryIndexes=described["GlobalSecondaryIndexes"][1:])
    assert _shape(fewer) != _shape(request)
    first = request["GlobalSecondaryIndexes"][0]
    other_key = dict(first, KeySchema=[{"AttributeName": "elsewhere", "KeyType": "HASH"}])
    rekeyed = dict(request, GlobalSecondaryIndexes=[other_key, *request["GlobalSecondaryIndexes"][1:]])
    assert _shape(rekeyed) != _shape(request)

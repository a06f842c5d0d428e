"""The storage primitives every stage shares (chalicelib/store/effects.py)."""

from __future__ import annotations

from chalicelib.store.dynamo import to_item
from chalicelib.store.effects import Effect, cancellation_reasons, transact_item


class _Cancelled(Exception):
    def __init__(self, codes: list[str]) -> None:
        super().__init__("cancelled")
        self.response = {"CancellationReasons": [{"Code": code} for code in codes]}


def test_cancellation_reasons_in_item_order_with_none_for_items_that_were_fine() -> None:
    assert cancellation_reasons(_Cancelled(["None", "ConditionalCheckFailed"])) == [None, "ConditionalCheckFailed"]
    assert cancellation_reasons(ValueError("no response")) == []


def test_a_put_and_a_conditional_update_as_transaction_items() -> None:
    put = transact_item(Effect("outbox", item={"reply_id": "r1"}), "t-outbox", to_item, {"reply_id": "r1", "n": 1})
    assert put == {"Put": {"TableName": "t-outbox", "Item": {"reply_id": {"S": "r1"}, "n": {"N": "1"}}}}
    effect = Effect(
        "activity",
        key={"pk": "a#1"},
        update="ADD #n :one",
        condition="attribute_not_exists(x)",
        values={":one": 1},
        names={"#n": "n"},
    )
    assert transact_item(effect, "t-activity", to_item) == {
        "Update": {
            "TableName": "t-activity",
            "Key": {"pk": {"S": "a#1"}},
            "UpdateExpression": "ADD #n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ExpressionAttributeNames": {"#n": "n"},
            "ConditionExpression": "attribute_not_exists(x)",
        }
    }

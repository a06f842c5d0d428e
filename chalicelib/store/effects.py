"""DynamoDB write primitives every stage shares: an `Effect` (one write in a transaction), its transaction
item, and the cancellation reasons of a failed transaction, parsed once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Effect:
    """One write in the decision's transaction: a Put of `item`, or an Update of `key`."""

    table: str
    item: dict[str, Any] | None = None
    key: dict[str, Any] | None = None
    update: str | None = None
    condition: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def transact_item(
    effect: Effect,
    table_name: str,
    to_item: Callable[[dict[str, Any]], dict[str, Any]],
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`effect` as one TransactItems entry on `table_name` (`item`: the Put's item as stored, e.g. with its
    expiry stamped; default `effect.item`)."""
    if effect.item is not None:
        return {"Put": {"TableName": table_name, "Item": to_item(item if item is not None else effect.item)}}
    update: dict[str, Any] = {
        "TableName": table_name,
        "Key": to_item(effect.key or {}),
        "UpdateExpression": effect.update,
    }
    if effect.values:
        update["ExpressionAttributeValues"] = to_item(effect.values)
    if effect.names:
        update["ExpressionAttributeNames"] = effect.names
    if effect.condition:
        update["ConditionExpression"] = effect.condition
    return {"Update": update}


def cancellation_reasons(exc: Exception) -> list[str | None]:
    """The code per item of a cancelled transaction (`ConditionalCheckFailed`, `None` for an item that
    was fine, ...), in TransactItems order."""
    response = getattr(exc, "response", None) or {}
    return [
        reason.get("Code") if reason.get("Code") != "None" else None
        for reason in response.get("CancellationReasons", [])
    ]

"""Agents' corrections of a decision's labels (topic, sentiment, churn, needs a person), kept on the decision
record with who made them and when, where training reads labelled posts.

An additive store until the model branch's corrections route lands on main: one conditional UpdateItem on
the decision (DecisionsTable, by post key)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.escalations.errors import EscalationNotFound, InvalidRequest
from chalicelib.store.dynamo import to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

TOPICS = ("outage", "billing", "device", "account", "cancellation", "service_complaint", "praise", "other")
SENTIMENTS = ("negative", "neutral", "positive")
FIELDS = ("topic", "sentiment", "churn_risk", "needs_human")


def check(raw: Any) -> dict[str, Any]:
    """The corrections in `raw` (an object with any of FIELDS), or InvalidRequest naming the first bad field."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        raise InvalidRequest("corrections", "expected an object")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if (
            (name == "topic" and value in TOPICS)
            or (name == "sentiment" and value in SENTIMENTS)
            or (name in ("churn_risk", "needs_human") and isinstance(value, bool))
        ):
            out[name] = value
        elif name in FIELDS:
            valid = {"topic": TOPICS, "sentiment": SENTIMENTS}.get(name, ("true", "false"))
            raise InvalidRequest(f"corrections.{name}", f"{value!r} is not one of {list(valid)}")
        else:
            raise InvalidRequest(f"corrections.{name}", f"unknown field; valid: {list(FIELDS)}")
    return out


def record(
    client: DynamoDBClient, table: str, post_key: str, corrections: dict[str, Any], by: str, now: datetime
) -> None:
    """Store `corrections` on the decision of `post_key` (replacing earlier ones, which the record keeps
    as `corrected_by`/`corrected_at` of the latest person)."""
    try:
        client.update_item(
            TableName=table,
            Key={"post_key": {"S": post_key}},
            ConditionExpression="attribute_exists(post_key)",
            UpdateExpression="SET corrections = :c, corrected_by = :by, corrected_at = :at",
            ExpressionAttributeValues=to_item({":c": corrections, ":by": by, ":at": iso(now)}),
        )
    except client.exceptions.ConditionalCheckFailedException:
        raise EscalationNotFound(f"no decision {post_key!r} to correct") from None

"""Agents teach the classifier: a correction of an escalated post's labels, kept on its escalation item.

An agent who works an escalation may say the classifier was wrong — the topic, the sentiment, churn risk,
whether it needed a person. The correction is stored on the escalation (attribute `correction`, one per item:
the latest wins), which already holds the post and the classification it corrects, and
`carewire train --export-corrections` turns every corrected escalation into a training row.

Access pattern: one UpdateItem on the escalation, setting only `correction` (conditioned on the item existing;
the queue's own updates never touch it, so neither overwrites the other) — the agent API's role already may
update escalations and never touches the decisions table. Export scans the escalations table for items with a
correction (an offline, operator-run job).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.escalations.errors import EscalationNotFound, InvalidRequest
from chalicelib.labels import SENTIMENTS, TOPICS
from chalicelib.store.dynamo import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FLAGS = ("churn_risk", "needs_human", "spam", "abuse")
FIELDS = ("topic", "intent", "sentiment", *FLAGS)


def parse_correction(body: Mapping[str, Any]) -> dict[str, Any]:
    """The labels an agent corrects (at least one); anything else in the body is refused by name."""
    unknown = sorted(set(body) - {*FIELDS, "note"})
    if unknown:
        raise InvalidRequest(unknown[0], f"not a correctable label; valid: {list(FIELDS)} and note")
    labels: dict[str, Any] = {}
    if "topic" in body:
        if body["topic"] not in TOPICS:
            raise InvalidRequest("topic", f"one of {list(TOPICS)}")
        labels["topic"] = body["topic"]
    if "intent" in body:
        if not isinstance(body["intent"], str) or not body["intent"].strip():
            raise InvalidRequest("intent", "a non-empty string")
        labels["intent"] = body["intent"].strip()
    if "sentiment" in body:
        if body["sentiment"] not in SENTIMENTS:
            raise InvalidRequest("sentiment", f"one of {list(SENTIMENTS)}")
        labels["sentiment"] = body["sentiment"]
    for name in FLAGS:
        if name in body:
            if not isinstance(body[name], bool):
                raise InvalidRequest(name, "true or false")
            labels[name] = body[name]
    if not labels:
        raise InvalidRequest("body", f"correct at least one of {list(FIELDS)}")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise InvalidRequest("note", "a string")
    return {"labels": labels, **({"note": note} if note else {})}


class Corrections:
    def __init__(self, client: DynamoDBClient, escalations_table: str) -> None:
        self._client = client
        self._table = escalations_table

    def record(self, escalation_id: str, correction: Mapping[str, Any], agent: str, now: datetime) -> dict[str, Any]:
        doc = {**correction, "by": agent, "at": iso(now)}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"escalation_id": {"S": escalation_id}},
                UpdateExpression="SET correction = :c",
                ConditionExpression="attribute_exists(escalation_id)",
                ExpressionAttributeValues={":c": {"M": to_item(doc)}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise EscalationNotFound(f"no escalation {escalation_id!r}") from None
        return doc

    def corrected(self) -> Iterator[dict[str, Any]]:
        """Every escalation that carries a correction."""
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="attribute_exists(correction)",
        ):
            for item in page.get("Items", []):
                yield from_item(item)


def training_row(item: Mapping[str, Any], brand: str = "", handle: str = "") -> dict[str, Any] | None:
    """A corrected escalation as a labelled training row (only the corrected labels; the rest stay unknown);
    `brand`/`handle`: the brand of the post's channel."""
    post = item.get("post") or {}
    correction = item.get("correction") or {}
    labels = dict(correction.get("labels") or {})
    if not post.get("text") or not labels:
        return None
    kind = "x_dm" if post.get("is_dm") else "x_reply" if post.get("in_reply_to_post_id") else "x_mention"
    return {
        "id": post.get("key") or item.get("escalation_id"),
        "operator": brand or post.get("channel", ""),
        "brand_handle": handle,
        "channel": kind,
        "text": post["text"],
        "labels": labels,
        "split": "train",
        "source": "agent-correction",
    }

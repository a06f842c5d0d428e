"""DynamoDB repositories for decisions, escalations, outbox replies and parked events."""

from __future__ import annotations

import enum
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.clock import iso, parse
from chalicelib.model import Decision
from chalicelib.privacy import Retention
from chalicelib.settings import Settings
from chalicelib.store.effects import Effect, cancellation_reasons, transact_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.store.blobs import Blobs
else:
    DynamoDBClient = Any

_serializer = TypeSerializer()


class Recorded(enum.Enum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


_deserializer = TypeDeserializer()


def to_item(doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON-like document → DynamoDB attribute values (floats become Decimals; empty keys dropped)."""
    plain = json.loads(json.dumps(doc), parse_float=Decimal)
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    doc = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return json.loads(json.dumps(doc, default=_decimal))  # type: ignore[no-any-return]


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


BATCH_GET_KEYS = 100
"""Keys one BatchGetItem call may ask for."""
UNPROCESSED_ATTEMPTS = 8


class Unprocessed(RuntimeError):
    """DynamoDB kept returning keys unprocessed (throttling): the caller fails rather than read half the items."""


def batch_get(client: Any, table: str, keys: Sequence[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    """Every item of `keys` that exists, as raw attribute values (in no particular order): 100 keys a call, and
    the keys DynamoDB leaves unprocessed (it does when throttled) asked again after a growing pause. `options`
    go with the keys (ConsistentRead, ProjectionExpression, ExpressionAttributeNames)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": list(keys[start : start + BATCH_GET_KEYS]), **options}}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            got = client.batch_get_item(RequestItems=request)
            found.extend(got.get("Responses", {}).get(table, []))
            request = got.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.02 * 2**attempt, 1.0))
        else:
            raise Unprocessed(f"{table}: keys still unprocessed after {UNPROCESSED_ATTEMPTS} attempts")
    return found


PARK_INLINE_BYTES = 300_000
"""A parked message larger than this goes by reference (DynamoDB items stop at 400 KB)."""
PARK_REASON_CHARS = 4_000


class Store:
    def __init__(
        self,
        client: DynamoDBClient,
        settings: Settings,
        blobs: Blobs | None = None,
        retention: Retention | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._blobs = blobs
        self._retention = retention or Retention()

    @property
    def blobs(self) -> Blobs:
        """Where oversized events are kept (files under the local home; S3 in AWS), built on first use."""
        if self._blobs is None:
            from chalicelib.store.blobs import blobs_for

            self._blobs = blobs_for(self._settings)
        return self._blobs

    def table(self, logical: str) -> str:
        return self._settings.table(logical)

    def record(self, decision: Decision, effects: Sequence[Effect]) -> Recorded:
        """Write the decision and its effects atomically.

        DUPLICATE when the post already has a decision; CONFLICT when an effect's condition failed (a
        reply budget changed since it was read) — nothing was written and the caller re-plans.
        """
        moment = parse(decision.decided_at)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table("decisions"),
                    "Item": to_item(self._retention.stamp("decisions", decision.to_doc(), moment)),
                    "ConditionExpression": "attribute_not_exists(post_key)",
                }
            }
        ]
        items += [self._transact_item(e, moment) for e in effects]
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return Recorded.DUPLICATE
            if "ConditionalCheckFailed" in reasons:
                return Recorded.CONFLICT
            raise
        return Recorded.RECORDED

    def _transact_item(self, effect: Effect, moment: datetime) -> dict[str, Any]:
        stamped = self._retention.stamp(effect.table, effect.item, moment) if effect.item is not None else None
        return transact_item(effect, self.table(effect.table), to_item, stamped)

    def park(self, message: dict[str, Any], reason: str, now: datetime) -> str:
        """Keep an event that cannot be processed, with why, for ops to replay or discard. One too large
        for a DynamoDB item is kept by reference (`message` is then `{"message_ref": ..., "bytes": n}`)."""
        park_id = str(uuid.uuid4())
        body = json.dumps(message)
        if len(body.encode("utf-8")) > PARK_INLINE_BYTES:
            from chalicelib.store.blobs import by_reference

            body = json.dumps(by_reference(message, self.blobs))
        doc = {"park_id": park_id, "reason": reason[:PARK_REASON_CHARS], "parked_at": iso(now), "message": body}
        doc = self._retention.stamp("parked", doc, now)
        self._client.put_item(TableName=self.table("parked"), Item=to_item(doc))
        return park_id

    def _scan(self, logical: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table(logical)):
            for item in page.get("Items", []):
                yield from_item(item)

    def decision(self, post_key: str) -> dict[str, Any] | None:
        got = self._client.get_item(
            TableName=self.table("decisions"), Key={"post_key": {"S": post_key}}, ConsistentRead=True
        )
        return from_item(got["Item"]) if "Item" in got else None

    def decisions(
        self, limit: int = 100, channels: Sequence[str] | None = None, before: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, before the cursor `before`: an ISO time, or `time,post_key` — the last row of the
        previous page, so rows that share its time are neither skipped nor repeated.

        With `channels`, through the by_channel index: one query per channel, at most `limit` items each,
        merged — what listings and `policies diff` use. Without, a scan (tests and tiny tables only).
        """
        at, _, last_key = (before or "").partition(",")
        cursor = (at, last_key or "\uffff")

        def earlier(d: dict[str, Any]) -> bool:
            return not before or (d["decided_at"], d["post_key"]) < cursor

        if channels is None:
            rows = sorted(self._scan("decisions"), key=lambda d: (d["decided_at"], d["post_key"]), reverse=True)
            return [d for d in rows if earlier(d)][:limit]
        found: list[dict[str, Any]] = []
        for channel in channels:
            condition = "channel = :c" + (" AND decided_at <= :b" if before else "")
            values = {":c": {"S": channel}, **({":b": {"S": at}} if before else {})}
            request: dict[str, Any] = {
                "TableName": self.table("decisions"),
                "IndexName": "by_channel",
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ScanIndexForward": False,
            }
            kept: list[dict[str, Any]] = []
            while True:
                got = self._client.query(**request, Limit=min(max(limit - len(kept), 10), 1000))
                page = [from_item(i) for i in got.get("Items", [])]
                kept += [d for d in page if earlier(d)]
                if "LastEvaluatedKey" not in got:
                    break
                # Items that share a time come back in no useful order: past `limit`, read on while the
                # time at the cut still repeats, so the page's order (time, then key) is exact.
                if len(kept) >= limit and page and page[-1]["decided_at"] < kept[limit - 1]["decided_at"]:
                    break
                request["ExclusiveStartKey"] = got["LastEvaluatedKey"]
            found += kept
        return sorted(found, key=lambda d: (d["decided_at"], d["post_key"]), reverse=True)[:limit]

    def escalations(self, queue: str | None = None, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
        """Items of a status (of one queue), by priority then due time. A scan: for ops listings and tests;
        agents work the sharded by_queue index through `chalicelib.escalations.queue.EscalationQueue`."""
        found = [
            e
            for e in self._scan("escalations")
            if e.get("status") == status and (queue is None or e.get("queue") == queue)
        ]
        return sorted(found, key=lambda e: (e.get("rank", ""), e["created_at"]))[:limit]

    def outbox(self, status: str = "pending", limit: int = 100) -> list[dict[str, Any]]:
        got = self._client.query(
            TableName=self.table("outbox"),
            IndexName="by_status",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": status}},
            Limit=limit,
        )
        return [from_item(i) for i in got.get("Items", [])]

    def parked(self) -> list[dict[str, Any]]:
        return sorted(self._scan("parked"), key=lambda p: p["parked_at"])

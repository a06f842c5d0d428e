"""The outbox table: items (`chalicelib/outbox/item.py`) and, beside them, each channel's delivery state.

Access patterns (infra/resources.yaml, OutboxTable):
    get by reply_id (the idempotency key)                  GetItem, consistent
    a lane's open items, oldest first                      GSI by_lane (lane / created_at; sparse: open items)
    items of a status, oldest first (ops, the sweep)       GSI by_status (status / created_at)
    the item a platform message id names (delivery reports) GSI by_platform_id (sparse: sent items; keys only)
    a channel's state: paused until, health                `ctl#channel#<id>` (no status, no lane: in no index)
    a channel's send budget for one window                 `ctl#budget#<id>#<window>` (TTL `expires_at`)

Every state change is one UpdateItem conditioned on the state read (and, for a claimed item, on the claim's
lease token), so two senders never send one item and a sender whose lease ran out cannot overwrite what
another decided meanwhile.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.outbox.item import CANCELLED, FAILED, HELD, PENDING, SENDING, SENT, UNKNOWN, OutboxItem, lane_of
from chalicelib.store.dynamo import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

CONTROL = "ctl#"
_LEASE_FIELDS = ["lease_until", "lease_token"]


def channel_key(channel: str) -> str:
    return f"{CONTROL}channel#{channel}"


class OutboxStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    @property
    def table(self) -> str:
        return self._table

    # ----------------------------------------------------------------------------------------- reading

    def get(self, reply_id: str) -> OutboxItem | None:
        got = self._client.get_item(TableName=self._table, Key={"reply_id": {"S": reply_id}}, ConsistentRead=True)
        if "Item" not in got or reply_id.startswith(CONTROL):
            return None
        return OutboxItem.from_doc(from_item(got["Item"]))

    def lane(self, lane: str, limit: int = 10) -> list[OutboxItem]:
        """The lane's open items, oldest first (the index may lag a write by a moment: callers re-check)."""
        got = self._client.query(
            TableName=self._table,
            IndexName="by_lane",
            KeyConditionExpression="lane = :l",
            ExpressionAttributeValues={":l": {"S": lane}},
            Limit=limit,
        )
        return [OutboxItem.from_doc(from_item(i)) for i in got.get("Items", [])]

    def by_status(self, status: str, limit: int = 100) -> list[OutboxItem]:
        """Oldest first; reads pages until `limit` items."""
        found: list[OutboxItem] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": status}},
            "Limit": min(limit, 500),
        }
        while len(found) < limit:
            got = self._client.query(**request)
            found += [OutboxItem.from_doc(from_item(i)) for i in got.get("Items", [])]
            if "LastEvaluatedKey" not in got:
                break
            request["ExclusiveStartKey"] = got["LastEvaluatedKey"]
        return found[:limit]

    def by_platform_id(self, platform_id: str) -> list[str]:
        """The reply ids of the items the platform knows by `platform_id` (usually one; the index is eventually
        consistent, so an item sent a moment ago may not show yet)."""
        got = self._client.query(
            TableName=self._table,
            IndexName="by_platform_id",
            KeyConditionExpression="platform_id = :p",
            ExpressionAttributeValues={":p": {"S": platform_id}},
        )
        return [str(i["reply_id"]["S"]) for i in got.get("Items", [])]

    def put(self, doc: dict[str, Any]) -> bool:
        """Write a new item (tests, benches, ops); False when an item with its id exists."""
        try:
            self._client.put_item(
                TableName=self._table, Item=to_item(doc), ConditionExpression="attribute_not_exists(reply_id)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # ------------------------------------------------------------------------------------------ changes

    def _update(
        self,
        reply_id: str,
        condition: str,
        values: dict[str, Any],
        sets: dict[str, Any],
        removes: list[str] = (),  # type: ignore[assignment]
        adds: dict[str, int] | None = None,
    ) -> OutboxItem | None:
        """One conditional update; the item after it, or None when the condition failed."""
        names = {f"#s{i}": name for i, name in enumerate(sets)}
        names.update({f"#r{i}": name for i, name in enumerate(removes)})
        names.update({f"#n{i}": name for i, name in enumerate(adds or {})})
        names["#status"] = "status"
        vals = dict(values)
        vals.update({f":s{i}": v for i, v in enumerate(sets.values())})
        vals.update({f":n{i}": v for i, v in enumerate((adds or {}).values())})
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
        if adds:
            expression += " ADD " + ", ".join(f"#n{i} :n{i}" for i in range(len(adds)))
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        try:
            got = self._client.update_item(
                TableName=self._table,
                Key={"reply_id": {"S": reply_id}},
                ConditionExpression=condition,
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(vals),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return OutboxItem.from_doc(from_item(got["Attributes"]))

    def claim(self, item: OutboxItem, now: datetime, lease: timedelta) -> OutboxItem | None:
        """pending → sending with a fresh lease token, if it is still pending and due."""
        return self._update(
            item.reply_id,
            "#status = :pending AND (attribute_not_exists(not_before) OR not_before <= :now)",
            {":pending": PENDING, ":now": iso(now)},
            {
                "status": SENDING,
                "lease_until": iso(now + lease),
                "lease_token": uuid.uuid4().hex,
                "updated_at": iso(now),
            },
        )

    def _held(self, item: OutboxItem) -> tuple[str, dict[str, Any]]:
        """The condition that `item` is still in the state it was read in (and the claim is still ours)."""
        if item.status == SENDING:
            return "#status = :was AND lease_token = :token", {":was": SENDING, ":token": item.lease_token}
        return "#status = :was", {":was": item.status}

    def sent(self, item: OutboxItem, platform_id: str, now: datetime) -> OutboxItem | None:
        condition, values = self._held(item)
        return self._update(
            item.reply_id,
            condition,
            values,
            {"status": SENT, "platform_id": platform_id, "sent_at": iso(now), "updated_at": iso(now)},
            ["lane", "not_before", "error", *_LEASE_FIELDS],
        )

    def failed(self, item: OutboxItem, error: str, now: datetime, attempt: bool = True) -> OutboxItem | None:
        condition, values = self._held(item)
        return self._update(
            item.reply_id,
            condition,
            values,
            {"status": FAILED, "error": error[:500], "updated_at": iso(now)},
            ["lane", "not_before", *_LEASE_FIELDS],
            {"attempts": 1} if attempt else None,
        )

    def again(
        self, item: OutboxItem, not_before: datetime, error: str, now: datetime, counted: bool
    ) -> OutboxItem | None:
        """Back to pending, due at `not_before`: a counted attempt (5xx, timeout before sending, a lookup that
        found nothing) or a throttle (429, budget, channel paused) that does not use up attempts."""
        condition, values = self._held(item)
        return self._update(
            item.reply_id,
            condition,
            values,
            {"status": PENDING, "not_before": iso(not_before), "error": error[:500], "updated_at": iso(now)},
            _LEASE_FIELDS,
            {"attempts": 1} if counted else {"throttled": 1},
        )

    def unknown(self, item: OutboxItem, error: str, now: datetime) -> OutboxItem | None:
        """The request may have reached the platform (a timeout after it left, a sender that died holding the
        claim): never re-sent blindly — reconciled against the platform first."""
        condition, values = self._held(item)
        return self._update(
            item.reply_id,
            condition,
            values,
            {"status": UNKNOWN, "error": error[:500], "updated_at": iso(now)},
            _LEASE_FIELDS,
            {"attempts": 1},
        )

    def reached(self, reply_id: str, channel: str, platform_id: str, field: str, at: str) -> OutboxItem | None:
        """The platform reports the sent item delivered (`field` delivered_at) or read (`read_at`) at `at`:
        recorded the first time only (reports repeat and arrive out of order). None when no sent item of
        `channel` with that platform id exists under `reply_id`."""
        try:
            got = self._client.update_item(
                TableName=self._table,
                Key={"reply_id": {"S": reply_id}},
                ConditionExpression="#status IN (:sent, :failed) AND channel = :c AND platform_id = :p",
                UpdateExpression="SET #f = if_not_exists(#f, :at)",
                ExpressionAttributeNames={"#status": "status", "#f": field},
                ExpressionAttributeValues=to_item(
                    {":sent": SENT, ":failed": FAILED, ":c": channel, ":p": platform_id, ":at": at}
                ),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return OutboxItem.from_doc(from_item(got["Attributes"]))

    def undelivered(
        self, reply_id: str, channel: str, platform_id: str, error: str, now: datetime
    ) -> OutboxItem | None:
        """The platform accepted the item but reports it could not deliver it: sent → failed with the platform's
        error. Never re-sent by itself (`carewire outbox retry` is a person's decision). None when the item
        is not a sent item of `channel` with that platform id (already failed: the report came again)."""
        return self._update(
            reply_id,
            "#status = :sent AND channel = :c AND platform_id = :p",
            {":sent": SENT, ":c": channel, ":p": platform_id},
            {"status": FAILED, "error": error[:500], "updated_at": iso(now)},
        )

    def expire_lease(self, item: OutboxItem, now: datetime) -> OutboxItem | None:
        """A claim whose lease ran out (its sender died or hung) → unknown, on condition it is still that claim."""
        return self._update(
            item.reply_id,
            "#status = :sending AND lease_token = :token AND lease_until <= :now",
            {":sending": SENDING, ":token": item.lease_token, ":now": iso(now)},
            {"status": UNKNOWN, "error": "the sender's lease ran out mid-send", "updated_at": iso(now)},
            _LEASE_FIELDS,
        )

    def hold(self, item: OutboxItem, reason: str, now: datetime) -> OutboxItem | None:
        condition, values = self._held(item)
        return self._update(
            item.reply_id, condition, values, {"status": HELD, "error": reason, "updated_at": iso(now)}, _LEASE_FIELDS
        )

    def retry(self, reply_id: str, now: datetime) -> OutboxItem | None:
        """Ops: a failed, held or unknown item back to pending with fresh attempts (its lane restored)."""
        item = self.get(reply_id)
        if item is None or item.status not in (FAILED, HELD, UNKNOWN):
            return None
        return self._update(
            reply_id,
            "#status = :was",
            {":was": item.status},
            {
                "status": PENDING,
                "attempts": 0,
                "lane": item.lane or lane_of(item.kind, item.channel, item.conversation_id, item.reply_id),
                "updated_at": iso(now),
            },
            ["not_before"],
        )

    def cancel(self, reply_id: str, now: datetime) -> OutboxItem | None:
        """Ops: never send it (anything not sent and not being sent right now)."""
        return self._update(
            reply_id,
            "#status IN (:p, :u, :h, :f)",
            {":p": PENDING, ":u": UNKNOWN, ":h": HELD, ":f": FAILED},
            {"status": CANCELLED, "updated_at": iso(now)},
            ["lane", "not_before", *_LEASE_FIELDS],
        )

    # --------------------------------------------------------------------------------- channel state

    def channel_state(self, channel: str) -> dict[str, Any]:
        got = self._client.get_item(TableName=self._table, Key={"reply_id": {"S": channel_key(channel)}})
        return from_item(got["Item"]) if "Item" in got else {}

    def pause(self, channel: str, until: datetime) -> None:
        """Nothing on `channel` is sent before `until` (a 429's reset, a spent budget). Only ever extends."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table,
                Key={"reply_id": {"S": channel_key(channel)}},
                ConditionExpression="attribute_not_exists(paused_until) OR paused_until < :u",
                UpdateExpression="SET paused_until = :u",
                ExpressionAttributeValues={":u": {"S": iso(until)}},
            )

    def set_health(self, channel: str, healthy: bool, reason: str, now: datetime) -> bool:
        """Mark a channel healthy or unhealthy; True when this call changed it (so one alert per change)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"reply_id": {"S": channel_key(channel)}},
                ConditionExpression="attribute_not_exists(health) OR health <> :h",
                UpdateExpression="SET health = :h, health_reason = :r, health_since = :now",
                ExpressionAttributeValues=to_item(
                    {":h": "healthy" if healthy else "unhealthy", ":r": reason, ":now": iso(now)}
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def take_budget(self, channel: str, window: str, limit: int, expires_at: int) -> bool:
        """One send from the channel's shared budget for `window`; False when it is spent."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"reply_id": {"S": f"{CONTROL}budget#{channel}#{window}"}},
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                UpdateExpression="ADD used :one SET expires_at = :exp",
                ExpressionAttributeValues=to_item({":limit": limit, ":one": 1, ":exp": expires_at}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

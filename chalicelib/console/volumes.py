"""The dashboard's volumes: decisions counted by hour, topic, sentiment, channel, action and how they were
handled — without reading every decision of the period on every load.

An hour that has ended (and `GRACE` after it, for decisions still in flight) no longer changes, so its counts
per channel are kept as one small item in the activity table (`volume#<channel>#<YYYY-MM-DDTHH>`): counted once
from the decisions the first time a dashboard needs it, read back by key (a batch of 100 hours per call) after
that. The hour now running, the one that ended less than `GRACE` ago and the period's first, partial hour are
always counted from the decisions: one paged `by_channel` query per channel and run of consecutive hours not
kept (a first load: one; later loads: the partial first hour, and the last two). The counts are the
classifier's (an agent's correction is kept on the escalation, for training, and not counted here). Nothing here is
on the per-post path: the processor writes no counters for the dashboard.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.store.dynamo import batch_get, from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

GRACE = timedelta(minutes=5)
"""How long after an hour ends its decisions may still be landing (in-flight posts); only then are its counts kept."""
KEEP = timedelta(days=15)
"""Kept counts expire (TTL) this long after their hour: beyond the dashboard's longest period (14 days)."""
DIMENSIONS = ("topic", "sentiment", "action", "handled")
ANSWERS = frozenset({"reply", "notice"})
_FIELDS = "decided_at, #a, actions, classification.topic, classification.sentiment.#l"
_NAMES = {"#a": "action", "#l": "label"}


def hour_of(moment: datetime) -> datetime:
    """The start of `moment`'s UTC hour."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_prefix(hour: datetime) -> str:
    """`2026-11-30T10`: the prefix every `decided_at` of that hour starts with."""
    return iso(hour)[:13]


def volume_key(channel: str, hour: datetime) -> str:
    return f"volume#{channel}#{hour_prefix(hour)}"


class Volume:
    """Counts of one channel's decisions in one hour (or part of one)."""

    def __init__(self, counts: dict[str, Counter[str]] | None = None) -> None:
        self.counts: dict[str, Counter[str]] = counts or {d: Counter() for d in DIMENSIONS}

    def add(self, row: dict[str, Any]) -> None:
        """Count one stored decision (the fields `_FIELDS` projects)."""
        classification = row.get("classification") or {}
        self.counts["topic"][str(classification.get("topic") or "other")] += 1
        self.counts["sentiment"][str((classification.get("sentiment") or {}).get("label") or "neutral")] += 1
        self.counts["action"][str(row.get("action") or "ignore")] += 1
        kinds = {str(a.get("type")) for a in row.get("actions") or []}
        handled = "escalated" if "escalate" in kinds else "auto_answered" if kinds & ANSWERS else "untouched"
        self.counts["handled"][handled] += 1

    @property
    def total(self) -> int:
        return sum(self.counts["action"].values())

    def to_json(self) -> str:
        return json.dumps({d: dict(c) for d, c in self.counts.items()}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Volume:
        raw = json.loads(text)
        return cls({d: Counter({str(k): int(v) for k, v in (raw.get(d) or {}).items()}) for d in DIMENSIONS})


class Volumes:
    """Per-channel, per-hour decision counts over a period, from kept hours where it can."""

    def __init__(self, client: DynamoDBClient, decisions_table: str, activity_table: str) -> None:
        self._client = client
        self._decisions = decisions_table
        self._activity = activity_table

    def period(self, channels: Iterable[str], since: datetime, now: datetime) -> dict[tuple[str, str], Volume]:
        """(channel, hour prefix) → counts of the decisions with `since <= decided_at`, up to `now`."""
        channels = sorted(channels)
        hours = list(_hours(hour_of(since), hour_of(now)))
        settled = {h for h in hours if h >= since and h + timedelta(hours=1) + GRACE <= now}
        kept = self._read_kept([(c, h) for c in channels for h in sorted(settled)])
        out: dict[tuple[str, str], Volume] = {}
        for channel in channels:
            # one paged query per channel for every hour not kept: the running one, the one in its grace, the
            # period's partial first hour, and (first loads) ended hours counted for the first time
            counted: dict[str, Volume] = {}
            for first, last in _runs([h for h in hours if volume_key(channel, h) not in kept]):
                counted.update(self._count(channel, max(since, first), last + timedelta(hours=1)))
            for hour in hours:
                key = volume_key(channel, hour)
                volume = kept.get(key) or counted.get(hour_prefix(hour)) or Volume()
                if key not in kept and hour in settled:
                    self._keep(channel, hour, volume, now)
                out[(channel, hour_prefix(hour))] = volume
        return out

    def _count(self, channel: str, start: datetime, end: datetime) -> dict[str, Volume]:
        """Hour prefix → counts of the channel's decisions with `start <= decided_at < end` (one paged query)."""
        counted: dict[str, Volume] = {}
        last = iso(end - timedelta(milliseconds=1))  # decided_at has milliseconds; BETWEEN includes both ends
        request: dict[str, Any] = {
            "TableName": self._decisions,
            "IndexName": "by_channel",
            "KeyConditionExpression": "channel = :c AND decided_at BETWEEN :s AND :e",
            "ExpressionAttributeValues": {":c": {"S": channel}, ":s": {"S": iso(start)}, ":e": {"S": last}},
            "ProjectionExpression": _FIELDS,
            "ExpressionAttributeNames": _NAMES,
        }
        while True:
            got = self._client.query(**request)
            for raw in got.get("Items", []):
                row = from_item(raw)
                counted.setdefault(row["decided_at"][:13], Volume()).add(row)
            if "LastEvaluatedKey" not in got:
                return counted
            request["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def _keep(self, channel: str, hour: datetime, volume: Volume, now: datetime) -> None:
        expires = max(hour + KEEP, now + timedelta(hours=1))  # never already expired when written
        self._client.put_item(
            TableName=self._activity,
            Item={
                "pk": {"S": volume_key(channel, hour)},
                "counts": {"S": volume.to_json()},
                "counted_at": {"S": iso(now)},
                "expires_at": {"N": str(int(expires.timestamp()))},
            },
        )

    def _read_kept(self, wanted: list[tuple[str, datetime]]) -> dict[str, Volume]:
        keys = [{"pk": {"S": volume_key(c, h)}} for c, h in wanted]
        got = batch_get(
            self._client, self._activity, keys, ProjectionExpression="pk, #c", ExpressionAttributeNames={"#c": "counts"}
        )
        return {raw["pk"]["S"]: Volume.from_json(raw["counts"]["S"]) for raw in got}


def _runs(hours: list[datetime]) -> Iterator[tuple[datetime, datetime]]:
    """(first, last) of each run of consecutive hours in `hours` (sorted)."""
    for i, hour in enumerate(hours):
        if i == 0 or hour - hours[i - 1] != timedelta(hours=1):
            first = hour
        if i + 1 == len(hours) or hours[i + 1] - hour != timedelta(hours=1):
            yield first, hour


def _hours(first: datetime, last: datetime) -> Iterator[datetime]:
    hour = first
    while hour <= last:
        yield hour
        hour += timedelta(hours=1)

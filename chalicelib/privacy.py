"""Customers' personal data at rest: how long rows that hold it are kept, and erasing one customer.

Retention: every row that carries a customer's words or identity (decisions, escalations, outbox replies,
parked events) gets `expires_at` (epoch seconds) when it is written; DynamoDB's TTL deletes it after that
(`policies/retention.yaml`, days per table). Erasure (`carewire forget`): the right to erasure that
telcos must honour — every row of one author across the tables is deleted or redacted, and the run
reports what it touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from chalicelib.clock import iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.settings import Settings
else:
    DynamoDBClient = Any

RETAINED_TABLES = ("decisions", "escalations", "outbox", "parked")
DEFAULT_DAYS = {"decisions": 90, "escalations": 365, "outbox": 30, "parked": 30}
MAX_DAYS = 3650
TTL_ATTRIBUTE = "expires_at"


class RetentionError(ValueError):
    """policies/retention.yaml is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class Retention:
    """Days each table keeps a row that holds personal data."""

    days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    @classmethod
    def load(cls, policies_dir: Path) -> Retention:
        path = Path(policies_dir) / "retention.yaml"
        if not path.exists():
            return cls()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RetentionError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise RetentionError(f"{path}: must be a mapping of table name to days")
        days = dict(DEFAULT_DAYS)
        errors = []
        for table, value in doc.items():
            if table not in RETAINED_TABLES:
                errors.append(
                    f"{path}: {table!r} is not a table that keeps personal data ({', '.join(RETAINED_TABLES)})"
                )
            elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
                errors.append(f"{path}: {table}: days must be a whole number from 1 to {MAX_DAYS}, not {value!r}")
            else:
                days[table] = value
        if errors:
            raise RetentionError("\n".join(errors))
        return cls(days)

    def expires_at(self, table: str, moment: datetime) -> int | None:
        """The TTL value for a row of `table` written at `moment`; None for tables not retained here."""
        days = self.days.get(table)
        if days is None:
            return None
        return int((moment + timedelta(days=days)).timestamp())

    def stamp(self, table: str, doc: dict[str, Any], moment: datetime) -> dict[str, Any]:
        """`doc` with its expiry set (an expiry already on the row is kept)."""
        expiry = self.expires_at(table, moment)
        if expiry is None or TTL_ATTRIBUTE in doc:
            return doc
        return {**doc, TTL_ATTRIBUTE: expiry}


# ------------------------------------------------------------------------------------------------ erasure

REDACTED = "[forgotten]"


@dataclass
class Erasure:
    """What `forget` touched, per table (counts only: the report itself holds no personal data)."""

    author: str
    platform: str | None
    redacted: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, table: str, n: int = 1) -> None:
        target = self.redacted if kind == "redacted" else self.deleted
        target[table] = target.get(table, 0) + n

    def to_doc(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "platform": self.platform,
            "redacted": dict(sorted(self.redacted.items())),
            "deleted": dict(sorted(self.deleted.items())),
            "total": sum(self.redacted.values()) + sum(self.deleted.values()),
        }


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class Forgetter:
    """Erases one customer's data across Carewire's tables.

    Rows are found by scanning with a filter: an erasure request is rare (a few a month), so a scan — billed
    for the whole table — costs less than keeping an author index on every decision. Decisions and
    escalations are redacted (the audit skeleton stays: what was decided, when, by which rule; the post,
    the author, the text and the evidence go); parked events, idempotency records, reply budgets and
    outbox replies still waiting are deleted; sent replies are redacted.
    """

    def __init__(self, client: DynamoDBClient, settings: Settings, now: datetime) -> None:
        self._client = client
        self._settings = settings
        self._now = now

    def _scan(
        self, logical: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        paginator = self._client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._settings.table(logical),
            FilterExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        return [item for page in pages for item in page.get("Items", [])]

    def forget(self, author: str, platform: str | None = None) -> Erasure:
        """Erase everything of `author` (an author id, or a handle with or without `@`), on one platform or all."""
        author = author.strip()
        if not author:
            raise ValueError("an author id or handle is needed")
        handle = author.removeprefix("@")
        report = Erasure(author=author, platform=platform)
        post_keys = self._decisions(author, handle, platform, report)
        self._escalations(author, handle, platform, report)
        self._idempotency(post_keys, report)
        self._outbox(post_keys, report)
        self._parked(author, handle, report)
        self._activity(author, platform, report)
        self._brand_posts_to(handle, platform, report)
        return report

    def _author_filter(
        self, prefix: str, author: str, handle: str, platform: str | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        names = {"#p": prefix, "#author": "author", "#id": "id", "#handle": "handle"}
        values: dict[str, Any] = {":a": _s(author), ":h": _s(handle)}
        condition = "(#p.#author.#id = :a OR #p.#author.#handle = :h)"
        if platform:
            condition += " AND #p.#platform = :pl"
            names["#platform"] = "platform"
            values[":pl"] = _s(platform)
        return condition, names, values

    def _decisions(self, author: str, handle: str, platform: str | None, report: Erasure) -> list[str]:
        condition, names, values = self._author_filter("post", author, handle, platform)
        keys = []
        for item in self._scan("decisions", condition, names, values):
            post_key = item["post_key"]["S"]
            keys.append(post_key)
            self._client.update_item(
                TableName=self._settings.table("decisions"),
                Key={"post_key": _s(post_key)},
                UpdateExpression=(
                    "SET #post = :post, forgotten_at = :at REMOVE params, classification.evidence, classification.pii"
                ),
                ExpressionAttributeNames={"#post": "post"},
                ExpressionAttributeValues={":post": {"M": {"text": _s(REDACTED)}}, ":at": _s(iso(self._now))},
            )
            report.add("redacted", "decisions")
        return keys

    def _escalations(self, author: str, handle: str, platform: str | None, report: Erasure) -> None:
        """The author's own escalations are redacted (and leave the by_author index); their follow-ups on other
        people's are removed. A scan, not the by_author index: the index knows ids, not handles, and not the
        follow-ups an author left on other people's items."""
        from chalicelib.store.dynamo import from_item, to_item

        table = self._settings.table("escalations")
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=table):
            for raw in page.get("Items", []):
                item = from_item(raw)
                key = {"escalation_id": raw["escalation_id"]}
                if _is_author(item.get("post"), author, handle, platform):
                    self._client.update_item(
                        TableName=table,
                        Key=key,
                        UpdateExpression=(
                            "SET #post = :post, follow_ups = :none, notes = :none, forgotten_at = :at "
                            "REMOVE classification.evidence, classification.pii, author_key"
                        ),
                        ExpressionAttributeNames={"#post": "post"},
                        ExpressionAttributeValues={
                            ":post": {"M": {"text": _s(REDACTED)}},
                            ":none": {"L": []},
                            ":at": _s(iso(self._now)),
                        },
                    )
                    report.add("redacted", "escalations")
                    continue
                follow_ups = item.get("follow_ups") or []
                kept = [f for f in follow_ups if not _is_author(f.get("post"), author, handle, platform)]
                if len(kept) != len(follow_ups):
                    self._client.update_item(
                        TableName=table,
                        Key=key,
                        UpdateExpression="SET follow_ups = :kept",
                        ExpressionAttributeValues=to_item({":kept": kept}),
                    )
                    report.add("redacted", "escalations")

    def _idempotency(self, post_keys: list[str], report: Erasure) -> None:
        table = self._settings.table("idempotency")
        for key in post_keys:
            got = self._client.delete_item(
                TableName=table, Key={"id": _s(idempotency_record_id(key))}, ReturnValues="ALL_OLD"
            )
            if got.get("Attributes"):
                report.add("deleted", "idempotency")

    def _outbox(self, post_keys: list[str], report: Erasure) -> None:
        wanted = {k.split("#", 1)[1] for k in post_keys if "#" in k}
        if not wanted:
            return
        table = self._settings.table("outbox")
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=table):
            for item in page.get("Items", []):
                target = item.get("in_reply_to_post_id", {}).get("S")
                if target not in wanted:
                    continue
                key = {"reply_id": item["reply_id"]}
                if item.get("status", {}).get("S") == "sent":
                    self._client.update_item(
                        TableName=table,
                        Key=key,
                        UpdateExpression="SET #t = :t, forgotten_at = :at",
                        ExpressionAttributeNames={"#t": "text"},
                        ExpressionAttributeValues={":t": _s(REDACTED), ":at": _s(iso(self._now))},
                    )
                    report.add("redacted", "outbox")
                else:
                    self._client.delete_item(TableName=table, Key=key)
                    report.add("deleted", "outbox")

    def _parked(self, author: str, handle: str, report: Erasure) -> None:
        table = self._settings.table("parked")
        needles = {json.dumps(author)[1:-1], json.dumps(handle)[1:-1]}
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=table):
            for item in page.get("Items", []):
                message = item.get("message", {}).get("S", "")
                if any(_mentions_exactly(message, needle) for needle in needles):
                    key = {"park_id": item["park_id"]}
                    self._client.delete_item(TableName=table, Key=key)
                    report.add("deleted", "parked")

    def _activity(self, author: str, platform: str | None, report: Erasure) -> None:
        table = self._settings.table("activity")
        prefix = f"author#{platform}#{author}" if platform else "author#"
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=table, FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": _s(prefix)}
        ):
            for item in page.get("Items", []):
                pk = item["pk"]["S"]
                if pk.rsplit("#", 1)[-1] == author:
                    self._client.delete_item(TableName=table, Key={"pk": item["pk"]})
                    report.add("deleted", "activity")

    def _brand_posts_to(self, handle: str, platform: str | None, report: Erasure) -> None:
        """The brand's own posts kept for the replies to them (chalicelib/threads.py, a week) that address the
        customer by handle: deleted."""
        import re

        table = self._settings.table("activity")
        addressed = re.compile(rf"(?<![\w@])@{re.escape(handle)}(?!\w)", re.IGNORECASE)
        prefix = f"said#{platform}#" if platform else "said#"
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=table, FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": _s(prefix)}
        ):
            for item in page.get("Items", []):
                if addressed.search(item.get("text", {}).get("S", "")):
                    self._client.delete_item(TableName=table, Key={"pk": item["pk"]})
                    report.add("deleted", "activity")


def idempotency_record_id(post_key: str) -> str:
    """The id of the Powertools idempotency record of a post (chalicelib/dedupe.py: key prefix
    `carewire.post`, the key `platform#post_id` hashed as Powertools hashes it: md5 of its JSON)."""
    import hashlib

    return "carewire.post#" + hashlib.md5(json.dumps(post_key, sort_keys=True).encode()).hexdigest()


def _is_author(post: Any, author: str, handle: str, platform: str | None) -> bool:
    if not isinstance(post, dict) or (platform and post.get("platform") != platform):
        return False
    who = post.get("author") or {}
    return who.get("id") == author or (bool(handle) and who.get("handle") == handle)


def _mentions_exactly(message: str, needle: str) -> bool:
    """`needle` appears in the JSON text as a whole string value (`"1234"`), not inside a longer id."""
    return bool(needle) and f'"{needle}"' in message

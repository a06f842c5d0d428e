"""The notices table on DynamoDB (layout in items.py). Writes of a notice are conditional on the version
the caller read, so two marketers never overwrite each other."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.model import Notice
from chalicelib.notices.errors import InvalidTransition, NoticeExists, StaleVersion
from chalicelib.notices.items import CITED, NOTICE_SK, notice_item, notice_pk
from chalicelib.settings import Settings
from chalicelib.store.dynamo import from_item, to_item
from chalicelib.store.effects import cancellation_reasons

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class NoticeStore:
    def __init__(self, client: DynamoDBClient, settings: Settings) -> None:
        self._client = client
        self._table = settings.table("notices")
        self._outbox = settings.table("outbox")

    def get(self, notice_id: str) -> Notice | None:
        got = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": notice_pk(notice_id)}, "sk": {"S": NOTICE_SK}},
            ConsistentRead=True,
        )
        return Notice.from_doc(from_item(got["Item"])) if "Item" in got else None

    def insert(self, notice: Notice) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(notice_item(notice)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise NoticeExists(f"notice {notice.id!r} already exists") from exc

    def replace(self, notice: Notice, expected_version: int, outbox: Sequence[dict[str, Any]] = ()) -> None:
        """Store `notice` if the stored one is still at `expected_version`, with new outbox items, atomically."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(notice_item(notice)),
                    "ConditionExpression": "version = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
                }
            }
        ]
        items += [
            {
                "Put": {
                    "TableName": self._outbox,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(reply_id)",
                }
            }
            for item in outbox
        ]
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise StaleVersion(
                    f"notice {notice.id!r} changed since version {expected_version}: reload it and retry"
                ) from exc
            if "ConditionalCheckFailed" in reasons:
                raise InvalidTransition(f"notice {notice.id!r} is already queued on its channels") from exc
            raise

    def by_status(self, status: str, started_by: str | None = None) -> list[Notice]:
        """Notices in `status` by start time; with `started_by` (ISO time), only those started by then."""
        condition = "#s = :s"
        values: dict[str, Any] = {":s": {"S": status}}
        if started_by is not None:
            condition += " AND starts_at <= :t"
            values[":t"] = {"S": started_by}
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName="by_status",
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
        return [Notice.from_doc(from_item(item)) for page in pages for item in page.get("Items", [])]

    def citations(self, notice_id: str) -> Iterator[dict[str, Any]]:
        """Every post told about the notice (citation items, any version)."""
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :cited)",
            ExpressionAttributeValues={":pk": {"S": notice_pk(notice_id)}, ":cited": {"S": CITED}},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                yield from_item(item)

    def queue_follow_up(self, marker: dict[str, Any], reply: dict[str, Any]) -> bool:
        """Queue `reply` unless the conversation already had a follow-up (`marker` exists). True if queued."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(marker),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._outbox,
                            "Item": to_item(reply),
                            "ConditionExpression": "attribute_not_exists(reply_id)",
                        }
                    },
                ]
            )
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            if "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

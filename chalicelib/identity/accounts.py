"""Console accounts in the users table: one per person, with roles and a time zone.

Passwords are stored as scrypt hashes only. `session_epoch` goes up on every password reset or disable, and
a session cookie carries the epoch it was issued under, so a reset signs the person out everywhere.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.auth import ROLES
from chalicelib.clock import iso
from chalicelib.identity.passwords import hash_password, new_password, verify_password
from chalicelib.store.dynamo import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
DEFAULT_ZONE = "UTC"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)


class AccountError(ValueError):
    """A request about an account that cannot be honoured (bad name, unknown role, exists, unknown)."""


@dataclass(frozen=True)
class Account:
    username: str
    roles: frozenset[str]
    zone: str
    session_epoch: int
    disabled: bool = False

    @property
    def principal_id(self) -> str:
        """What changes made through the console record as their author."""
        return f"user:{self.username}"

    def to_doc(self) -> dict[str, Any]:
        return {"username": self.username, "roles": sorted(self.roles), "zone": self.zone, "disabled": self.disabled}


def _account(item: dict[str, Any]) -> Account:
    return Account(
        username=item["username"],
        roles=frozenset(item.get("roles") or ()),
        zone=item.get("zone") or DEFAULT_ZONE,
        session_epoch=int(item.get("session_epoch") or 0),
        disabled=bool(item.get("disabled")),
    )


def check_new(username: str, roles: list[str], zone: str) -> None:
    if not USERNAME.match(username):
        raise AccountError("a user name is 2-40 characters: lower-case letters, digits, '.', '_' or '-'")
    if not roles:
        raise AccountError(f"give at least one role; valid: {', '.join(ROLES)}")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AccountError(f"unknown role {unknown[0]!r}; valid: {', '.join(ROLES)}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"unknown time zone {zone!r} (an IANA name such as Asia/Manila)") from None


class Accounts:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def _item(self, username: str) -> dict[str, Any] | None:
        got = self._client.get_item(TableName=self._table, Key={"username": {"S": username}}, ConsistentRead=True)
        return from_item(got["Item"]) if "Item" in got else None

    def get(self, username: str) -> Account | None:
        item = self._item(username)
        return _account(item) if item else None

    def add(
        self, username: str, roles: list[str], now: datetime, by: str, zone: str = DEFAULT_ZONE, replace: bool = False
    ) -> tuple[Account, str]:
        """Create the account (or, with `replace`, give an existing one these roles and a new password)
        and return it with its one-time password."""
        check_new(username, roles, zone)
        password = new_password()
        old = self._item(username)
        if old and not replace:
            raise AccountError(f"{username!r} exists; `carewire users reset {username}` gives a new password")
        item = {
            "username": username,
            "roles": sorted(set(roles)),
            "zone": zone,
            "password_hash": hash_password(password),
            "session_epoch": int((old or {}).get("session_epoch") or 0) + 1,
            "created_at": (old or {}).get("created_at") or iso(now),
            "created_by": (old or {}).get("created_by") or by,
            "updated_at": iso(now),
            "updated_by": by,
            "disabled": False,
        }
        condition = {} if replace else {"ConditionExpression": "attribute_not_exists(username)"}
        try:
            self._client.put_item(TableName=self._table, Item=to_item(item), **condition)  # type: ignore[arg-type]
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountError(f"{username!r} exists") from None
        return _account(item), password

    def reset(self, username: str, now: datetime, by: str) -> str:
        """A new one-time password; every session of the account ends."""
        password = new_password()
        self._update(username, now, by, {"password_hash": hash_password(password), "disabled": False, "failures": 0})
        return password

    def disable(self, username: str, now: datetime, by: str) -> None:
        self._update(username, now, by, {"disabled": True})

    def _update(self, username: str, now: datetime, by: str, sets: dict[str, Any]) -> None:
        sets = {**sets, "updated_at": iso(now), "updated_by": by}
        names = {f"#{k}": k for k in sets}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"username": {"S": username}},
                ConditionExpression="attribute_exists(username)",
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in sets) + " ADD #epoch :one",
                ExpressionAttributeNames={**names, "#epoch": "session_epoch"},
                ExpressionAttributeValues=to_item({**{f":{k}": v for k, v in sets.items()}, ":one": 1}),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AccountError(f"no account {username!r}") from None

    def sign_in(self, username: str, password: str, now: datetime) -> Account | None:
        """The account if the password is right and it is enabled; None otherwise (same work either way).
        After MAX_FAILURES wrong passwords in a row an account refuses every password for LOCKOUT, so
        guessing online runs at a few tries per minute."""
        item = self._item(username) if USERNAME.match(username) else None
        locked = bool(
            item
            and int(item.get("failures") or 0) >= MAX_FAILURES
            and str(item.get("failed_at") or "") > iso(now - LOCKOUT)
        )
        ok = verify_password(password, None if locked or item is None else item.get("password_hash"))
        if item is None or locked:
            return None
        if not ok:
            self._count_failure(username, now)
            return None
        if item.get("failures"):
            self._client.update_item(
                TableName=self._table,
                Key={"username": {"S": username}},
                UpdateExpression="REMOVE failures, failed_at",
            )
        return None if item.get("disabled") else _account(item)

    def _count_failure(self, username: str, now: datetime) -> None:
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):  # deleted meanwhile
            self._client.update_item(
                TableName=self._table,
                Key={"username": {"S": username}},
                ConditionExpression="attribute_exists(username)",
                UpdateExpression="SET failures = if_not_exists(failures, :zero) + :one, failed_at = :at",
                ExpressionAttributeValues=to_item({":zero": 0, ":one": 1, ":at": iso(now)}),
            )

    def list(self) -> list[Account]:
        rows = []
        for page in self._client.get_paginator("scan").paginate(TableName=self._table):
            rows += [_account(from_item(i)) for i in page.get("Items", [])]
        return sorted(rows, key=lambda a: a.username)

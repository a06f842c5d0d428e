"""`carewire --stage <aws stage> users …`: the people of the stage's Cognito user pool (`ConsoleUserPool`), as the
console's sign-in reads them: one pool user per person, Carewire roles as the pool's groups, the time zone in
`zoneinfo`. A new or reset person gets a temporary password (printed once, never stored); Cognito asks them to
choose their own at their first sign-in. The local stage's users table is `chalicelib/identity/accounts.py`."""

from __future__ import annotations

import secrets
import string
from typing import Any

from chalicelib.auth import ROLES
from chalicelib.cli import CarewireCliError
from chalicelib.identity.accounts import check_new

OUTPUT = "ConsoleUserPoolId"
"""The stack output (recorded by `carewire deploy`) naming the stage's pool."""


def temporary_password() -> str:
    """20 characters meeting the template's policy (upper, lower, digit, 12+)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(17))
    return (
        body
        + secrets.choice(string.ascii_uppercase)
        + secrets.choice(string.ascii_lowercase)
        + secrets.choice(string.digits)
    )


class PoolUsers:
    def __init__(self, client: Any, pool_id: str) -> None:
        """`client`: a cognito-idp client; `pool_id`: the stage's ConsoleUserPool."""
        self.client = client
        self.pool = pool_id

    def add(self, username: str, roles: list[str], zone: str, replace: bool) -> str:
        """The person with exactly `roles` and `zone`; their temporary password. Replacing revokes their tokens,
        so their console sessions (which hold the roles they signed in with) end within a minute."""
        check_new(username, roles, zone)
        password = temporary_password()
        exists = self.client.exceptions.UsernameExistsException
        try:
            self.client.admin_create_user(
                UserPoolId=self.pool,
                Username=username,
                TemporaryPassword=password,
                UserAttributes=[{"Name": "zoneinfo", "Value": zone}],
                MessageAction="SUPPRESS",
            )
        except exists:
            if not replace:
                raise CarewireCliError(f"{username} exists in the user pool (--replace to change it)") from None
            self.client.admin_update_user_attributes(
                UserPoolId=self.pool, Username=username, UserAttributes=[{"Name": "zoneinfo", "Value": zone}]
            )
            self._set_temporary(username, password)
            self._call("admin_user_global_sign_out", username)  # sessions carry the old roles: end them
        current = set(self._groups(username))
        for role in sorted(set(roles) - current):
            self.client.admin_add_user_to_group(UserPoolId=self.pool, Username=username, GroupName=role)
        for role in sorted((current & set(ROLES)) - set(roles)):
            self.client.admin_remove_user_from_group(UserPoolId=self.pool, Username=username, GroupName=role)
        return password

    def reset(self, username: str) -> str:
        """A new temporary password (the next sign-in asks for a new one); the person's tokens are revoked."""
        password = temporary_password()
        self._set_temporary(username, password)
        self._call("admin_user_global_sign_out", username)
        return password

    def disable(self, username: str) -> None:
        self._call("admin_disable_user", username)
        self._call("admin_user_global_sign_out", username)

    def people(self) -> list[dict[str, Any]]:
        rows = []
        for page in self.client.get_paginator("list_users").paginate(UserPoolId=self.pool):
            for user in page["Users"]:
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                rows.append(
                    {
                        "username": user["Username"],
                        "roles": sorted(set(self._groups(user["Username"])) & set(ROLES)),
                        "zone": attributes.get("zoneinfo", "UTC"),
                        "disabled": not user.get("Enabled", True),
                        "status": user.get("UserStatus", ""),
                    }
                )
        return sorted(rows, key=lambda r: str(r["username"]))

    def _groups(self, username: str) -> list[str]:
        got = self._call("admin_list_groups_for_user", username)
        return [g["GroupName"] for g in got.get("Groups", [])]

    def _set_temporary(self, username: str, password: str) -> None:
        try:
            self.client.admin_set_user_password(
                UserPoolId=self.pool, Username=username, Password=password, Permanent=False
            )
        except self.client.exceptions.UserNotFoundException:
            raise CarewireCliError(f"no user {username} in the user pool") from None

    def _call(self, operation: str, username: str) -> dict[str, Any]:
        try:
            got: dict[str, Any] = getattr(self.client, operation)(UserPoolId=self.pool, Username=username)
        except self.client.exceptions.UserNotFoundException:
            raise CarewireCliError(f"no user {username} in the user pool") from None
        return got

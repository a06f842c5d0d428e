"""Console accounts: `carewire users add|reset|disable|list` (the local stage's users table)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from chalicelib.auth import ROLES
from chalicelib.cli import CarewireCliError, _echo_json, _runtime, cli

if TYPE_CHECKING:
    from chalicelib.identity.accounts import Accounts


def _by() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _accounts(ctx: click.Context) -> Iterator[tuple[Accounts, Any]]:
    """The users table of the stage (and its runtime), with account errors as one-line CLI errors."""
    from chalicelib.identity.accounts import AccountError, Accounts

    with _runtime(ctx) as rt:
        try:
            yield Accounts(rt.dynamodb, rt.settings.table("users")), rt
        except AccountError as exc:
            raise CarewireCliError(str(exc)) from exc


@cli.group()
def users() -> None:
    """Console accounts: one per person, with roles. In AWS, people are Cognito users (groups = roles)."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="repeat for several")
@click.option("--zone", default="UTC", show_default=True, help="IANA time zone the console shows times in")
@click.option("--replace", is_flag=True, help="update an existing account's roles and give a new password")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="the console's base address")
@click.pass_context
def add(ctx: click.Context, username: str, roles: tuple[str, ...], zone: str, replace: bool, url: str) -> None:
    """Create an account and print its one-time password (shown once, stored only as a hash)."""
    with _accounts(ctx) as (accounts, rt):
        account, password = accounts.add(username, list(roles), rt.clock(), _by(), zone=zone, replace=replace)
    click.echo(f"{account.username} ({', '.join(sorted(account.roles))}, {account.zone})")
    click.echo(f"  sign in at {url.rstrip('/')}/console  user {account.username}  password {password}")


@users.command("reset")
@click.argument("username")
@click.pass_context
def reset(ctx: click.Context, username: str) -> None:
    """A new one-time password; every session of the account ends."""
    with _accounts(ctx) as (accounts, rt):
        password = accounts.reset(username, rt.clock(), _by())
    click.echo(f"{username}  password {password}")


@users.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx: click.Context, username: str) -> None:
    """Refuse the account's sign-ins and end its sessions."""
    with _accounts(ctx) as (accounts, rt):
        accounts.disable(username, rt.clock(), _by())
    click.echo(f"{username} disabled")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_users(ctx: click.Context, as_json: bool) -> None:
    """Accounts with their roles and zones (never their hashes)."""
    with _accounts(ctx) as (accounts, _rt):
        rows = [a.to_doc() for a in accounts.list()]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        state = " (disabled)" if row["disabled"] else ""
        click.echo(f"{row['username']:<20} {', '.join(row['roles']):<30} {row['zone']}{state}")

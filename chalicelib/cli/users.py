"""Console accounts: `carewire users add|reset|disable|list` (the local stage's users table; in an AWS stage the
people of its Cognito user pool, `pool_users.py`)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from chalicelib.auth import ROLES
from chalicelib.cli import CarewireCliError, _echo_json, _runtime, _settings, cli

if TYPE_CHECKING:
    from chalicelib.cli.pool_users import PoolUsers
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


@contextmanager
def _pool(ctx: click.Context) -> Iterator[tuple[PoolUsers, str]]:
    """An AWS stage's Cognito user pool (from its recorded outputs) and the console's address there."""
    import boto3

    from chalicelib.cli import NotFoundError, _use_stage_outputs
    from chalicelib.cli.pool_users import OUTPUT, PoolUsers
    from chalicelib.identity.accounts import AccountError

    outputs = _use_stage_outputs(ctx)
    pool = outputs.outputs.get(OUTPUT)
    if not pool:
        raise NotFoundError(f"stage {outputs.stage!r} has no {OUTPUT} output: deploy it again with this version")
    try:
        yield PoolUsers(boto3.client("cognito-idp", region_name=outputs.region), pool), outputs.api_url
    except AccountError as exc:
        raise CarewireCliError(str(exc)) from exc


def _in_aws(ctx: click.Context) -> bool:
    return not _settings(ctx).is_local


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
    """Create an account and print its one-time password (shown once, stored only as a hash). In an AWS stage: a
    user of its Cognito pool with a temporary password, which they replace at their first sign-in."""
    if _in_aws(ctx):
        with _pool(ctx) as (pool, api_url):
            password = pool.add(username, list(roles), zone, replace)
        click.echo(f"{username} ({', '.join(sorted(roles))}, {zone}) in the stage's Cognito user pool")
        address = f"{api_url.rstrip('/')}/console" if api_url else "the stage's /console"
        click.echo(f"  sign in at {address}  user {username}  temporary password {password}")
        return
    with _accounts(ctx) as (accounts, rt):
        account, password = accounts.add(username, list(roles), rt.clock(), _by(), zone=zone, replace=replace)
    click.echo(f"{account.username} ({', '.join(sorted(account.roles))}, {account.zone})")
    click.echo(f"  sign in at {url.rstrip('/')}/console  user {account.username}  password {password}")


@users.command("reset")
@click.argument("username")
@click.pass_context
def reset(ctx: click.Context, username: str) -> None:
    """A new one-time password; every session of the account ends (AWS: the pool user's tokens are revoked)."""
    if _in_aws(ctx):
        with _pool(ctx) as (pool, _api_url):
            click.echo(f"{username}  temporary password {pool.reset(username)}")
        return
    with _accounts(ctx) as (accounts, rt):
        password = accounts.reset(username, rt.clock(), _by())
    click.echo(f"{username}  password {password}")


@users.command("disable")
@click.argument("username")
@click.pass_context
def disable(ctx: click.Context, username: str) -> None:
    """Refuse the account's sign-ins and end its sessions."""
    if _in_aws(ctx):
        with _pool(ctx) as (pool, _api_url):
            pool.disable(username)
        click.echo(f"{username} disabled")
        return
    with _accounts(ctx) as (accounts, rt):
        accounts.disable(username, rt.clock(), _by())
    click.echo(f"{username} disabled")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_users(ctx: click.Context, as_json: bool) -> None:
    """Accounts with their roles and zones (never their hashes)."""
    if _in_aws(ctx):
        with _pool(ctx) as (pool, _api_url):
            rows = pool.people()
    else:
        with _accounts(ctx) as (accounts, _rt):
            rows = [a.to_doc() for a in accounts.list()]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        state = " (disabled)" if row["disabled"] else ""
        click.echo(f"{row['username']:<20} {', '.join(row['roles']):<30} {row['zone']}{state}")

"""`carewire users` on DynamoDB Local: one account per person, a one-time password printed once and stored
only as a hash, resets and disables that end sessions."""

from __future__ import annotations

import re

from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.identity.accounts import Accounts
from chalicelib.runtime import Runtime


def test_add_prints_a_password_that_signs_in_and_is_stored_only_as_a_hash(stack: Runtime) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli, ["users", "add", "maria", "--role", "agent", "--role", "supervisor", "--zone", "Asia/Manila"]
    )
    assert added.exit_code == 0, added.output
    password = re.search(r"password (\S+)", added.output).group(1)  # type: ignore[union-attr]
    accounts = Accounts(stack.dynamodb, stack.settings.table("users"))
    account = accounts.sign_in("maria", password, stack.clock())
    assert account is not None and account.roles == frozenset({"agent", "supervisor"})
    raw = stack.dynamodb.get_item(TableName=stack.settings.table("users"), Key={"username": {"S": "maria"}})["Item"]
    assert password not in str(raw) and raw["password_hash"]["S"].startswith("scrypt$")
    assert raw["created_by"]["S"].startswith("cli:")

    again = runner.invoke(cli, ["users", "add", "maria", "--role", "agent"])
    assert again.exit_code == 2 and "exists" in again.output
    for bad in (
        ["users", "add", "Maria!", "--role", "agent"],
        ["users", "add", "zed", "--role", "agent", "--zone", "Mars/Base"],
    ):
        assert runner.invoke(cli, bad).exit_code == 2
    assert runner.invoke(cli, ["users", "add", "zed", "--role", "wizard"]).exit_code == 2

    reset = runner.invoke(cli, ["users", "reset", "maria"])
    new_password = re.search(r"password (\S+)", reset.output).group(1)  # type: ignore[union-attr]
    assert accounts.sign_in("maria", password, stack.clock()) is None
    renewed = accounts.sign_in("maria", new_password, stack.clock())
    assert renewed is not None and renewed.session_epoch == account.session_epoch + 1

    assert runner.invoke(cli, ["users", "disable", "maria"]).exit_code == 0
    assert accounts.sign_in("maria", new_password, stack.clock()) is None
    listed = runner.invoke(cli, ["users", "list"])
    assert "maria" in listed.output and "(disabled)" in listed.output and "scrypt" not in listed.output
    assert runner.invoke(cli, ["users", "reset", "nobody"]).exit_code == 2


def test_five_wrong_passwords_lock_the_account_for_five_minutes(stack: Runtime) -> None:
    from datetime import timedelta

    accounts = Accounts(stack.dynamodb, stack.settings.table("users"))
    _account, password = accounts.add("nina", ["agent"], stack.clock(), "test")
    now = stack.clock()
    for _ in range(5):
        assert accounts.sign_in("nina", "guess", now) is None
    assert accounts.sign_in("nina", password, now + timedelta(minutes=4)) is None  # locked, even the right one
    assert accounts.sign_in("nina", password, now + timedelta(minutes=6)) is not None
    assert accounts.sign_in("nina", "guess", now + timedelta(minutes=7)) is None  # the count started again
    assert accounts.sign_in("nina", password, now + timedelta(minutes=7)) is not None

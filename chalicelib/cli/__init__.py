"""`carewire`: the command line for ops, marketers and agents. Known errors print one line and exit 2."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from chalicelib.settings import Settings


class CarewireCliError(click.ClickException):
    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@contextmanager
def _local_stack(settings: Settings, announce: bool = False) -> Iterator[Any]:
    """The local stack, with its known failures (no Java, stale local tables) as one-line errors."""
    from chalicelib.local.dynamodb_local import DynamoDBLocalError
    from chalicelib.local.stack import local_stack
    from chalicelib.store.tables import TableDrift

    try:
        with local_stack(settings, announce=announce) as runtime:
            yield runtime
    except (DynamoDBLocalError, TableDrift) as exc:
        raise CarewireCliError(str(exc)) from exc


@contextmanager
def _runtime(ctx: click.Context) -> Iterator[Any]:
    """A runtime on the local stack (local stage) or on the stage's AWS resources."""
    settings = _settings(ctx)
    if settings.is_local:
        with _local_stack(settings) as runtime:
            yield runtime
    else:
        from chalicelib.runtime import Runtime

        yield Runtime(settings)


def _echo_json(rows: Any) -> None:
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True))


@click.group()
@click.option(
    "--stage",
    envvar="CAREWIRE_STAGE",
    default="local",
    show_default=True,
    help="local (DynamoDB Local under .carewire/) or a deployed stage",
)
@click.option(
    "--policies",
    "policies_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CAREWIRE_POLICIES_DIR",
    help="policy directory (default: policies/)",
)
@click.pass_context
def cli(ctx: click.Context, stage: str, policies_dir: Path | None) -> None:
    """Carewire: social customer care for telecom operators."""
    env = dict(os.environ, CAREWIRE_STAGE=stage)
    if policies_dir is not None:
        env["CAREWIRE_POLICIES_DIR"] = str(policies_dir)
    ctx.obj = {"settings": Settings.from_env(env)}


def main() -> None:
    cli(prog_name="carewire")


# Each domain module registers its commands on `cli`; imported last because they import `cli` from here.
from chalicelib.cli import (  # noqa: E402,F401
    escalations,
    incidents,
    local,
    model,
    notices,
    operations,
    outbox,
    privacy,
    records,
    replay,
    users,
)

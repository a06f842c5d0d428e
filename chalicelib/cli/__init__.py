"""`carewire`: the command line for ops, marketers and agents.

Every known error prints one line on stderr and exits with a code that says what kind it is:
2 usage or invalid input (also click's own usage errors), 3 not found or conflict, 4 infrastructure (AWS,
DynamoDB Local, the network). 1 is left to failures that are the answer itself (a failing policy test).
"""

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
    """Usage or invalid input: exit 2."""

    exit_code = 2


class NotFoundError(CarewireCliError):
    """Something named does not exist, or is in a state that conflicts with the request: exit 3."""

    exit_code = 3


class InfrastructureError(CarewireCliError):
    """AWS or a local service failed or refused: exit 4."""

    exit_code = 4


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _is_conflict(cause: BaseException | None) -> bool:
    """Domain errors that mean "not found" or "conflict" (exit 3), wherever a command wraps them: the one map."""
    if cause is None:
        return False
    from chalicelib.escalations.errors import EscalationConflict, EscalationNotFound
    from chalicelib.notices.errors import InvalidTransition, NoticeExists, NoticeNotFound, StaleVersion

    kinds = (EscalationNotFound, EscalationConflict, NoticeNotFound, NoticeExists, StaleVersion, InvalidTransition)
    return isinstance(cause, kinds)


class _Group(click.Group):
    """Turns AWS SDK failures (no credentials, no region, access denied, a missing resource) into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CarewireCliError as exc:
            if type(exc) is CarewireCliError and _is_conflict(exc.__cause__):
                raise NotFoundError(exc.message) from exc.__cause__
            raise
        except click.ClickException:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "boto3")):
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                if code in ("ResourceNotFoundException", "ParameterNotFound", "QueueDoesNotExist", "NoSuchBucket"):
                    raise NotFoundError(f"AWS: {_one_line(exc)}") from exc
                raise InfrastructureError(f"AWS: {_one_line(exc)}") from exc
            raise


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
    except DynamoDBLocalError as exc:
        raise InfrastructureError(str(exc)) from exc
    except TableDrift as exc:
        raise NotFoundError(str(exc)) from exc


@contextmanager
def _runtime(ctx: click.Context) -> Iterator[Any]:
    """A runtime on the local stack (local stage) or on the stage's AWS resources."""
    settings = _settings(ctx)
    if settings.is_local:
        with _local_stack(settings) as runtime:
            yield runtime
    else:
        from chalicelib.runtime import Runtime

        _use_stage_outputs(ctx)
        yield Runtime(_settings(ctx))


def _use_stage_outputs(ctx: click.Context) -> Any:
    """A deployed stage's recorded outputs (tables, queues, region), applied to this process's environment."""
    from chalicelib.cli.stages import StageNotDeployed, read_outputs

    settings = _settings(ctx)
    try:
        outputs = read_outputs(settings.home, settings.stage)
    except StageNotDeployed as exc:
        raise NotFoundError(str(exc)) from exc
    os.environ.update(outputs.env())
    ctx.obj["settings"] = Settings.from_env(dict(os.environ, CAREWIRE_STAGE=settings.stage))
    return outputs


def _echo_json(rows: Any) -> None:
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True))


@click.group(cls=_Group)
@click.version_option(package_name="carewire", prog_name="carewire")
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
import chalicelib.cli.deploy  # noqa: E402
import chalicelib.cli.recover  # noqa: E402
import chalicelib.cli.secrets  # noqa: E402,F401
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

"""Service notices for marketers (issue 5): publish a notice file or a draft, list, show, resolve, expire.

Talks to the notices table through the runtime: the local stack in the local stage, the stage's AWS
resources otherwise. Each change uses the version just read, so a concurrent edit fails (exit 2) instead
of being overwritten.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, cli
from chalicelib.model import Notice


def _author() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _notices(ctx: click.Context) -> Iterator[Any]:
    """The runtime's `Notices`; notices errors become one line and exit 2."""
    from chalicelib.notices.errors import NoticeError

    with _runtime(ctx) as runtime:
        try:
            yield runtime.notices
        except NoticeError as exc:
            raise CarewireCliError(str(exc)) from exc


def _line(notice: Notice) -> str:
    window = f"{notice.starts_at} → {notice.ends_at or 'open'}"
    title = notice.title[notice.language]
    return f"{notice.id:<28} v{notice.version:<3} {notice.status:<9} {notice.kind:<13} {window}  {title}"


@cli.group()
def notices() -> None:
    """Service notices: publish, list, show, resolve, expire."""


@notices.command("publish")
@click.argument("target")
@click.pass_context
def notices_publish(ctx: click.Context, target: str) -> None:
    """Publish TARGET: a notice file (YAML; created, or updated when its `id` exists) or the ID of a draft."""
    path = Path(target)
    with _notices(ctx) as service:
        if path.suffix in (".yaml", ".yml") or path.exists():
            notice = service.publish_file(path, _author())
        else:
            notice = service.publish(target, service.get(target).version, _author())
    click.echo(_line(notice))


@notices.command("list")
@click.option("--status", default=None, help="draft, scheduled, active, resolved or expired")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def notices_list(ctx: click.Context, status: str | None, as_json: bool) -> None:
    with _notices(ctx) as service:
        found = service.find(status)
    if as_json:
        _echo_json([n.to_doc() for n in found])
        return
    for notice in found:
        click.echo(_line(notice))


@notices.command("show")
@click.argument("notice_id")
@click.pass_context
def notices_show(ctx: click.Context, notice_id: str) -> None:
    """The notice as JSON, with its history of changes."""
    with _notices(ctx) as service:
        _echo_json(service.get(notice_id).to_doc())


@notices.command("resolve")
@click.argument("notice_id")
@click.pass_context
def notices_resolve(ctx: click.Context, notice_id: str) -> None:
    """Resolve a live notice and queue its "service restored" follow-ups. On a notice already resolved,
    queue any follow-up still missing (never one twice)."""
    with _notices(ctx) as service:
        current = service.get(notice_id)
        if current.status == "resolved":
            notice, queued = current, service.follow_up(current)
        else:
            resolution = service.resolve(notice_id, current.version, _author())
            notice, queued = resolution.notice, resolution.follow_ups
    click.echo(f"{_line(notice)}\n{queued} follow-up(s) queued")


@notices.command("expire")
@click.argument("notice_id")
@click.pass_context
def notices_expire(ctx: click.Context, notice_id: str) -> None:
    """Withdraw a draft or live notice: it is never cited again."""
    with _notices(ctx) as service:
        notice = service.expire(notice_id, service.get(notice_id).version, _author())
    click.echo(_line(notice))

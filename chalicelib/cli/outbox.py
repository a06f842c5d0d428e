"""The outbox for ops: list, show, retry, cancel; resume a channel paused by a token that stopped working."""

from __future__ import annotations

from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, cli
from chalicelib.clock import iso
from chalicelib.outbox.item import STATES, OutboxItem


def _line(item: OutboxItem) -> str:
    error = f"  [{item.error}]" if item.error and item.status != "sent" else ""
    return (
        f"{item.created_at}  {item.status:<9} {item.kind:<16} {item.channel:<10} {item.reply_id:<32} "
        f"{item.platform_id or '-':<22} attempts {item.attempts}{error}"
    )


@cli.group()
def outbox() -> None:
    """Everything Carewire will say on the platforms, and what became of it."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATES), default=None, help="one state (default: every state)")
@click.option("--limit", type=click.IntRange(1, 5000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def outbox_list(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """Oldest first within each state."""
    with _runtime(ctx) as runtime:
        items = [i for s in ([status] if status else STATES) for i in runtime.outbox.by_status(s, limit)][:limit]
    if as_json:
        _echo_json([i.to_doc() for i in items])
        return
    for item in items:
        click.echo(_line(item))


@outbox.command("show")
@click.argument("reply_id")
@click.pass_context
def outbox_show(ctx: click.Context, reply_id: str) -> None:
    with _runtime(ctx) as runtime:
        item = runtime.outbox.get(reply_id)
    if item is None:
        raise CarewireCliError(f"no outbox item {reply_id!r}")
    _echo_json(item.to_doc())


def _change(ctx: click.Context, reply_id: str, verb: str) -> OutboxItem:
    with _runtime(ctx) as runtime:
        item = runtime.outbox.get(reply_id)
        if item is None:
            raise CarewireCliError(f"no outbox item {reply_id!r}")
        change: Any = runtime.outbox.retry if verb == "retry" else runtime.outbox.cancel
        changed: OutboxItem | None = change(reply_id, runtime.clock())
    if changed is None:
        allowed = "failed, held or unknown" if verb == "retry" else "pending, held, unknown or failed"
        raise CarewireCliError(f"{reply_id} is {item.status}; only a {allowed} item can be {verb}ed")
    return changed


@outbox.command("retry")
@click.argument("reply_id")
@click.pass_context
def outbox_retry(ctx: click.Context, reply_id: str) -> None:
    """Send a failed, held or unknown item again, with fresh attempts. For an unknown or held item, check the
    platform first: if it is there, cancel instead."""
    _change(ctx, reply_id, "retry")
    click.echo(f"{reply_id}: pending again")


@outbox.command("cancel")
@click.argument("reply_id")
@click.pass_context
def outbox_cancel(ctx: click.Context, reply_id: str) -> None:
    """Never send it (anything not sent and not in flight)."""
    _change(ctx, reply_id, "cancel")
    click.echo(f"{reply_id}: cancelled")


@outbox.command("resume")
@click.argument("channel")
@click.pass_context
def outbox_resume(ctx: click.Context, channel: str) -> None:
    """Mark a channel healthy again (after its token was renewed): its waiting items go out."""
    with _runtime(ctx) as runtime:
        if channel not in runtime.channels:
            raise CarewireCliError(f"unknown channel {channel!r}; known: {sorted(runtime.channels)}")
        runtime.outbox.set_health(channel, True, "resumed by ops", runtime.clock())
    click.echo(f"{channel}: resumed")


def channel_health(runtime: Any, channel: str) -> dict[str, Any]:
    """A channel's delivery state: healthy or not (and why, since when), paused until, and a one-line summary."""
    state = runtime.outbox.channel_state(channel)
    healthy = state.get("health", "healthy") == "healthy"
    doc = {"healthy": healthy, "reason": state.get("health_reason"), "since": state.get("health_since")}
    paused = state.get("paused_until")
    if paused and paused > iso(runtime.clock()):
        doc["paused_until"] = paused
    if healthy:
        doc["summary"] = "sending" + (
            f" (paused until {paused} by the platform's limit)" if "paused_until" in doc else ""
        )
    else:
        doc["summary"] = (
            f"UNHEALTHY since {doc['since']}: {doc['reason']} (outbox paused; `carewire outbox resume {channel}`)"
        )
    return doc

"""The escalation queue for agents and ops: list, claim, resolve, stats (straight to the store)."""

from __future__ import annotations

import getpass
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, cli
from chalicelib.escalations.errors import EscalationError


def _default_agent() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def _line(e: dict[str, Any]) -> str:
    holder = f" held by {e['agent']} until {e['lease_until']}" if e.get("status") == "claimed" else ""
    return (
        f"P{e['priority']} due {e['due_at']}  {e['queue']:<11} {e['escalation_id']}  {e['post']['key']:<26}"
        f" sla {e.get('sla_state', 'ok')}{holder}"
    )


@cli.group()
def escalations() -> None:
    """The escalation queue."""


@escalations.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--queue", default=None, help="one queue, most urgent first (default: every queue)")
@click.option("--status", type=click.Choice(["open", "claimed", "resolved"]), default="open", show_default=True)
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--days", type=click.IntRange(1, 31), default=1, show_default=True, help="resolved: how many UTC days")
@click.pass_context
def escalations_list(ctx: click.Context, as_json: bool, queue: str | None, status: str, limit: int, days: int) -> None:
    """Through the queue's index: open or claimed items most urgent first; resolved ones newest first."""
    with _runtime(ctx) as runtime:
        q = runtime.escalations
        try:
            if status == "resolved":
                rows = q.resolved(runtime.clock(), queue, days=days, limit=limit)
            else:
                names = [queue] if queue is not None else q.queue_names
                heads = [q.list_queue(name, status=status, limit=limit) for name in names]
                rows = sorted((e for head in heads for e in head), key=lambda e: e["rank"])[:limit]
        except EscalationError as exc:
            raise CarewireCliError(str(exc)) from exc
    if as_json:
        _echo_json(rows)
        return
    for e in rows:
        click.echo(_line(e))


@escalations.command("claim")
@click.option("--queue", required=True)
@click.option("--agent", default=_default_agent, show_default="cli:$USER", help="who takes it")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def escalations_claim(ctx: click.Context, queue: str, agent: str, as_json: bool) -> None:
    """Take the most urgent open item of a queue, with a lease."""
    with _runtime(ctx) as runtime:
        try:
            claimed = runtime.escalations.claim_next(queue, agent, runtime.clock())
        except EscalationError as exc:
            raise CarewireCliError(str(exc)) from exc
    if claimed is None:
        raise CarewireCliError(f"queue {queue!r} is empty")
    if as_json:
        _echo_json(claimed)
    else:
        click.echo(_line(claimed))


@escalations.command("resolve")
@click.argument("escalation_id")
@click.option("--outcome", required=True, help="answered, moved_to_dm, no_action_needed, duplicate, spam_or_abuse")
@click.option("--agent", default=_default_agent, show_default="cli:$USER", help="the lease holder")
@click.option("--force", is_flag=True, help="as a supervisor: resolve whoever holds it")
@click.pass_context
def escalations_resolve(ctx: click.Context, escalation_id: str, outcome: str, agent: str, force: bool) -> None:
    with _runtime(ctx) as runtime:
        try:
            done = runtime.escalations.resolve(escalation_id, agent, outcome, runtime.clock(), force=force)
        except EscalationError as exc:
            raise CarewireCliError(str(exc)) from exc
    met = {True: "met", False: "missed"}.get(done.get("sla_met"), "decided when the reply is delivered")
    click.echo(f"resolved {done['escalation_id']} ({done['outcome']}); SLA {met}")


@escalations.command("reply")
@click.argument("escalation_id")
@click.argument("text")
@click.option("--private/--public", default=None, help="default: as the customer wrote (a DM gets a DM)")
@click.option("--agent", default=_default_agent, show_default="cli:$USER", help="the lease holder")
@click.option("--force", is_flag=True, help="as a supervisor: answer whoever holds it")
@click.pass_context
def escalations_reply(
    ctx: click.Context, escalation_id: str, text: str, private: bool | None, agent: str, force: bool
) -> None:
    """Answer the customer through the outbox; the item is marked answered once the platform has it."""
    with _runtime(ctx) as runtime:
        try:
            reply = runtime.escalations.reply(escalation_id, agent, text, runtime.clock(), private=private, force=force)
        except EscalationError as exc:
            raise CarewireCliError(str(exc)) from exc
    again = " (already queued: the same answer)" if reply.get("duplicate") else ""
    click.echo(f"queued {reply['reply_id']} ({reply['visibility']} {reply['kind']}){again}")


@escalations.command("index-authors")
@click.option("--dry-run", is_flag=True, help="count what would be given a key, change nothing")
@click.pass_context
def escalations_index_authors(ctx: click.Context, dry_run: bool) -> None:
    """Once after upgrading: put items opened before the by_author index into it (forgotten ones stay out), so
    the console finds a customer's earlier cases. Safe to run again; reads the whole table."""
    with _runtime(ctx) as runtime:
        read, added = runtime.escalations.index_authors(apply=not dry_run)
    verb = "would be given" if dry_run else "given"
    click.echo(f"{read} escalations read; {added} {verb} their customer's key")


@escalations.command("stats")
@click.option("--json", "as_json", is_flag=True)
@click.option("--days", type=click.IntRange(1, 31), default=1, show_default=True, help="SLA compliance window")
@click.pass_context
def escalations_stats(ctx: click.Context, as_json: bool, days: int) -> None:
    """Open and claimed items by queue and priority, oldest wait, SLA compliance."""
    with _runtime(ctx) as runtime:
        stats = runtime.escalations.stats(runtime.clock(), days=days)
    if as_json:
        _echo_json(stats)
        return
    click.echo(f"{'queue':<11} {'open':>5} {'claimed':>8} {'oldest wait':>12}  by priority   SLA at risk/breached")
    for name, q in stats["queues"].items():
        by_priority = " ".join(f"P{p}:{n}" for p, n in q["by_priority"].items()) or "-"
        wait = f"{q['oldest_wait_seconds'] // 60} min" if q["oldest_created_at"] else "-"
        states = f"{q['sla_state'].get('at_risk', 0)}/{q['sla_state'].get('breached', 0)}"
        click.echo(f"{name:<11} {q['open']:>5} {q['claimed']:>8} {wait:>12}  {by_priority:<13} {states}")
    sla = stats["sla"]
    rate = f"{sla['compliance']:.0%}" if sla["compliance"] is not None else "n/a"
    click.echo(f"SLA compliance, last {sla['days']} day(s): {sla['met']}/{sla['resolved']} resolved in time ({rate})")

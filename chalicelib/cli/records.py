"""Stored records: decisions."""

from __future__ import annotations

import click

from chalicelib.cli import CarewireCliError, NotFoundError, _echo_json, _runtime, cli


@cli.group()
def decisions() -> None:
    """Stored decisions (the audit trail)."""


@decisions.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--channel", "channel_ids", multiple=True, help="only this channel (repeatable; default: every channel)")
@click.option("--before", help="page cursor: decisions before this ISO time, or TIME,POST_KEY as printed")
@click.pass_context
def decisions_list(
    ctx: click.Context, as_json: bool, limit: int, channel_ids: tuple[str, ...], before: str | None
) -> None:
    """Newest first, a page at a time, through the by_channel index."""
    with _runtime(ctx) as runtime:
        unknown = sorted(set(channel_ids) - set(runtime.channels))
        if unknown:
            raise CarewireCliError(
                f"unknown channel(s) {', '.join(unknown)}; known: {', '.join(sorted(runtime.channels))}"
            )
        rows = runtime.store.decisions(limit, channels=list(channel_ids or runtime.channels), before=before)
    if as_json:
        _echo_json(rows)
        return
    for d in rows:
        c = d["classification"]
        click.echo(f"{d['decided_at']}  {d['post_key']:<26} {c['topic']:<18} {d['action']:<9} {d['rule'] or '-'}")
    if len(rows) == limit:
        click.echo(f"(more: --before {rows[-1]['decided_at']},{rows[-1]['post_key']})", err=True)


@decisions.command("show")
@click.argument("post_key")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def decisions_show(ctx: click.Context, post_key: str, as_json: bool) -> None:
    """Explain one decision (POST_KEY is platform#post_id): rules evaluated, what fired, guardrails, evidence."""
    with _runtime(ctx) as runtime:
        decision = runtime.store.decision(post_key)
    if decision is None:
        raise NotFoundError(f"no decision for {post_key!r}")
    if as_json:
        _echo_json(decision)
        return
    c = decision["classification"]
    click.echo(f"{decision['post_key']} on {decision['channel']} at {decision['decided_at']}")
    click.echo(f"  decided: {decision['action']} by rule {decision['rule'] or '(none)'} — {decision['reason']}")
    for action in decision.get("actions", []):
        details = ", ".join(f"{k}={v}" for k, v in sorted(action.items()) if k not in ("type", "rule"))
        click.echo(f"  action: {action['type']} ({details}) from {action['rule']}")
    for reply in decision.get("replies", []):
        where = f"{c['language']}/{decision['platform']}{', private' if reply.get('private') else ''}"
        click.echo(f"  said ({where}, {reply.get('template') or '-'}): {reply['text']}")
    if decision.get("notice"):
        click.echo(f"  cited notice: {decision['notice']['id']} version {decision['notice']['version']}")
    click.echo("  rules: " + " → ".join(decision["rules_evaluated"]))
    for note in decision.get("guardrails", []):
        click.echo(f"  guardrail: {note}")
    for shadow in decision.get("shadow", []):
        click.echo(f"  shadow: {shadow['rule']} would have done {[a['type'] for a in shadow['actions']]}")
    click.echo(
        f"  classified: {c['topic']}/{c.get('intent') or '-'}, {c['sentiment']['label']} "
        f"({c['sentiment']['score']:+.2f}), churn {c['churn_risk']}, language {c['language']}"
    )
    for name, evidence in sorted(c.get("evidence", {}).items()):
        if evidence:
            click.echo(f"    {name}: {'; '.join(map(str, evidence))}")

"""Stored records: decisions."""

from __future__ import annotations

import click

from chalicelib.cli import _echo_json, _runtime, cli


@cli.group()
def decisions() -> None:
    """Stored decisions (the audit trail)."""


@decisions.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_context
def decisions_list(ctx: click.Context, as_json: bool, limit: int) -> None:
    with _runtime(ctx) as runtime:
        rows = runtime.store.decisions(limit)
    if as_json:
        _echo_json(rows)
        return
    for d in rows:
        c = d["classification"]
        click.echo(f"{d['decided_at']}  {d['post_key']:<26} {c['topic']:<18} {d['action']:<9} {d['rule'] or '-'}")

"""The escalation queue for agents: list."""

from __future__ import annotations

import click

from chalicelib.cli import _echo_json, _runtime, cli


@cli.group()
def escalations() -> None:
    """The escalation queue."""


@escalations.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--queue", default=None)
@click.pass_context
def escalations_list(ctx: click.Context, as_json: bool, queue: str | None) -> None:
    with _runtime(ctx) as runtime:
        rows = runtime.store.escalations(queue)
    if as_json:
        _echo_json(rows)
        return
    for e in rows:
        click.echo(f"P{e['priority']} due {e['due_at']}  {e['queue']:<11} {e['post']['key']:<26} rule {e['rule']}")

"""Customers' personal data: erase one customer (`carewire forget`)."""

from __future__ import annotations

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, cli


@cli.command("forget")
@click.argument("author")
@click.option("--platform", help="only this platform's posts (e.g. x); default: every platform")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def forget(ctx: click.Context, author: str, platform: str | None, yes: bool, as_json: bool) -> None:
    """Erase AUTHOR's data (an author id, or @handle) across every table: decisions and escalations are
    redacted to their audit skeleton; parked events, idempotency records, reply budgets and unsent
    replies are deleted. Prints counts per table, never the data."""
    from chalicelib.privacy import Forgetter

    if not author.strip():
        raise CarewireCliError("give an author id or @handle")
    if not yes:
        click.confirm(f"Erase every stored post and reply of {author!r}? This cannot be undone", abort=True)
    with _runtime(ctx) as runtime:
        report = Forgetter(runtime.dynamodb, runtime.settings, runtime.clock()).forget(author, platform)
    doc = report.to_doc()
    if as_json:
        _echo_json(doc)
        return
    click.echo(f"forgot {author}: {doc['total']} row(s)")
    for kind in ("redacted", "deleted"):
        for table, n in doc[kind].items():
            click.echo(f"  {kind:<9} {n:>5}  {table}")

"""Storms: near-duplicate similarity (`carewire similar`) and incidents (`carewire incidents ...`)."""

from __future__ import annotations

import json
import sys

import click

from chalicelib.cli import NotFoundError, _echo_json, _runtime, cli


@cli.command("similar")
def similar() -> None:
    """Read JSONL {"id", "a", "b"} on stdin; write one {"id", "similarity"} (0..1) per line, from the same
    signature storm clustering uses. A line that is not such an object gets {"id", "error"}; the exit code
    is then 2, after every line has been answered."""
    from chalicelib.incidents.signature import signature, similarity

    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            bad += 1
            click.echo(json.dumps({"id": None, "line": number, "error": f"not JSON: {exc}"}))
            continue
        pair_id = row.get("id") if isinstance(row, dict) else None
        a, b = (row.get("a"), row.get("b")) if isinstance(row, dict) else (None, None)
        if not isinstance(a, str) or not isinstance(b, str):
            bad += 1
            click.echo(json.dumps({"id": pair_id, "line": number, "error": '"a" and "b" must be strings'}))
            continue
        score = similarity(signature(a), signature(b))
        click.echo(json.dumps({"id": pair_id, "similarity": round(score, 4)}))
    if bad:
        click.echo(f"{bad} line(s) could not be read", err=True)
        sys.exit(2)


@cli.group()
def incidents() -> None:
    """Storms: incidents that group posts about one problem."""


@incidents.command("list")
@click.option("--status", type=click.Choice(["open", "closed"]), default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def incidents_list(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    with _runtime(ctx) as runtime:
        rows = runtime.storms.incidents(limit, status)
    if as_json:
        _echo_json(rows)
        return
    for i in rows:
        where = i.get("region") or "everywhere"
        click.echo(
            f"{i['opened_at']}  {i['incident_id']}  {i['status']:<6} {i['topic']:<10} {where:<16} "
            f"{i.get('posts', 0)} post(s) attached  escalation {i['escalation_id']}  notice {i['notice_id']}"
        )


@incidents.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def incidents_show(ctx: click.Context, incident_id: str, as_json: bool) -> None:
    with _runtime(ctx) as runtime:
        incident = runtime.storms.get(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        examples = runtime.storms.examples(incident_id)
    if as_json:
        _echo_json({"incident": incident, "examples": examples})
        return
    where = incident.get("region") or "every region"
    click.echo(f"{incident['incident_id']}: {incident['status']} {incident['topic']} in {where}")
    click.echo(
        f"  opened {incident['opened_at']} on {incident.get('window_count')} posts in the window "
        f"(baseline {incident.get('baseline_per_minute')}/min); {incident.get('posts', 0)} post(s) attached"
    )
    click.echo(
        f"  escalation {incident['escalation_id']}; draft notice {incident['notice_id']} "
        f"(complete it, then `carewire notices publish {incident['notice_id']}`)"
    )
    if incident.get("closed_at"):
        click.echo(f"  closed {incident['closed_at']}: {incident.get('close_reason')}")
    for example in examples:
        click.echo(f"  e.g. {example['post_key']}: {example['text'][:100]}")


@incidents.command("resolve")
@click.argument("incident_id")
@click.pass_context
def incidents_resolve(ctx: click.Context, incident_id: str) -> None:
    """Close an incident now (the storm is over; its key is free for the next one)."""
    import getpass

    with _runtime(ctx) as runtime:
        incident = runtime.storms.get(incident_id)
        if incident is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        if incident["status"] != "open":
            raise NotFoundError(f"incident {incident_id!r} is already {incident['status']}")
        runtime.storms.close(incident_id, runtime.clock(), f"resolved by cli:{getpass.getuser()}")
    click.echo(f"resolved {incident_id}")

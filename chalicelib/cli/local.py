"""Local stack: serve, demo."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import ExitStack
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _local_stack, _runtime, _settings, cli

LISTEN_BACKLOG = 512


@cli.command()
@click.option("--port", type=int, envvar="PORT", default=8000, show_default=True)
@click.option("--demo/--no-demo", default=False, help="replay the demo stream once the server is up")
@click.pass_context
def serve(ctx: click.Context, port: int, demo: bool) -> None:
    """Run the whole local stack: DynamoDB Local, the tables, and Carewire's HTTP server on 127.0.0.1."""
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app
    from chalicelib.local.delivery import local_delivery
    from chalicelib.local.schedules import local_schedules

    settings = _settings(ctx)
    if not settings.is_local:
        raise CarewireCliError("serve runs the local stage only")
    # SIGTERM (kill, timeout, a supervisor) stops the stack as Ctrl-C does: DynamoDB Local is shut down
    # and its data flushed instead of being left running.
    signal.signal(signal.SIGTERM, _interrupt)
    settings.home.mkdir(parents=True, exist_ok=True)
    with _local_stack(settings, announce=True) as runtime, local_delivery(runtime, announce=True), ExitStack() as stack:
        runtime.policy  # noqa: B018 - load and validate policies before taking traffic
        _record_policy_version(runtime)
        runtime.classifier  # noqa: B018
        runtime.queue  # noqa: B018 - start the workers now: what an earlier run accepted is processed first
        stack.enter_context(local_schedules(runtime))  # SLA and storm sweeps, notice expiry: as EventBridge runs them
        config = Config.create(chalice_stage="local", app_name="carewire", chalice_app=app)
        try:
            server = create_local_server(app, config, "127.0.0.1", port)
        except OSError as exc:
            raise CarewireCliError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror} (set PORT)") from exc
        # Chalice's server threads per request but listens with socketserver's backlog of 5: a burst of
        # senders gets connection resets. Listening again on the bound socket raises the backlog.
        server.server.socket.listen(LISTEN_BACKLOG)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        if demo:
            _run_demo(runtime, base_url)
            click.echo(_console_welcome(runtime, base_url))
        click.echo(f"Carewire is serving on {base_url} — webhooks at {base_url}/webhooks/<channel>. Ctrl-C stops.")
        try:
            thread.join()
        except KeyboardInterrupt:
            click.echo("\nstopping…")
        finally:
            server.shutdown()


def _record_policy_version(runtime: Any) -> None:
    import getpass

    from chalicelib.policy.history import record_in_service

    try:
        who = f"serve: {getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        who = "serve"
    recorded = record_in_service(runtime, who)
    if recorded is not None:
        click.echo(f"policies: version {recorded.digest[:12]} recorded (carewire policies history)")


def _console_welcome(runtime: Any, base_url: str) -> str:
    from chalicelib.console.demo import console_welcome

    return console_welcome(runtime, base_url)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_demo(runtime: Any, base_url: str) -> None:
    from chalicelib.local.demo import format_rows, publish_demo_notice, replay
    from chalicelib.local.storm_demo import warm

    warm(runtime, runtime.channels["x-care"].brand)  # before the first post: the storm part needs a baseline
    notice = publish_demo_notice(runtime.notices, runtime.clock())
    click.echo(f"\nPublished the service notice {notice.id!r}: {notice.title[notice.language]}")
    channel = runtime.channels["x-care"]
    secret = runtime.secrets.resolve(channel)
    rows = replay(base_url, channel, runtime.platforms[channel.platform], secret, runtime.store)
    click.echo(f"\nDemo: {len(rows)} signed X deliveries to {base_url}{channel.webhook_path}\n")
    click.echo(format_rows(rows))
    from chalicelib.local import channel_demo

    others = channel_demo.replay(base_url, runtime)
    if others:
        click.echo(f"\nDemo: {len(others)} signed deliveries on the other channels\n")
        click.echo(format_rows(others))
    rows += others
    decided = sum(1 for r in rows if r["decision"])
    click.echo(
        f"\n{decided} decisions in {rows[0]['elapsed_s'] if rows else 0} s; "
        f"escalations open: {len(runtime.store.escalations())}; replies pending: {len(runtime.store.outbox())}\n"
    )
    _show_deliveries(runtime)
    _show_storm(runtime, base_url)


def _show_storm(runtime: Any, base_url: str) -> None:
    """A small storm: a burst of outage posts from one region opens one incident, its escalation and a draft."""
    from chalicelib.local.storm_demo import REGION, storm

    incident = storm(runtime, base_url)
    if incident is None:
        click.echo(f"Storm: the burst from {REGION} opened no incident (see policies/storms.yaml)\n")
        return
    record = runtime.storms.get(incident["incident_id"]) or incident
    click.echo(
        f"Storm: a burst of outage posts from {REGION}: incident {incident['incident_id']} is open "
        f"({record.get('posts', 0)} posts attached to escalation {incident['escalation_id']} on the "
        f"{incident['queue']} queue, one alert); draft notice {incident['notice_id']} is ready: "
        f"`carewire notices publish {incident['notice_id']}`\n"
    )


def _show_deliveries(runtime: Any) -> None:
    """What the outbox delivered to the platform sandbox, with each platform id."""
    from chalicelib.local.delivery import format_deliveries, settled_outbox

    items = settled_outbox(runtime)
    sent = sum(1 for i in items if i.status == "sent")
    click.echo(f"Delivered to the platform sandbox: {sent} of {len(items)} outbox items\n")
    click.echo(format_deliveries(items) + "\n")


@cli.command()
@click.option("--url", default=None, help="a running Carewire (default: start the local stack here)")
@click.pass_context
def demo(ctx: click.Context, url: str | None) -> None:
    """Replay the demo stream through real HTTP with real signatures and print the decisions."""
    if url is None:
        ctx.invoke(serve, port=int(os.environ.get("PORT", "0")) or _free_port(), demo=True)
        return
    with _runtime(ctx) as runtime:
        _run_demo(runtime, url.rstrip("/"))


def _free_port() -> int:
    from chalicelib.local.dynamodb_local import free_port

    return free_port()

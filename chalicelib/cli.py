"""`carewire`: the command line for ops, marketers and agents. Known errors print one line and exit 2."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from chalicelib.settings import Settings


class CarewireCliError(click.ClickException):
    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


@contextmanager
def _runtime(ctx: click.Context) -> Iterator[Any]:
    """A runtime on the local stack (local stage) or on the stage's AWS resources."""
    settings = _settings(ctx)
    if settings.is_local:
        from chalicelib.local.stack import local_stack

        with local_stack(settings) as runtime:
            yield runtime
    else:
        from chalicelib.runtime import Runtime

        yield Runtime(settings)


def _echo_json(rows: Any) -> None:
    click.echo(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True))


@click.group()
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
    os.environ["CAREWIRE_STAGE"] = stage


@cli.command()
@click.option("--port", type=int, envvar="PORT", default=8000, show_default=True)
@click.option("--demo/--no-demo", default=False, help="replay the demo stream once the server is up")
@click.pass_context
def serve(ctx: click.Context, port: int, demo: bool) -> None:
    """Run the whole local stack: DynamoDB Local, the tables, and Carewire's HTTP server on 127.0.0.1."""
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app
    from chalicelib.local.stack import local_stack

    settings = _settings(ctx)
    if not settings.is_local:
        raise CarewireCliError("serve runs the local stage only")
    settings.home.mkdir(parents=True, exist_ok=True)
    with local_stack(settings, announce=True) as runtime:
        runtime.policy  # noqa: B018 - load and validate policies before taking traffic
        runtime.classifier  # noqa: B018
        config = Config.create(chalice_stage="local", app_name="carewire", chalice_app=app)
        try:
            server = create_local_server(app, config, "127.0.0.1", port)
        except OSError as exc:
            raise CarewireCliError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror} (set PORT)") from exc
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{port}"
        if demo:
            _run_demo(runtime, base_url)
        click.echo(f"Carewire is serving on {base_url} — webhooks at {base_url}/webhooks/<channel>. Ctrl-C stops.")
        try:
            thread.join()
        except KeyboardInterrupt:
            click.echo("\nstopping…")
        finally:
            server.shutdown()


def _run_demo(runtime: Any, base_url: str) -> None:
    from chalicelib.local.demo import format_rows, replay

    channel = runtime.channels["x-care"]
    secret = runtime.secrets.resolve(channel)
    rows = replay(base_url, channel, runtime.platforms[channel.platform], secret, runtime.store)
    click.echo(f"\nDemo: {len(rows)} signed X deliveries to {base_url}{channel.webhook_path}\n")
    click.echo(format_rows(rows))
    decided = sum(1 for r in rows if r["decision"])
    click.echo(
        f"\n{decided} decisions in {rows[0]['elapsed_s'] if rows else 0} s; "
        f"escalations open: {len(runtime.store.escalations())}; replies pending: {len(runtime.store.outbox())}\n"
    )


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


@cli.group()
def channels() -> None:
    """Channels (policies/channels.yaml)."""


@channels.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def channels_list(ctx: click.Context, as_json: bool) -> None:
    """Each channel's id, platform and webhook path (and, in the local stage, its development secret)."""
    from chalicelib.channels.config import ChannelConfigError, SecretResolver, load_channels

    settings = _settings(ctx)
    try:
        found = load_channels(settings.policies_dir / "channels.yaml")
    except ChannelConfigError as exc:
        raise CarewireCliError(str(exc)) from exc
    resolver = SecretResolver(settings)
    rows = []
    for channel in found.values():
        row: dict[str, Any] = {
            "id": channel.id,
            "platform": channel.platform,
            "webhook_path": channel.webhook_path,
            "secret_ref": channel.secret.describe(),
            "brand_handles": list(channel.brand_handles),
        }
        if settings.is_local:
            row["development_secret"] = resolver.resolve(channel)
        rows.append(row)
    if as_json:
        _echo_json(rows)
    else:
        for row in rows:
            click.echo(f"{row['id']:<16} {row['platform']:<6} {row['webhook_path']:<24} secret {row['secret_ref']}")


@cli.group()
def policies() -> None:
    """Policies: check, schema."""


@policies.command("check")
@click.pass_context
def policies_check(ctx: click.Context) -> None:
    """Validate every policy file; exit 2 naming the file, rule and field of each error."""
    from chalicelib.channels.config import ChannelConfigError, load_channels
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.loader import load_policy

    directory = _settings(ctx).policies_dir
    problems = []
    try:
        policy = load_policy(directory)
    except PolicyErrors as exc:
        problems += [str(e) for e in exc.errors]
    try:
        load_channels(directory / "channels.yaml")
    except ChannelConfigError as exc:
        problems.append(str(exc))
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(2)
    click.echo(
        f"{directory}: {len(policy.rules)} rules, {len(policy.queues)} queues, "
        f"templates in {sorted(policy.templates)}: OK"
    )


@policies.command("schema")
def policies_schema() -> None:
    """Print the JSON Schema of rule files (for editors)."""
    from chalicelib.policy.schema import rule_file_schema

    _echo_json(rule_file_schema())


@cli.command()
@click.argument("text", required=False)
@click.pass_context
def classify(ctx: click.Context, text: str | None) -> None:
    """Classify TEXT, or JSONL {"id", "text"} lines on stdin; one JSON line out per post."""
    from chalicelib.classify import Classifier

    classifier = Classifier.from_policies(_settings(ctx).policies_dir)

    def emit(post_id: Any, body: str) -> None:
        doc = classifier.classify_text(body).to_doc()
        click.echo(json.dumps({"id": post_id, **doc}, ensure_ascii=False))

    if text is not None:
        emit(None, text)
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            emit(item.get("id"), str(item["text"]))
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
            raise CarewireCliError(f'stdin line {number}: expected JSON {{"id", "text"}}: {exc}') from exc


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


@cli.command("package")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build/package"), show_default=True
)
@click.option("--deploy-stage", default="dev", show_default=True, help="the Chalice stage to package")
def package_command(out: Path, deploy_stage: str) -> None:
    """Package for AWS: Chalice's template merged with infra/resources.yaml, plus deployment.zip."""
    from chalicelib.packaging import PackagingError, package

    try:
        template = package(out, deploy_stage)
    except PackagingError as exc:
        raise CarewireCliError(str(exc)) from exc
    click.echo(f"wrote {template} and {template.parent / 'deployment.zip'}")


def main() -> None:
    cli(prog_name="carewire")

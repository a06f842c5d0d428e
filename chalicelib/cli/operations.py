"""Operations: channels, policies, classify, package."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _settings, cli


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


@cli.group()
def access() -> None:
    """Access to the agent and notices APIs."""


@access.command("tokens")
@click.pass_context
def access_tokens(ctx: click.Context) -> None:
    """The local stage's bearer token per role (in AWS the APIs use IAM instead)."""
    from chalicelib.auth import local_tokens

    settings = _settings(ctx)
    if not settings.is_local:
        raise CarewireCliError("tokens exist only in the local stage; deployed stages use IAM (policies/access.yaml)")
    _echo_json(local_tokens(settings))

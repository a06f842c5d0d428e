"""`carewire secrets`: a deployed stage's channel secrets as SSM SecureStrings under `/carewire/<stage>/<channel>/`.

Values come from stdin or a hidden prompt — never argv (shell history, `ps`) — and are never printed."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from chalicelib.cli import CarewireCliError, NotFoundError, _settings, cli
from chalicelib.cli.stages import StageError, StageSettings, load_stage


def stage_for(ctx: click.Context) -> StageSettings:
    settings = _settings(ctx)
    if settings.is_local:
        raise CarewireCliError("the local stage keeps development secrets (carewire channels list --json); use --stage")
    try:
        return load_stage(settings.stage)
    except StageError as exc:
        raise NotFoundError(str(exc)) from exc


def channels_for(ctx: click.Context) -> dict[str, Any]:
    from chalicelib.channels.config import ChannelConfigError, load_channels

    try:
        return load_channels(_settings(ctx).policies_dir / "channels.yaml")
    except ChannelConfigError as exc:
        raise CarewireCliError(str(exc)) from exc


def parameter_for(stage: StageSettings, channel: Any, name: str) -> str:
    """Where the stage keeps a channel's secret: the SSM name channels.yaml references, else the stage's path."""
    from chalicelib.channels.stage_secrets import parameter_name

    ref = channel.secrets[name].current
    return str(ref.ssm) if ref.ssm else parameter_name(stage.secrets_path, channel.id, name)


def required_parameters(stage: StageSettings, channels: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Every SSM parameter the stage's channels need → (channel, secret name)."""
    return {parameter_for(stage, c, name): (c.id, name) for c in channels.values() for name in sorted(c.secrets)}


def stored_parameters(ssm: Any, path: str) -> dict[str, dict[str, Any]]:
    """Name → metadata (never the value) of every parameter under path."""
    found: dict[str, dict[str, Any]] = {}
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [path]}]
    )
    for page in pages:
        for parameter in page["Parameters"]:
            found[parameter["Name"]] = parameter
    return found


def stored_for(ssm: Any, stage: StageSettings, required: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metadata of the stage's parameters and of the required ones channels.yaml names outside its path."""
    stored = stored_parameters(ssm, stage.secrets_path)
    elsewhere = [name for name in required if name not in stored and not name.startswith(stage.secrets_path + "/")]
    for start in range(0, len(elsewhere), 10):
        got = ssm.get_parameters(Names=elsewhere[start : start + 10], WithDecryption=False)
        for parameter in got.get("Parameters", []):
            stored[parameter["Name"]] = {k: v for k, v in parameter.items() if k != "Value"}
    return stored


def missing_secrets(ssm: Any, stage: StageSettings, channels: dict[str, Any]) -> list[tuple[str, str]]:
    required = required_parameters(stage, channels)
    stored = stored_for(ssm, stage, required)
    return [pair for name, pair in sorted(required.items()) if name not in stored]


def _read_value(prompt: str) -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        value = sys.stdin.read().rstrip("\r\n")
    else:
        value = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    if not value.strip():
        raise CarewireCliError("empty secret: nothing written")
    return value


def _parameter(ctx: click.Context, channel_id: str, name: str) -> tuple[StageSettings, str]:
    stage = stage_for(ctx)
    channels = channels_for(ctx)
    if channel_id not in channels:
        raise NotFoundError(f"unknown channel {channel_id!r}; known: {', '.join(sorted(channels))}")
    names = sorted(channels[channel_id].secrets)
    if name not in names:
        raise NotFoundError(f"channel {channel_id!r} has no secret {name!r}; its secrets: {', '.join(names)}")
    return stage, parameter_for(stage, channels[channel_id], name)


@cli.group()
def secrets() -> None:
    """Channel secrets of a deployed stage (SSM SecureString; values never printed)."""


@secrets.command("set")
@click.argument("channel")
@click.argument("name")
@click.pass_context
def secrets_set(ctx: click.Context, channel: str, name: str) -> None:
    """Store CHANNEL's secret NAME, read from stdin or a hidden prompt."""
    from chalicelib.cli.cloud import Cloud

    stage, parameter = _parameter(ctx, channel, name)
    value = _read_value(f"{channel} {name}")
    Cloud(stage).client("ssm").put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
    click.echo(f"stored {parameter} (SecureString) in {stage.region}")


@secrets.command("list")
@click.pass_context
def secrets_list(ctx: click.Context) -> None:
    """Every secret the stage's channels need: stored (with when it last changed) or MISSING."""
    from chalicelib.cli.cloud import Cloud

    stage = stage_for(ctx)
    required = required_parameters(stage, channels_for(ctx))
    stored = stored_for(Cloud(stage).client("ssm"), stage, required)
    for parameter in sorted(set(required) | set(stored)):
        meta = stored.get(parameter)
        if meta is None:
            channel, name = required[parameter]
            click.echo(f"{parameter:<56} MISSING  (carewire --stage {stage.name} secrets set {channel} {name})")
        else:
            changed = meta.get("LastModifiedDate")
            when = changed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if changed else "?"
            note = f"  {meta['Description']}" if meta.get("Description") else ""
            click.echo(f"{parameter:<56} v{meta.get('Version', '?'):<3} changed {when}{note}")


@secrets.command("rotate")
@click.argument("channel")
@click.argument("name")
@click.option("--window", type=click.IntRange(1, 24 * 30), default=24, show_default=True, help="hours")
@click.pass_context
def secrets_rotate(ctx: click.Context, channel: str, name: str, window: int) -> None:
    """Store a new value for CHANNEL's NAME, keeping the current one as NAME-previous for --window hours."""
    from chalicelib.cli.cloud import Cloud

    stage, parameter = _parameter(ctx, channel, name)
    ssm = Cloud(stage).client("ssm")
    try:
        current = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound as exc:
        raise NotFoundError(
            f"{parameter} is not set; set it first: carewire --stage {stage.name} secrets set {channel} {name}"
        ) from exc
    value = _read_value(f"new {channel} {name}")
    until = (datetime.now(UTC) + timedelta(hours=window)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ssm.put_parameter(
        Name=f"{parameter}-previous",
        Value=current,
        Type="SecureString",
        Overwrite=True,
        Description=f"previous value, valid until {until}",
    )
    ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
    click.echo(f"rotated {parameter}; the previous value stays in {parameter}-previous until {until}")

"""`carewire replay`: send recorded webhook deliveries, signed with a channel's secret, to a running Carewire."""

from __future__ import annotations

import json
from pathlib import Path

import click

from chalicelib.cli import CarewireCliError, _echo_json, _settings, cli


def recorded_bodies(path: Path) -> list[bytes]:
    """The deliveries in `path`: one body per line of a `.jsonl` file, else the whole file as one body,
    byte for byte (signatures are over the raw bytes)."""
    raw = path.read_bytes()
    if path.suffix == ".jsonl":
        return [line for line in raw.splitlines() if line.strip()]
    return [raw]


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", "channel_id", required=True, help="the channel whose secret signs the deliveries")
@click.option("--to", "base_url", default="http://127.0.0.1:8000", show_default=True, help="a running Carewire")
@click.option(
    "--header", "extra", multiple=True, help="an extra header, NAME:VALUE (e.g. X-Discourse-Event:post_created)"
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def replay(
    ctx: click.Context, file: Path, channel_id: str, base_url: str, extra: tuple[str, ...], as_json: bool
) -> None:
    """Send the recorded deliveries in FILE (a JSON body, or JSON Lines: one body per line) to CHANNEL's
    webhook, each signed as its platform signs (in the local stage with the development secret)."""
    from chalicelib.channels import registry
    from chalicelib.channels.config import ChannelConfigError, SecretResolver, load_channels
    from chalicelib.local.demo import post

    settings = _settings(ctx)
    try:
        channels = load_channels(settings.policies_dir / "channels.yaml")
    except ChannelConfigError as exc:
        raise CarewireCliError(str(exc)) from exc
    channel = channels.get(channel_id)
    if channel is None:
        raise CarewireCliError(f"no channel {channel_id!r}; known: {sorted(channels)}")
    platform = registry.get(channel.platform)
    secret = SecretResolver(settings).resolve(channel)
    if not secret:
        raise CarewireCliError(f"channel {channel_id!r} has no {platform.signing_secret} set here")
    headers: dict[str, str] = {}
    for item in extra:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CarewireCliError(f"--header {item!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    url = f"{base_url.rstrip('/')}{channel.webhook_path}"
    rows = []
    for n, body in enumerate(recorded_bodies(file), start=1):
        try:
            status, answer = post(url, body, {**headers, **platform.sign(body, secret)})
        except OSError as exc:
            raise CarewireCliError(f"cannot reach {url}: {exc}") from exc
        except json.JSONDecodeError:
            status, answer = 0, {"error": "the answer was not JSON"}
        rows.append({"delivery": n, "bytes": len(body), "http": status, "answer": answer})
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(f"#{row['delivery']:<4} {row['bytes']:>8} B  HTTP {row['http']}  {json.dumps(row['answer'])}")

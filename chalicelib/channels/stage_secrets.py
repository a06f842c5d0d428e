"""Where a deployed stage keeps its channels' secrets: SSM SecureStrings under
`<CAREWIRE_SECRETS_PATH>/<channel>/<name>` (the stack sets the path to `/carewire/<stage>`; `carewire secrets set`
writes them)."""

from __future__ import annotations

from typing import Any

SIGNING_SECRET_NAMES = {"x": "consumer_secret"}
"""The name of each platform's webhook signing secret."""


def secret_names(channel: Any) -> tuple[str, ...]:
    """The secrets a channel needs: its named secrets where it declares them, else its platform's signing secret."""
    named = getattr(channel, "secrets", None)
    if isinstance(named, dict) and named:
        return tuple(sorted(named))
    return (SIGNING_SECRET_NAMES.get(channel.platform, "signing_secret"),)


def parameter_name(path: str, channel_id: str, name: str) -> str:
    return f"{path.rstrip('/')}/{channel_id}/{name}"

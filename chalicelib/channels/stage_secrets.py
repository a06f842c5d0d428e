"""Where a deployed stage keeps its channels' secrets: SSM SecureStrings under
`<CAREWIRE_SECRETS_PATH>/<channel>/<name>` (the stack sets the path to `/carewire/<stage>`; `carewire secrets set`
writes them). A secret that channels.yaml already references by an SSM name is read from that name instead."""

from __future__ import annotations


def parameter_name(path: str, channel_id: str, name: str) -> str:
    return f"{path.rstrip('/')}/{channel_id}/{name}"

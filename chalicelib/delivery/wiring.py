"""Build the sender from a runtime: one client per platform that declares how it sends (the registry), the
channels' own accounts, tokens by reference, alerts, and the after-send hook that marks an agent's escalation
answered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.clock import Clock
from chalicelib.delivery.sender import Sender, SenderConfig
from chalicelib.delivery.tokens import Tokens
from chalicelib.outbox.item import OutboxItem

if TYPE_CHECKING:
    from chalicelib.delivery.clients import PlatformClient
    from chalicelib.escalations.sweep import Alerts
    from chalicelib.runtime import Runtime

TIMEOUT = 5.0
"""Seconds per platform call; a timeout after the request left makes the item `unknown` (reconciled)."""


def api_env(api: str) -> str:
    return f"CAREWIRE_{api.upper()}_API_URL"


def clients(
    apis: Mapping[str, str] | None = None, timeout: float = TIMEOUT, env: Mapping[str, str] | None = None
) -> dict[str, PlatformClient]:
    """Platform → its client, for every registered platform that declares `outbound`. Each API's base URL:
    `apis[api]` (the sandbox), else `CAREWIRE_<API>_API_URL`, else the platform's default."""
    from chalicelib.channels import registry

    env = os.environ if env is None else env
    found: dict[str, PlatformClient] = {}
    for name, platform in registry.platforms().items():
        outbound = platform.outbound
        if outbound is None:
            continue
        url = (apis or {}).get(outbound.api) or env.get(api_env(outbound.api)) or outbound.default_url
        found[name] = outbound.client(url, timeout)
    return found


def build_sender(
    runtime: Runtime,
    platform_clients: Mapping[str, PlatformClient] | None = None,
    tokens: Tokens | None = None,
    config: SenderConfig | None = None,
    clock: Clock | None = None,
    alerts: Alerts | None = None,
) -> Sender:
    """`clock` defaults to the runtime's; platforms' reset times are wall-clock times, so a sender's clock
    must be the real one wherever it meets a platform."""
    from chalicelib.escalations.queue import EscalationQueue
    from chalicelib.escalations.sweep import alerts_from_env

    escalations = EscalationQueue(
        runtime.dynamodb, runtime.settings.table("escalations"), {}, outbox_table=runtime.settings.table("outbox")
    )

    def on_sent(item: OutboxItem) -> None:
        if item.kind == "agent_reply" and item.escalation_id:
            escalations.mark_answered(item.escalation_id, item.reply_id, item.platform_id or "", runtime.clock())

    return Sender(
        outbox=runtime.outbox,
        clients=platform_clients if platform_clients is not None else clients(),
        tokens=tokens or Tokens(runtime.channels, runtime.secrets),
        accounts={c.id: c.brand_ids[0] for c in runtime.channels.values() if c.brand_ids},
        alerts=alerts or alerts_from_env(),
        clock=clock or runtime.clock,
        on_sent=on_sent,
        config=config,
    )

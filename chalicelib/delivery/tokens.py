"""Each channel's outbound token: the channel's named secret its platform sends with (`Outbound.token`, e.g.
`page_token` for a Facebook Page, `access_token` for X and WhatsApp), referenced in policies/channels.yaml and
resolved the way every channel secret is (chalicelib/channels/config.py: env, or SSM through Powertools
Parameters cached for a few minutes, so a rotated token is picked up without a deploy). Never logged.

There is no naming convention to fall back on: a channel that names no token cannot send (its items wait and
the channel shows unhealthy in `carewire channels list --health`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalicelib.channels.errors import SecretUnavailable
from chalicelib.delivery.errors import Retryable

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig, SecretResolver


class Tokens:
    def __init__(
        self,
        channels: Mapping[str, ChannelConfig],
        secrets: SecretResolver | None,
        fixed: Mapping[str, str] | None = None,
    ) -> None:
        """`fixed`: channel → token, for the local sandbox and tests (it wins over the channel's reference)."""
        self._channels = channels
        self._secrets = secrets
        self._fixed = dict(fixed or {})

    def name(self, channel_id: str) -> str | None:
        """The name of the secret `channel_id` sends with; None when its platform cannot send."""
        from chalicelib.channels import registry

        channel = self._channels.get(channel_id)
        if channel is None or channel.platform not in registry.names():
            return None
        outbound = registry.get(channel.platform).outbound
        return outbound.token if outbound is not None else None

    def get(self, channel_id: str) -> str | None:
        """The channel's token; None when it names none (or it is unset). Raises Retryable when the lookup
        failed (an SSM throttle): the item waits and tries again, the channel is not marked unhealthy."""
        if channel_id in self._fixed:
            return self._fixed[channel_id]
        name = self.name(channel_id)
        if name is None or self._secrets is None:
            return None
        try:
            return self._secrets.value(self._channels[channel_id], name)
        except SecretUnavailable as exc:
            raise Retryable(f"the channel's {name} could not be read: {exc}") from exc

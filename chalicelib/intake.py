"""Webhook intake: answer challenges; verify, split and enqueue deliveries. Answers in milliseconds —
everything else happens in the processor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.channels.errors import (
    DeliveryTooLarge,
    MalformedDelivery,
    SignatureRejected,
    UnknownChannel,
)
from chalicelib.clock import Clock, iso
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.channels.base import ChallengeResponse, Platform
    from chalicelib.channels.config import ChannelConfig, SecretResolver
    from chalicelib.intake_queue import IntakeQueue


@dataclass(frozen=True)
class Receipt:
    accepted: int
    skipped: dict[str, int] = field(default_factory=dict)


class Intake:
    def __init__(
        self,
        *,
        channels: Mapping[str, ChannelConfig],
        platforms: Mapping[str, Platform],
        secrets: SecretResolver,
        queue: IntakeQueue,
        clock: Clock,
        max_body_bytes: int,
    ) -> None:
        self._channels = channels
        self._platforms = platforms
        self._secrets = secrets
        self._queue = queue
        self._clock = clock
        self._max_body_bytes = max_body_bytes

    def _channel(self, channel_id: str) -> tuple[ChannelConfig, Platform, str]:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise UnknownChannel(f"no channel {channel_id!r}")
        secret = self._secrets.resolve(channel)
        if not secret:
            COUNTERS.count("SignaturesRejected")
            logger().error("channel has no secret configured; failing closed", extra={"channel": channel.id})
            raise SignatureRejected("signature cannot be verified")
        return channel, self._platforms[channel.platform], secret

    def challenge(self, channel_id: str, query: Mapping[str, str] | None) -> ChallengeResponse:
        _channel, platform, secret = self._channel(channel_id)
        return platform.challenge(query or {}, secret)

    def deliver(self, channel_id: str, headers: Mapping[str, str], raw_body: bytes) -> Receipt:
        channel, platform, secret = self._channel(channel_id)
        if len(raw_body) > self._max_body_bytes:
            raise DeliveryTooLarge(f"body is {len(raw_body)} bytes; the limit is {self._max_body_bytes}")
        if not platform.verify(headers, raw_body, secret):
            COUNTERS.count("SignaturesRejected")
            logger().warning("signature rejected", extra={"channel": channel.id})
            raise SignatureRejected("missing or invalid signature")
        try:
            body = json.loads(raw_body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedDelivery(f"body is not JSON: {exc}") from exc
        split = platform.split(body, channel, iso(self._clock()))
        skipped: dict[str, int] = {}
        for skip in split.skipped:
            skipped[skip.kind] = skipped.get(skip.kind, 0) + skip.count
            COUNTERS.count("EventsNotActedOn" if skip.known else "UnknownEventKinds", skip.count)
            logger().info(
                "event acknowledged, not acted on",
                extra={"channel": channel.id, "kind": skip.kind, "reason": skip.reason},
            )
        if split.events:
            self._queue.send(split.events)
        COUNTERS.count("EventsEnqueued", len(split.events))
        return Receipt(accepted=len(split.events), skipped=skipped)

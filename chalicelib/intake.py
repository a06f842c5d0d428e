"""Webhook intake: answer challenges; verify, split and enqueue deliveries. Answers in milliseconds —
everything else happens in the processor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.channels.base import INVALID_KIND
from chalicelib.channels.errors import (
    ChallengeRateLimited,
    ChallengeRejected,
    DeliveryTooLarge,
    MalformedDelivery,
    MethodNotAllowed,
    SignatureRejected,
    UnknownChannel,
)
from chalicelib.clock import Clock, iso
from chalicelib.json_input import JsonRejected, parse
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.channels.base import ChallengeResponse, Platform
    from chalicelib.channels.config import ChannelConfig, SecretResolver
    from chalicelib.intake_queue import IntakeQueue


@dataclass(frozen=True)
class Receipt:
    accepted: int
    """Events enqueued, the invalid ones included: accepted means kept."""
    skipped: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    """Of the accepted, events that can never be decided: the processor parks them with their reason."""


class ChallengeLimiter:
    """A token bucket per channel for challenge (CRC) requests: `burst` at once, refilled at `per_minute`.

    Platforms challenge rarely (X: at registration, on demand, then hourly to daily), so a small
    budget never refuses them; it bounds how often anyone else can make us compute the HMAC.
    The buckets live in this process: in AWS each warm Lambda container keeps its own, so the
    service-wide ceiling is the budget times the number of concurrent containers (a hard global
    limit belongs in API Gateway throttling or a WAF rate rule in front of the route).
    """

    def __init__(self, burst: int = 10, per_minute: float = 10.0, monotonic: Callable[[], float] = time.monotonic):
        self._burst = float(burst)
        self._rate = per_minute / 60.0
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, channel_id: str) -> bool:
        """Take one token from the channel's bucket; False when it is empty."""
        with self._lock:
            now = self._monotonic()
            tokens, last = self._buckets.get(channel_id, (self._burst, now))
            tokens = min(self._burst, tokens + max(0.0, now - last) * self._rate)
            allowed = tokens >= 1.0
            self._buckets[channel_id] = (tokens - 1.0 if allowed else tokens, max(now, last))
            return allowed


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
        challenge_limiter: ChallengeLimiter | None = None,
    ) -> None:
        self._channels = channels
        self._platforms = platforms
        self._secrets = secrets
        self._queue = queue
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._challenges = challenge_limiter or ChallengeLimiter()

    def _channel(self, channel_id: str) -> tuple[ChannelConfig, Platform]:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise UnknownChannel(f"no channel {channel_id!r}")
        return channel, self._platforms[channel.platform]

    def _secrets_for(self, channel: ChannelConfig, name: str) -> tuple[str, ...]:
        """Every value of secret `name` accepted now (two during a rotation window); fails closed when none."""
        values = self._secrets.values(channel, name)
        if not values:
            COUNTERS.count("SignaturesRejected")
            logger().error(
                "channel has no secret configured; failing closed", extra={"channel": channel.id, "secret": name}
            )
            raise SignatureRejected("signature cannot be verified")
        return values

    def challenge(self, channel_id: str, query: Mapping[str, str] | None) -> ChallengeResponse:
        """The platform's answer to a challenge; refused ones (bad token, over budget) are counted."""
        channel, platform = self._channel(channel_id)
        if platform.challenge_secret is None:
            raise MethodNotAllowed(f"{platform.name} channels take POST deliveries only")
        secrets = self._secrets_for(channel, platform.challenge_secret)
        if not self._challenges.allow(channel.id):
            COUNTERS.count("ChallengesRateLimited")
            logger().warning("challenge rate-limited", extra={"channel": channel.id})
            raise ChallengeRateLimited("too many challenge requests for this channel; try again later")
        refused: ChallengeRejected | None = None
        for secret in secrets:  # the current secret first; the previous one while it is being rotated
            try:
                return platform.challenge(query or {}, secret)
            except ChallengeRejected as exc:
                refused = refused or exc
        COUNTERS.count("ChallengesRefused")
        logger().warning("challenge refused", extra={"channel": channel.id, "reason": str(refused)})
        raise refused or ChallengeRejected("challenge refused")

    def deliver(self, channel_id: str, headers: Mapping[str, str], raw_body: bytes) -> Receipt:
        channel, platform = self._channel(channel_id)
        secrets = self._secrets_for(channel, platform.signing_secret)
        if len(raw_body) > self._max_body_bytes:
            raise DeliveryTooLarge(f"body is {len(raw_body)} bytes; the limit is {self._max_body_bytes}")
        verified = False
        for secret in secrets:  # every candidate is checked, so timing does not tell which one matched
            verified = platform.verify(headers, raw_body, secret) or verified
        if not verified:
            COUNTERS.count("SignaturesRejected")
            logger().warning("signature rejected", extra={"channel": channel.id})
            raise SignatureRejected("missing or invalid signature")
        body = parse_json(raw_body)
        split = platform.split(body, channel, iso(self._clock()), headers)
        skipped: dict[str, int] = {}
        for skip in split.skipped:
            skipped[skip.kind] = skipped.get(skip.kind, 0) + skip.count
            COUNTERS.count("EventsNotActedOn" if skip.known else "UnknownEventKinds", skip.count)
            logger().info(
                "event acknowledged, not acted on",
                extra={"channel": channel.id, "kind": skip.kind, "reason": skip.reason},
            )
        invalid = [e for e in split.events if e.kind == INVALID_KIND]
        if invalid:  # one line per delivery, however many entries are bad
            logger().warning(
                "events invalid at intake; enqueued to be parked",
                extra={"channel": channel.id, "count": len(invalid), "reason": str(invalid[0].payload.get("reason"))},
            )
        if split.events:
            self._queue.send(split.events)
        COUNTERS.count("EventsEnqueued", len(split.events))
        if invalid:
            COUNTERS.count("EventsInvalidAtIntake", len(invalid))
        return Receipt(accepted=len(split.events), skipped=skipped, invalid=len(invalid))


def parse_json(raw_body: bytes) -> object:
    """The delivery as JSON; MalformedDelivery (400) for anything the parser refuses, however it refuses."""
    try:
        return parse(raw_body)
    except JsonRejected as exc:
        raise MalformedDelivery(f"body is not usable JSON: {exc}") from exc

"""The contract every platform module implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig
    from chalicelib.model import Event, Post


INVALID_KIND = "invalid"
"""The kind of a queue event that intake found can never become a Post. Its payload carries `reason`
and the original entry; the platform's `normalize` raises MalformedEvent for it, so the processor parks
it with that reason (one write path for everything accepted: the intake queue)."""


@dataclass(frozen=True)
class Skipped:
    """An event in a delivery that Carewire acknowledges but does not act on."""

    kind: str
    reason: str
    count: int = 1
    known: bool = True
    """False for an event kind the platform module does not know (counted apart: it may be new)."""


@dataclass(frozen=True)
class Split:
    events: list[Event]
    skipped: list[Skipped]


@dataclass(frozen=True)
class ChallengeResponse:
    body: dict[str, Any] | str
    content_type: str = "application/json"


class Platform(Protocol):
    """One social platform's webhook protocol.

    `verify` sees the raw body bytes exactly as received; `split` sees the parsed JSON;
    `normalize` runs later, in the processor, on one event taken off the intake queue.
    """

    name: str
    signature_header: str

    def challenge(self, query: Mapping[str, str] | None, secret: str) -> ChallengeResponse: ...

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool: ...

    def split(self, body: Any, channel: ChannelConfig, received_at: str) -> Split: ...

    def normalize(self, event: Event, channel: ChannelConfig) -> Post: ...

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        """Headers that make `raw_body` verify: used by the demo and tests to sign deliveries."""
        ...

"""The contract every platform module implements, and what a platform declares about itself.

A platform is one module under `chalicelib/channels/` that defines a `Platform` subclass and exports one
instance as `PLATFORM`; `registry.py` names the module. Nothing else in Carewire lists platforms.
"""

from __future__ import annotations

import importlib
import secrets as _secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.channels.errors import MethodNotAllowed

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig
    from chalicelib.model import Event, Post


INVALID_KIND = "invalid"
"""The kind of a queue event that intake found can never become a Post. Its payload carries `reason`
and the original entry; the platform's `normalize` raises MalformedEvent for it, so the processor parks
it with that reason (one write path for everything accepted: the intake queue)."""

NOT_ACTED_ON = "not acted on"
UNKNOWN_KIND = "unknown event kind"


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


@dataclass(frozen=True)
class DeliveryReport:
    """Not a post: what the platform says happened to a message the brand sent (WhatsApp `statuses`).

    The processor counts it and hands it to its `delivery_reports` hook, where the delivery stage
    matches `message_id` (the id the platform returned when the outbox item was sent) to its item.
    """

    platform: str
    channel: str
    message_id: str
    status: str
    """sent | delivered | read | failed (WhatsApp's words)."""
    at: str
    recipient_id: str | None = None
    errors: tuple[dict[str, Any], ...] = ()
    """The platform's error entries for a failed send: code and title, as sent."""

    @property
    def key(self) -> str:
        return f"{self.platform}#{self.message_id}#{self.status}"

    def to_doc(self) -> dict[str, Any]:
        return {**self.__dict__, "errors": [dict(e) for e in self.errors], "key": self.key}


ClientFactory = Callable[[str, float], Any]
"""(base URL, timeout in seconds) → the delivery stage's client for one platform (a `PlatformClient`)."""


def client_class(path: str, **kwargs: Any) -> ClientFactory:
    """A factory for the class at `path` (`module:Class`), imported only when the sender is built, so a
    webhook cold start never loads the HTTP clients. The class takes `base_url`, `timeout` and `kwargs`."""

    def build(base_url: str, timeout: float) -> Any:
        module, _, name = path.partition(":")
        return getattr(importlib.import_module(module), name)(base_url=base_url, timeout=timeout, **kwargs)

    return build


@dataclass(frozen=True)
class Outbound:
    """What the delivery stage needs to speak on a platform: nothing in `chalicelib/delivery/` names one.

    The client's base URL is `CAREWIRE_<API>_API_URL` when set (the sandbox, a proxy), else `default_url`;
    platforms on one API (Meta's Graph) share `api`. The token is the channel's named secret `token`
    (`policies/channels.yaml`), resolved like every other channel secret."""

    client: ClientFactory
    api: str
    default_url: str
    token: str
    """The channel's named secret that authorises sending (e.g. `page_token`, `access_token`)."""
    budget: int
    """Sends per channel per `budget_window_s`, shared by every sender (below the platform's own limits)."""
    budget_window_s: int
    window: str = ""
    """Private messages: "" (no window), "messaging" (24 h, then the HUMAN_AGENT tag for a person for 7 days:
    Messenger, Instagram), "template" (24 h, then only an approved template: WhatsApp)."""
    private_limit: int | None = None
    """Longest private message (the public limit is `Platform.text_limit`); None: no limit Carewire knows."""
    count: Callable[[str], int] = len
    """How the platform counts a text's length (X: URLs 23, wide characters 2)."""


class Platform:
    """One social platform's webhook protocol. Subclasses declare the class attributes and implement
    `verify`, `sign`, `split` and `normalize`; `challenge` only when the platform has a handshake.

    `verify` sees the raw body bytes exactly as received and one candidate secret (intake tries each
    secret valid in a rotation window); `split` sees the parsed JSON and the headers; `normalize` runs
    later, in the processor, on one event taken off the intake queue.
    """

    name: str = ""
    signature_header: str = ""
    text_limit: int | None = None
    """Longest public reply the platform accepts (characters); None when Carewire knows no limit."""
    secret_names: tuple[str, ...] = ()
    """Every named secret a channel of this platform may reference."""
    signing_secret: str = ""
    """The secret that verifies deliveries (required)."""
    challenge_secret: str | None = None
    """The secret the GET handshake checks or signs with (required when set); None: GET is 405."""
    own_posts: str = ""
    """What counts as the brand's own post on this platform (documentation; `normalize` applies it)."""
    dedupe: str = ""
    """What identifies one post across redeliveries (documentation; `normalize` sets `Post.dedupe_key`)."""
    outbound: Outbound | None = None
    """How the delivery stage sends on this platform (replies, DMs, hides); None: Carewire cannot send there."""

    @property
    def required_secrets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.signing_secret, self.challenge_secret) if n))

    def challenge(self, query: Mapping[str, str], secret: str) -> ChallengeResponse:
        raise MethodNotAllowed(f"{self.name} channels answer POST only")

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        raise NotImplementedError

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        """Headers that make `raw_body` verify: used by the demo, `carewire replay` and tests."""
        raise NotImplementedError

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        raise NotImplementedError

    report_kinds: frozenset[str] = frozenset()
    """Queue event kinds that are delivery reports, not posts: the processor calls `report` for them."""

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        raise NotImplementedError

    def report(self, event: Event, channel: ChannelConfig) -> DeliveryReport:
        raise NotImplementedError(f"{self.name} has no delivery reports")

    def check(self, event: Event, channel: ChannelConfig) -> None:
        """Raises what the processor would raise for `event` (intake runs it to park bad items early)."""
        if event.kind in self.report_kinds:
            self.report(event, channel)
        else:
            self.normalize(event, channel)

    def generate_secret(self, name: str) -> str:
        """A fresh random value for secret `name` in this platform's format (local stage only)."""
        return _secrets.token_urlsafe(32)


def header(headers: Any, name: str) -> Any:
    """The value of header `name` (lower case), looked up case-insensitively in any mapping; None when absent."""
    if not isinstance(headers, Mapping):
        return None
    value = headers.get(name)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if isinstance(key, str) and key.lower() == name:
            return candidate
    return None

"""The registry is the one list of platforms: a new platform is its module plus one registration, and
channel validation, the runtime, reply text limits and secret names all follow."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from chalicelib.actions import PLATFORM_TEXT_LIMITS
from chalicelib.channels import registry
from chalicelib.channels.base import Outbound, Platform, Split
from chalicelib.channels.config import ChannelConfig, ChannelConfigError, SecretResolver, load_channels
from chalicelib.clock import parse
from chalicelib.delivery import text
from chalicelib.delivery.errors import Retryable
from chalicelib.delivery.sender import Budget, SenderConfig
from chalicelib.delivery.tokens import Tokens
from chalicelib.delivery.wiring import clients
from chalicelib.model import Event, Post
from chalicelib.runtime import Runtime
from tests.conftest import make_settings


class TootClient:
    """What `Outbound.client` builds: the sender only needs `platform`, `send` and `find_sent`."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.platform = "mastodon"
        self.base_url = base_url
        self.timeout = timeout


class Mastodon(Platform):
    name = "mastodon"
    text_limit = 500
    secret_names = ("token", "bot_token")
    signing_secret = "token"
    outbound = Outbound(
        client=TootClient,
        api="mastodon",
        default_url="https://toots.example",
        token="bot_token",
        budget=30,
        budget_window_s=300,
        window="messaging",
        private_limit=50,
        count=lambda t: 2 * len(t),
    )

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        return headers.get("x-token") == secret

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        return {"x-token": secret}

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        return Split([], [])

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        raise NotImplementedError


@pytest.fixture
def mastodon(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    module = types.ModuleType("tests_mastodon_platform")
    module.PLATFORM = Mastodon()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_mastodon_platform", module)
    monkeypatch.setitem(registry.MODULES, "mastodon", "tests_mastodon_platform")
    yield
    registry._loaded.pop("mastodon", None)


def test_every_registered_module_declares_what_the_registry_needs() -> None:
    for name in registry.names():
        platform = registry.get(name)
        assert platform.name == name
        assert platform.signing_secret in platform.secret_names
        assert platform.challenge_secret is None or platform.challenge_secret in platform.secret_names
        assert platform.own_posts and platform.dedupe, name
        if platform.outbound is not None:  # how the delivery stage sends there: with one of its named secrets
            assert platform.outbound.token in platform.secret_names, name


def test_text_limits_come_from_the_platform_modules() -> None:
    assert PLATFORM_TEXT_LIMITS.get("x") == 280
    assert PLATFORM_TEXT_LIMITS.get("whatsapp") == 4096
    assert PLATFORM_TEXT_LIMITS.get("webhook") is None
    assert PLATFORM_TEXT_LIMITS.get("nowhere") is None
    assert dict(PLATFORM_TEXT_LIMITS)["facebook"] == 8000


def test_a_registered_platform_is_known_everywhere(mastodon: None, tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  - {id: toots, platform: mastodon, brand_ids: ['1'], secret: {env: T}}\n")
    channel = load_channels(path)["toots"]
    assert set(channel.secrets) == {"token"}
    assert PLATFORM_TEXT_LIMITS.get("mastodon") == 500
    assert "mastodon" in Runtime(make_settings(tmp_path)).platforms


def test_an_unregistered_platform_is_refused_with_the_registered_ones_named(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  - {id: toots, platform: mastodon, brand_ids: ['1'], secret: {env: T}}\n")
    with pytest.raises(ChannelConfigError, match="platform 'mastodon' is not supported; valid: \\['x', 'facebook'"):
        load_channels(path)


def test_a_module_registered_under_another_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("tests_misnamed_platform")
    module.PLATFORM = Mastodon()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_misnamed_platform", module)
    monkeypatch.setitem(registry.MODULES, "toot", "tests_misnamed_platform")
    with pytest.raises(RuntimeError, match="declares platform 'mastodon', registered as 'toot'"):
        registry.get("toot")


def test_a_registered_platform_gets_a_client_limits_a_window_a_budget_and_its_token(
    mastodon: None, tmp_path: Path
) -> None:
    """Nothing under chalicelib/delivery/ names mastodon: it all comes from the module's `outbound`."""
    built = clients(timeout=1.5, env={"CAREWIRE_MASTODON_API_URL": "http://sandbox.local"})
    toot = built["mastodon"]
    assert isinstance(toot, TootClient) and (toot.base_url, toot.timeout) == ("http://sandbox.local", 1.5)
    assert {"x", "facebook", "instagram", "whatsapp"} <= set(built)
    assert "webhook" not in built  # a platform without `outbound` cannot be sent to
    assert isinstance(clients(env={})["mastodon"], TootClient)
    assert clients(env={})["mastodon"].base_url == "https://toots.example"  # type: ignore[attr-defined]

    assert text.limit("mastodon") == 500 and text.limit("mastodon", private=True) == 50
    assert text.text_length("hello", "mastodon") == 10  # counted the platform's way
    assert text.fit("a" * 400, "mastodon", 500) == "a" * 249 + "…"
    assert text.windowed("mastodon") and not text.windowed("x")
    stale = "2026-01-01T00:00:00Z"
    now = parse("2026-01-03T00:00:00Z")
    assert text.window_rule("mastodon", True, True, stale, None, now).mode == "tag"
    assert text.window_rule("mastodon", True, False, stale, None, now).mode == "hold"
    assert SenderConfig().budgets["mastodon"] == Budget(30, 300)

    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - {id: toots, platform: mastodon, brand_ids: ['1'],\n"
        "     secrets: {token: {env: T}, bot_token: {env: TOOT_BOT}}}\n"
        "  - {id: quiet, platform: mastodon, brand_ids: ['2'], secret: {env: T}}\n"
    )
    channels = load_channels(path)
    resolver = SecretResolver(make_settings(tmp_path, stage="dev"), env={"TOOT_BOT": "bot-secret", "T": "t"})
    tokens = Tokens(channels, resolver)
    assert tokens.name("toots") == "bot_token"
    assert tokens.get("toots") == "bot-secret"  # the channel's named secret, not a naming convention
    assert tokens.get("quiet") is None  # names no token: cannot send (the sender marks it unhealthy)
    assert Tokens(channels, resolver, fixed={"quiet": "sandbox"}).get("quiet") == "sandbox"


class ThrottledSsm:
    def get_parameter(self, **kwargs: Any) -> Any:
        raise RuntimeError("ThrottlingException")


def test_a_token_lookup_that_fails_is_retried_later_not_taken_for_no_token(mastodon: None, tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - {id: toots, platform: mastodon, brand_ids: ['1'],\n"
        "     secrets: {token: {env: T}, bot_token: {ssm: /carewire/dev/toots/bot}}}\n"
    )
    resolver = SecretResolver(
        make_settings(tmp_path, stage="dev"), env={"T": "t"}, ssm_client_factory=ThrottledSsm, retry_delay=0
    )
    with pytest.raises(Retryable, match="bot_token could not be read"):
        Tokens(load_channels(path), resolver).get("toots")

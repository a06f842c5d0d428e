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
from chalicelib.channels.base import Platform, Split
from chalicelib.channels.config import ChannelConfig, ChannelConfigError, load_channels
from chalicelib.model import Event, Post
from chalicelib.runtime import Runtime
from tests.conftest import make_settings


class Mastodon(Platform):
    name = "mastodon"
    text_limit = 500
    secret_names = ("token",)
    signing_secret = "token"

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
        assert platform.outbound is None  # the slot the delivery stage fills


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

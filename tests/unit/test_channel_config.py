"""channels.yaml validation and secret references."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.channels.config import (
    ChannelConfig,
    ChannelConfigError,
    NamedSecret,
    SecretRef,
    SecretResolver,
    load_channels,
)
from chalicelib.channels.errors import SecretUnavailable
from chalicelib.settings import Settings
from tests.conftest import POLICIES


def test_default_channels_load() -> None:
    channels = load_channels(POLICIES / "channels.yaml")
    assert channels["x-care"].platform == "x"
    assert channels["x-care"].webhook_path == "/webhooks/x-care"
    assert channels["x-care"].is_brand_handle("@BayaniTelCares")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{id: a, platform: mastodon, brand_ids: ['1'], secret: {env: S}}", "platform 'mastodon' is not supported"),
        ("{id: a, platform: x, brand_ids: ['1'], secret: 'hunter2'}", "secret must be exactly one reference"),
        ("{id: a, platform: x, secret: {env: S}}", "brand_handles and/or brand_ids"),
        ("{id: 'A B', platform: x, brand_ids: ['1'], secret: {env: S}}", "id must be lowercase"),
        ("{id: a, platform: x, brand_ids: ['1'], secret: {env: S}, token: abc}", "unknown field(s) ['token']"),
    ],
)
def test_invalid_channels_are_located(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(f"channels:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ChannelConfigError) as caught:
        load_channels(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_duplicate_channel_ids(tmp_path: Path) -> None:
    entry = "  - {id: a, platform: x, brand_ids: ['1'], secret: {env: S}}\n"
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n" + entry + entry, encoding="utf-8")
    with pytest.raises(ChannelConfigError, match="id is used twice"):
        load_channels(path)


def test_every_broken_channel_is_reported_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n"
        "  - {id: a, platform: mastodon, brand_ids: ['1'], secret: {env: S}}\n"
        "  - {id: b, platform: x, brand_ids: ['1'], secret: {env: S}}\n"
        "  - {id: c, platform: x, secret: {env: S}}\n"
        "  - {id: b, platform: x, brand_ids: ['2'], secret: {env: S}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ChannelConfigError) as caught:
        load_channels(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 3, lines
    assert "channel 'a': platform 'mastodon' is not supported" in lines[0]
    assert "channel 'c': brand_handles and/or brand_ids" in lines[1]
    assert "channel 'b': id is used twice" in lines[2]


def test_secret_from_environment(tmp_path: Path) -> None:
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    resolver = SecretResolver(Settings(stage="prod", home=tmp_path), env={"CAREWIRE_X_CARE_CONSUMER_SECRET": "s3"})
    assert resolver.resolve(channel) == "s3"


def test_no_secret_outside_local_means_none(tmp_path: Path) -> None:
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    assert SecretResolver(Settings(stage="prod", home=tmp_path), env={}).resolve(channel) is None
    assert not (tmp_path / "dev-secrets.json").exists()


def test_local_development_secret_is_random_private_and_stable(tmp_path: Path) -> None:
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    first = SecretResolver(Settings(stage="local", home=tmp_path), env={}).resolve(channel)
    again = SecretResolver(Settings(stage="local", home=tmp_path), env={}).resolve(channel)
    assert first and first == again and len(first) >= 32
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_ssm_reference_is_read_with_decryption(tmp_path: Path) -> None:
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    ssm_channel = replace(channel, secrets={"consumer_secret": NamedSecret(SecretRef(ssm="/carewire/prod/x-care"))})
    calls = []

    class FakeSsm:
        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, dict[str, str]]:
            calls.append((Name, WithDecryption))
            return {"Parameter": {"Value": "from-ssm"}}

    resolver = SecretResolver(Settings(stage="prod", home=tmp_path), env={}, ssm_client_factory=FakeSsm)
    assert resolver.resolve(ssm_channel) == "from-ssm"
    assert resolver.resolve(ssm_channel) == "from-ssm"
    assert calls == [("/carewire/prod/x-care", True)]


class FlakySsm:
    """SSM that throttles the first `failures` calls, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, dict[str, str]]:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("ThrottlingException")
        return {"Parameter": {"Value": f"value-of-{Name}"}}


def _ssm_channel() -> ChannelConfig:
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    return replace(channel, secrets={"consumer_secret": NamedSecret(SecretRef(ssm="/carewire/prod/x-care"))})


def test_a_throttled_lookup_is_retried_not_cached_as_no_secret(tmp_path: Path) -> None:
    ssm = FlakySsm(failures=1)
    resolver = SecretResolver(
        Settings(stage="prod", home=tmp_path), env={}, ssm_client_factory=lambda: ssm, retry_delay=0
    )
    assert resolver.resolve(_ssm_channel()) == "value-of-/carewire/prod/x-care"
    assert ssm.calls == 2


def test_a_lookup_failing_every_attempt_is_unavailable_then_recovers(tmp_path: Path) -> None:
    ssm = FlakySsm(failures=3)
    resolver = SecretResolver(
        Settings(stage="prod", home=tmp_path), env={}, ssm_client_factory=lambda: ssm, retry_delay=0
    )
    with pytest.raises(SecretUnavailable):
        resolver.values(_ssm_channel(), "consumer_secret")
    assert resolver.values(_ssm_channel(), "consumer_secret") == ("value-of-/carewire/prod/x-care",)


def test_ssm_values_are_read_again_after_max_age(tmp_path: Path) -> None:
    ssm = FlakySsm(failures=0)
    resolver = SecretResolver(
        Settings(stage="prod", home=tmp_path), env={}, ssm_client_factory=lambda: ssm, max_age=0, retry_delay=0
    )
    resolver.resolve(_ssm_channel())
    resolver.resolve(_ssm_channel())
    assert ssm.calls == 2


ROTATING = """channels:
  - id: page
    platform: facebook
    brand_ids: ["1"]
    secrets:
      app_secret: {env: NEW, previous: {env: OLD, until: "2026-12-01T00:00:00Z"}}
      verify_token: {env: TOKEN}
"""


def test_rotation_accepts_both_secrets_until_the_window_ends(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(ROTATING, encoding="utf-8")
    channel = load_channels(path)["page"]
    env = {"NEW": "new-secret", "OLD": "old-secret", "TOKEN": "t"}
    before = datetime(2026, 11, 30, tzinfo=UTC)
    after = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    settings = Settings(stage="prod", home=tmp_path)
    assert SecretResolver(settings, env=env, now=lambda: before).values(channel, "app_secret") == (
        "new-secret",
        "old-secret",
    )
    assert SecretResolver(settings, env=env, now=lambda: after).values(channel, "app_secret") == ("new-secret",)
    assert SecretResolver(settings, env=env).value(channel, "verify_token") == "t"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{id: a, platform: facebook, brand_ids: ['1'], secrets: {app_secret: {env: S}}}",
            "facebook channels need secret(s) ['verify_token']",
        ),
        (
            "{id: a, platform: telegram, brand_ids: ['1'], secrets: {secret_token: {env: S}, pin: {env: P}}}",
            "unknown secret name(s) ['pin']; telegram names: ['secret_token', 'bot_token']",
        ),
        (
            "{id: a, platform: discourse, brand_ids: ['1'], secret: {env: S}, secrets: {webhook_secret: {env: S}}}",
            "either `secret`",
        ),
        (
            "{id: a, platform: discourse, brand_ids: ['1'], secrets: {webhook_secret: {ssm: /other/secret}}}",
            "secrets.webhook_secret: SSM parameters live under /carewire/",
        ),
        (
            "{id: a, platform: discourse, brand_ids: ['1'], secrets: {webhook_secret: {env: S, previous: {env: O}}}}",
            "secrets.webhook_secret.previous needs `until`",
        ),
    ],
)
def test_named_secrets_are_checked_against_the_platform(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(f"channels:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ChannelConfigError) as caught:
        load_channels(path)
    assert message in str(caught.value)


def test_local_development_secrets_follow_the_platform_format(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text("channels:\n  - {id: hooks, platform: webhook, brand_ids: ['1'], secret: {env: S}}\n")
    channel = load_channels(path)["hooks"]
    value = SecretResolver(Settings(stage="local", home=tmp_path), env={}).resolve(channel)
    assert value is not None and value.startswith("whsec_")

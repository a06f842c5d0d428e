"""channels.yaml validation and secret references."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.channels.config import ChannelConfigError, SecretResolver, load_channels
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
    ssm_channel = type(channel)(
        channel.id, "x", channel.brand_handles, channel.brand_ids, type(channel.secret)(ssm="/carewire/prod/x-care")
    )
    calls = []

    class FakeSsm:
        def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, dict[str, str]]:
            calls.append((Name, WithDecryption))
            return {"Parameter": {"Value": "from-ssm"}}

    resolver = SecretResolver(Settings(stage="prod", home=tmp_path), env={}, ssm_client_factory=FakeSsm)
    assert resolver.resolve(ssm_channel) == "from-ssm"
    assert resolver.resolve(ssm_channel) == "from-ssm"
    assert calls == [("/carewire/prod/x-care", True)]

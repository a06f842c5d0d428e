"""Channel definitions (`policies/channels.yaml`) and the secrets they reference.

A channel names its secret by reference only: an environment variable or an SSM parameter. In the
local stage a channel whose secret is not set gets a random development secret kept under the local
state directory, so a developer can sign test deliveries; in any other stage a missing secret makes
intake fail closed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chalicelib.settings import Settings

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
PLATFORMS = ("x",)


class ChannelConfigError(ValueError):
    """channels.yaml is invalid; the message names the file and the channel."""


@dataclass(frozen=True)
class SecretRef:
    env: str | None = None
    ssm: str | None = None

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"ssm:{self.ssm}"


@dataclass(frozen=True)
class ChannelConfig:
    id: str
    platform: str
    brand_handles: tuple[str, ...]
    brand_ids: tuple[str, ...]
    secret: SecretRef
    brand: str = ""
    """The operator brand this channel speaks for (rule scopes name brands); defaults to the channel id."""

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.id}"

    def is_brand_id(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self.brand_ids

    def is_brand_handle(self, handle: str | None) -> bool:
        return handle is not None and handle.lstrip("@").lower() in self.brand_handles


def _fail(path: Path, where: str, what: str) -> ChannelConfigError:
    return ChannelConfigError(f"{path}: {where}: {what}")


def _parse_channel(path: Path, index: int, raw: Any) -> ChannelConfig:
    where = f"channels[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    allowed = {"id", "platform", "brand", "brand_handles", "brand_ids", "secret"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _fail(path, where, f"unknown field(s) {extra}; valid: {sorted(allowed)}")
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _fail(path, where, "id must be lowercase letters, digits, '-' or '_'")
    where = f"channel {cid!r}"
    platform = raw.get("platform")
    if platform not in PLATFORMS:
        raise _fail(path, where, f"platform {platform!r} is not supported; valid: {list(PLATFORMS)}")
    secret = raw.get("secret")
    if not isinstance(secret, dict) or len(secret) != 1 or not ({"env", "ssm"} & set(secret)):
        raise _fail(path, where, "secret must be exactly one reference: {env: VAR} or {ssm: /parameter/name}")
    ref = SecretRef(env=secret.get("env"), ssm=secret.get("ssm"))
    handles = raw.get("brand_handles") or []
    ids = raw.get("brand_ids") or []
    if not isinstance(handles, list) or not isinstance(ids, list) or not (handles or ids):
        raise _fail(path, where, "brand_handles and/or brand_ids must list the brand's own accounts")
    return ChannelConfig(
        id=cid,
        platform=platform,
        brand_handles=tuple(str(h).lstrip("@").lower() for h in handles),
        brand_ids=tuple(str(i) for i in ids),
        secret=ref,
        brand=str(raw.get("brand") or cid),
    )


def load_channels(path: Path) -> dict[str, ChannelConfig]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ChannelConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("channels"), list):
        raise ChannelConfigError(f"{path}: top level must be a mapping with a 'channels' list")
    channels: dict[str, ChannelConfig] = {}
    for index, raw in enumerate(doc["channels"]):
        channel = _parse_channel(path, index, raw)
        if channel.id in channels:
            raise _fail(path, f"channel {channel.id!r}", "id is used twice")
        channels[channel.id] = channel
    return channels


class SecretResolver:
    """Resolves secret references, caching each value for the life of the process."""

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str] | None = None,
        ssm_client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._settings = settings
        self._env = os.environ if env is None else env
        self._ssm_factory = ssm_client_factory
        self._cache: dict[str, str | None] = {}

    def resolve(self, channel: ChannelConfig) -> str | None:
        key = channel.secret.describe()
        if key not in self._cache:
            self._cache[key] = self._lookup(channel)
        return self._cache[key]

    def _lookup(self, channel: ChannelConfig) -> str | None:
        ref = channel.secret
        if ref.env and self._env.get(ref.env):
            return self._env[ref.env]
        if ref.ssm and not self._settings.is_local:
            return self._ssm(ref.ssm)
        stage_path = self._env.get("CAREWIRE_SECRETS_PATH")
        if stage_path and not self._settings.is_local:  # a deployed stage: `carewire secrets set` wrote it here
            from chalicelib.channels.stage_secrets import parameter_name, secret_names

            return self._ssm(parameter_name(stage_path, channel.id, secret_names(channel)[0]))
        if self._settings.is_local:
            return self.development_secret(channel)
        return None

    def _ssm(self, name: str) -> str | None:
        if self._ssm_factory is None:
            import boto3

            client = boto3.client("ssm")
        else:
            client = self._ssm_factory()
        try:
            value = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except Exception:  # noqa: BLE001 - any failure means "no secret": intake then fails closed
            return None
        return str(value)

    def development_secret(self, channel: ChannelConfig) -> str:
        """A random per-channel secret for the local stage only, kept in `<home>/dev-secrets.json`."""
        if not self._settings.is_local:
            raise RuntimeError("development secrets exist only in the local stage")
        path: Path = self._settings.home / "dev-secrets.json"
        known: dict[str, str] = {}
        if path.exists():
            known = json.loads(path.read_text(encoding="utf-8"))
        if channel.id not in known:
            known[channel.id] = secrets.token_urlsafe(32)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(known, indent=2), encoding="utf-8")
            os.chmod(tmp, 0o600)
            tmp.replace(path)
        return known[channel.id]

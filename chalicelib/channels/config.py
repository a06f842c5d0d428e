"""Channel definitions (`policies/channels.yaml`) and the named secrets they reference.

A channel names each secret by reference only: an environment variable or an SSM parameter. Which
names a channel may and must give is the platform's declaration (`Platform.secret_names`, e.g. Meta's
`app_secret` for signatures, `verify_token` for the handshake, `page_token` for sending); `secret:` is
short for the platform's signing secret. A secret being rotated names its `previous` value and the
moment that value stops being accepted (`until`): both verify until then.

SSM values are read through Powertools Parameters and cached for `max_age` seconds; a failed lookup is
retried and then raises SecretUnavailable (503, the platform retries) — it is never cached as "no
secret". In the local stage a secret that is not set gets a random development value kept under the
local state directory, so a developer can sign test deliveries; in any other stage a missing secret
makes intake fail closed.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from chalicelib.channels.errors import SecretUnavailable
from chalicelib.settings import Settings

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SECRET_MAX_AGE_SECONDS = 300
"""How long a value read from SSM is trusted before it is read again (a rotation shows within this)."""
SECRET_LOOKUP_ATTEMPTS = 3
SSM_PREFIX = "/carewire/"
"""The functions' IAM policies (infra/resources.yaml) allow ssm:GetParameter under this path only."""


class ChannelConfigError(ValueError):
    """channels.yaml is invalid; the message names the file and the channel."""


@dataclass(frozen=True)
class SecretRef:
    env: str | None = None
    ssm: str | None = None

    def describe(self) -> str:
        return f"env:{self.env}" if self.env else f"ssm:{self.ssm}"


@dataclass(frozen=True)
class NamedSecret:
    """One named secret of a channel: its current reference and, while rotating, the previous one."""

    current: SecretRef
    previous: SecretRef | None = None
    previous_until: datetime | None = None
    """The previous value verifies until this moment (UTC), then only `current` does."""

    def describe(self) -> str:
        text = self.current.describe()
        if self.previous is not None and self.previous_until is not None:
            text += f" (previous {self.previous.describe()} until {self.previous_until.isoformat()})"
        return text


@dataclass(frozen=True)
class ChannelConfig:
    id: str
    platform: str
    brand_handles: tuple[str, ...]
    brand_ids: tuple[str, ...]
    secrets: Mapping[str, NamedSecret] = field(default_factory=dict)
    brand: str = ""
    """The operator brand this channel speaks for (rule scopes name brands); defaults to the channel id."""

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/{self.id}"

    @property
    def secret(self) -> SecretRef:
        """The reference of the signing secret (the first declared when the platform is unknown here)."""
        from chalicelib.channels import registry

        name = registry.get(self.platform).signing_secret
        return self.secrets[name].current

    def is_brand_id(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self.brand_ids

    def is_brand_handle(self, handle: str | None) -> bool:
        return handle is not None and handle.lstrip("@").lower() in self.brand_handles


def _fail(path: Path, where: str, what: str) -> ChannelConfigError:
    return ChannelConfigError(f"{path}: {where}: {what}")


def _parse_ref(path: Path, where: str, label: str, raw: Any) -> SecretRef:
    refs = {k: raw.get(k) for k in ("env", "ssm")} if isinstance(raw, dict) else {}
    given = {k: v for k, v in refs.items() if v is not None}
    if len(given) != 1 or not all(isinstance(v, str) and v for v in given.values()):
        raise _fail(path, where, f"{label} must be exactly one reference: {{env: VAR}} or {{ssm: /parameter/name}}")
    if refs["ssm"] is not None and not str(refs["ssm"]).startswith(SSM_PREFIX):
        raise _fail(path, where, f"{label}: SSM parameters live under {SSM_PREFIX} (all the functions may read)")
    return SecretRef(env=refs["env"], ssm=refs["ssm"])


def _parse_until(path: Path, where: str, label: str, raw: Any) -> datetime:
    if isinstance(raw, datetime):
        moment = raw
    else:
        try:
            moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise _fail(
                path, where, f"{label}.until must be an ISO 8601 time (the end of the rotation window)"
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_named(path: Path, where: str, label: str, raw: Any) -> NamedSecret:
    if not isinstance(raw, dict):
        raise _fail(path, where, f"{label} must be exactly one reference: {{env: VAR}} or {{ssm: /parameter/name}}")
    extra = sorted(set(raw) - {"env", "ssm", "previous"})
    if extra:
        raise _fail(path, where, f"{label}: unknown field(s) {extra}; valid: ['env', 'previous', 'ssm']")
    current = _parse_ref(path, where, label, raw)
    previous = raw.get("previous")
    if previous is None:
        return NamedSecret(current)
    if not isinstance(previous, dict) or "until" not in previous:
        raise _fail(path, where, f"{label}.previous needs `until`: when the previous value stops verifying")
    until = _parse_until(path, where, f"{label}.previous", previous["until"])
    ref = _parse_ref(path, where, f"{label}.previous", {k: v for k, v in previous.items() if k != "until"})
    return NamedSecret(current, ref, until)


def _parse_secrets(path: Path, where: str, raw: dict[str, Any], platform_name: str) -> dict[str, NamedSecret]:
    from chalicelib.channels import registry

    platform = registry.get(platform_name)
    if "secret" in raw and "secrets" in raw:
        raise _fail(path, where, "give either `secret` (the signing secret) or `secrets` (named), not both")
    named: Any
    if "secret" in raw:
        named = {platform.signing_secret: raw["secret"]}
        label = {platform.signing_secret: "secret"}
    else:
        named = raw.get("secrets")
        if not isinstance(named, dict):
            raise _fail(
                path,
                where,
                f"secrets must map names to references; {platform_name} names: {list(platform.secret_names)}",
            )
        label = {name: f"secrets.{name}" for name in named}
    unknown = sorted(str(n) for n in named if n not in platform.secret_names)
    if unknown:
        raise _fail(
            path, where, f"unknown secret name(s) {unknown}; {platform_name} names: {list(platform.secret_names)}"
        )
    missing = [n for n in platform.required_secrets if n not in named]
    if missing:
        raise _fail(path, where, f"{platform_name} channels need secret(s) {missing}")
    return {str(n): _parse_named(path, where, label[n], v) for n, v in named.items()}


def _parse_channel(path: Path, index: int, raw: Any) -> ChannelConfig:
    from chalicelib.channels import registry

    where = f"channels[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    allowed = {"id", "platform", "brand", "brand_handles", "brand_ids", "secret", "secrets"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise _fail(path, where, f"unknown field(s) {extra}; valid: {sorted(allowed)}")
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _fail(path, where, "id must be lowercase letters, digits, '-' or '_'")
    where = f"channel {cid!r}"
    platform = raw.get("platform")
    if not isinstance(platform, str) or platform not in registry.names():
        raise _fail(path, where, f"platform {platform!r} is not supported; valid: {list(registry.names())}")
    secrets = _parse_secrets(path, where, raw, platform)
    handles = raw.get("brand_handles") or []
    ids = raw.get("brand_ids") or []
    if not isinstance(handles, list) or not isinstance(ids, list) or not (handles or ids):
        raise _fail(path, where, "brand_handles and/or brand_ids must list the brand's own accounts")
    return ChannelConfig(
        id=cid,
        platform=platform,
        brand_handles=tuple(str(h).lstrip("@").lower() for h in handles),
        brand_ids=tuple(str(i) for i in ids),
        secrets=secrets,
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
    problems: list[str] = []  # the first problem of every channel, so one run shows them all
    for index, raw in enumerate(doc["channels"]):
        try:
            channel = _parse_channel(path, index, raw)
        except ChannelConfigError as exc:
            problems.append(str(exc))
            continue
        if channel.id in channels:
            problems.append(str(_fail(path, f"channel {channel.id!r}", "id is used twice")))
        channels[channel.id] = channel
    if problems:
        raise ChannelConfigError("\n".join(problems))
    return channels


class SecretResolver:
    """Resolves a channel's named secrets: environment variables on every call (cheap), SSM through
    Powertools Parameters cached for `max_age` seconds, local development values from one file."""

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str] | None = None,
        ssm_client_factory: Callable[[], Any] | None = None,
        max_age: int = SECRET_MAX_AGE_SECONDS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        retry_delay: float = 0.05,
    ) -> None:
        self._settings = settings
        self._env = os.environ if env is None else env
        self._ssm_factory = ssm_client_factory
        self._provider: Any = None
        self._max_age = max_age
        self._now = now
        self._retry_delay = retry_delay
        self._lock = threading.Lock()
        self._development: dict[str, str] | None = None

    def resolve(self, channel: ChannelConfig) -> str | None:
        """The current value of the channel's signing secret (None when it is not set)."""
        from chalicelib.channels import registry

        return self.value(channel, registry.get(channel.platform).signing_secret)

    def value(self, channel: ChannelConfig, name: str) -> str | None:
        """The current value of secret `name` (None when the channel names no such secret or it is unset)."""
        named = channel.secrets.get(name)
        if named is None:
            return None
        return self._lookup(channel, name, named.current, development=True)

    def values(self, channel: ChannelConfig, name: str) -> tuple[str, ...]:
        """Every value of secret `name` accepted now: the current one, and the previous one inside its
        rotation window. Empty when none is set. SecretUnavailable when a lookup keeps failing."""
        named = channel.secrets.get(name)
        if named is None:
            return ()
        found = [self._lookup(channel, name, named.current, development=True)]
        if named.previous is not None and named.previous_until is not None and self._now() < named.previous_until:
            found.append(self._lookup(channel, name, named.previous, development=False))
        return tuple(dict.fromkeys(v for v in found if v))

    def _lookup(self, channel: ChannelConfig, name: str, ref: SecretRef, development: bool) -> str | None:
        if ref.env and self._env.get(ref.env):
            return self._env[ref.env]
        if ref.ssm and not self._settings.is_local:
            return self._ssm(ref.ssm)
        stage_path = self._env.get("CAREWIRE_SECRETS_PATH")
        if stage_path and development and not self._settings.is_local:  # a deployed stage (`carewire secrets set`)
            from chalicelib.channels.stage_secrets import parameter_name

            return self._ssm(parameter_name(stage_path, channel.id, name))
        if self._settings.is_local and development:
            return self.development_secret(channel, name)
        return None

    def _ssm(self, name: str) -> str:
        """The parameter's value; retried, then SecretUnavailable. Powertools caches only successes."""
        last: Exception | None = None
        for attempt in range(SECRET_LOOKUP_ATTEMPTS):
            try:
                value = self._ssm_provider().get(name, max_age=self._max_age, decrypt=True)
            except Exception as exc:  # noqa: BLE001 - throttles, network, missing parameter: retried, then 503
                last = exc
                if attempt + 1 < SECRET_LOOKUP_ATTEMPTS:
                    time.sleep(self._retry_delay * (attempt + 1))
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if not isinstance(value, str) or not value:
                raise SecretUnavailable("a secret parameter is empty")
            return value
        raise SecretUnavailable(f"a secret could not be read: {type(last).__name__}")

    def _ssm_provider(self) -> Any:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            client = self._ssm_factory() if self._ssm_factory is not None else None
            self._provider = SSMProvider(boto3_client=client) if client is not None else SSMProvider()
        return self._provider

    def development_secret(self, channel: ChannelConfig, name: str | None = None) -> str:
        """A random value of secret `name` (default: the signing secret) for the local stage only, in the
        platform's format, kept in `<home>/dev-secrets.json` (mode 600)."""
        from chalicelib.channels import registry

        if not self._settings.is_local:
            raise RuntimeError("development secrets exist only in the local stage")
        platform = registry.get(channel.platform)
        name = name or platform.signing_secret
        key = channel.id if name == platform.signing_secret else f"{channel.id}:{name}"
        with self._lock:
            known = self._development
            path: Path = self._settings.home / "dev-secrets.json"
            if known is None or key not in known:
                known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            if key not in known:
                known[key] = platform.generate_secret(name)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(known, indent=2), encoding="utf-8")
                os.chmod(tmp, 0o600)
                tmp.replace(path)
            self._development = known
            return known[key]

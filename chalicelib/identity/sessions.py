"""Console sessions: a signed cookie (HMAC-SHA256), HttpOnly, SameSite=Strict, scoped to /console, plus a
CSRF token bound to the session that every unsafe request must echo in `X-CSRF-Token`.

The secret is generated into the local home (`console-secret`, mode 600); in AWS it is the SecureString
parameter named by CAREWIRE_CONSOLE_SECRET_PARAMETER (default `/carewire/<stage>/console-secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.settings import Settings

COOKIE = "cw_session"
LIFETIME = timedelta(hours=10)
"""A working day; signing in again afterwards."""
_lock = threading.Lock()
_secrets: dict[str, bytes] = {}


class SessionRejected(Exception):
    """No valid session: missing, tampered, expired, or its account changed since."""


class CsrfRejected(Exception):
    """An unsafe request without the session's CSRF token, or from another origin."""


@dataclass(frozen=True)
class Session:
    username: str
    epoch: int
    csrf: str
    expires: int
    """Unix seconds."""
    via: str = "local"
    """`local` (the users table) or `cognito`."""
    roles: tuple[str, ...] = ()
    """Only for Cognito sessions (the groups in the verified ID token); local ones read the account."""
    zone: str = ""
    token: str = ""
    """Only for Cognito sessions: the access token they were opened with, which Cognito is asked about again
    (a reset, a disable or a global sign-out ends the session within a minute)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_secret(settings: Settings) -> bytes:
    key = str(settings.home.resolve()) if settings.is_local else settings.stage
    with _lock:
        if key not in _secrets:
            _secrets[key] = _local_secret(settings) if settings.is_local else _ssm_secret(settings)
        return _secrets[key]


def _local_secret(settings: Settings) -> bytes:
    path = settings.home / "console-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32), encoding="ascii")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def _ssm_secret(settings: Settings) -> bytes:
    import boto3

    name = os.environ.get("CAREWIRE_CONSOLE_SECRET_PARAMETER") or f"/carewire/{settings.stage}/console-secret"
    value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return hashlib.sha256(value.encode("utf-8")).digest()


def issue(secret: bytes, session: Session) -> str:
    payload = _b64(json.dumps(session.__dict__, separators=(",", ":")).encode("utf-8"))
    signature = _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def new_session(
    username: str,
    epoch: int,
    now: datetime,
    via: str = "local",
    roles: tuple[str, ...] = (),
    zone: str = "",
    token: str = "",
) -> Session:
    return Session(
        username=username,
        epoch=epoch,
        csrf=secrets.token_urlsafe(24),
        expires=int((now + LIFETIME).timestamp()),
        via=via,
        roles=roles,
        zone=zone,
        token=token,
    )


def read(secret: bytes, value: str, now: datetime) -> Session:
    payload, _, signature = value.partition(".")
    expected = _b64(hmac.new(secret, payload.encode("ascii", "replace"), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
        raise SessionRejected("the session cookie is not ours")
    try:
        doc: dict[str, Any] = json.loads(_unb64(payload))
        session = Session(**{**doc, "roles": tuple(doc.get("roles") or ())})
    except (ValueError, TypeError) as exc:
        raise SessionRejected("the session cookie is malformed") from exc
    if session.expires <= now.timestamp():
        raise SessionRejected("the session has expired; sign in again")
    return session


def cookie_value(headers: Any) -> str | None:
    """Our session cookie from a request's Cookie header(s)."""
    raw = headers.get("cookie") or ""
    for part in str(raw).split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def set_cookie(value: str, secure: bool, max_age: int | None = None, path: str = "/console") -> str:
    age = int(LIFETIME.total_seconds()) if max_age is None else max_age
    flags = f"; Path={path}; HttpOnly; SameSite=Strict; Max-Age={age}"
    return f"{COOKIE}={value}{flags}" + ("; Secure" if secure else "")


def check_csrf(headers: Any, method: str, session: Session) -> None:
    """Unsafe methods need the session's token in X-CSRF-Token, and an Origin (when sent) of this host."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return
    token = str(headers.get("x-csrf-token") or "")
    if not token or not hmac.compare_digest(token.encode("utf-8", "replace"), session.csrf.encode("ascii")):
        raise CsrfRejected("missing or wrong X-CSRF-Token")
    origin = headers.get("origin")
    host = headers.get("host")
    if origin and host and origin.split("://", 1)[-1] != host:
        raise CsrfRejected(f"cross-origin request from {origin}")

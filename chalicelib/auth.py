"""Who is calling the agent and notices APIs, and may they.

In AWS the routes use Chalice's IAMAuthorizer, so API Gateway has already verified the SigV4 signature;
the caller's IAM role name (from the request context) maps to Carewire roles in `policies/access.yaml`.
In the local stage there is no API Gateway: callers send `Authorization: Bearer <token>`, with one random
token per role kept in `<home>/tokens.json`. Unauthenticated → 401, authenticated without the role → 403.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from chalicelib.settings import Settings

ROLES = ("agent", "supervisor", "marketer", "care_lead", "admin")


class Unauthenticated(Exception):
    """No usable identity: 401."""


class Forbidden(Exception):
    """A known caller without the role: 403."""


class IdentityUnavailable(Exception):
    """The identity provider cannot answer now (its keys cannot be read, it is throttling): 503."""


@dataclass(frozen=True)
class Principal:
    id: str
    """An IAM role session (`role/session`) or `local:<role>`; recorded as the author of changes."""
    roles: frozenset[str]


@lru_cache(maxsize=8)
def _role_map(policies_dir: Path) -> dict[str, frozenset[str]]:
    import yaml  # only the AWS stages read access.yaml; the local stage and the webhook route never do

    doc = yaml.safe_load((policies_dir / "access.yaml").read_text(encoding="utf-8")) or {}
    by_iam_role: dict[str, set[str]] = {}
    for role, iam_roles in (doc.get("roles") or {}).items():
        if role not in ROLES:
            raise ValueError(f"{policies_dir / 'access.yaml'}: unknown role {role!r}; valid: {list(ROLES)}")
        for name in iam_roles or []:
            by_iam_role.setdefault(str(name), set()).add(role)
    return {name: frozenset(roles) for name, roles in by_iam_role.items()}


def local_tokens(settings: Settings) -> dict[str, str]:
    """role → bearer token for the local stage, created on first use (file mode 600)."""
    if not settings.is_local:
        raise RuntimeError("bearer tokens exist only in the local stage")
    path = settings.home / "tokens.json"
    tokens: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if set(tokens) != set(ROLES):
        tokens = {role: tokens.get(role) or secrets.token_urlsafe(24) for role in ROLES}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(tokens, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return tokens


def _iam_principal(context: dict[str, Any], settings: Settings) -> Principal:
    identity = context.get("identity") or {}
    arn = str(identity.get("userArn") or "")
    # arn:aws:sts::123456789012:assumed-role/CarewireAgents/maria  → role "CarewireAgents", session "maria"
    if ":assumed-role/" not in arn:
        raise Unauthenticated("the caller is not an IAM role session")
    role_name, _, session = arn.split(":assumed-role/", 1)[1].partition("/")
    roles = _role_map(settings.policies_dir).get(role_name, frozenset())
    return Principal(id=f"{role_name}/{session}", roles=roles)


def _bearer_principal(headers: Any, settings: Settings) -> Principal:
    header = str(headers.get("authorization") or "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send Authorization: Bearer <token> (carewire access tokens)")
    for role, expected in local_tokens(settings).items():
        if hmac.compare_digest(token.encode(), expected.encode()):
            return Principal(id=f"local:{role}", roles=frozenset({role}))
    raise Unauthenticated("unknown token")


def authorize(request: Any, settings: Settings, *allowed: str) -> Principal:
    """The caller of `request` if it holds one of `allowed` (admin holds every role)."""
    if settings.is_local:
        principal = _bearer_principal(request.headers, settings)
    else:
        principal = _iam_principal(request.context or {}, settings)
    if not principal.roles & (set(allowed) | {"admin"}):
        raise Forbidden(f"{principal.id} needs one of the roles {sorted(allowed)}")
    return principal

"""Sign-in through the Cognito user pool (AWS stages): InitiateAuth with USER_PASSWORD_AUTH, then the ID
token is verified here (RS256 against the pool's JWKS, issuer, audience, token use, expiry) before its
`cognito:groups` become Carewire roles. RSA verification is a few lines of integer arithmetic, so no
crypto dependency ships to Lambda."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.auth import ROLES, Unauthenticated

_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
"""DER DigestInfo header for SHA-256 (RFC 8017 §9.2)."""
_jwks_lock = threading.Lock()
_jwks: dict[str, dict[str, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Claims:
    username: str
    roles: frozenset[str]
    zone: str


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rsa_sha256_valid(message: bytes, signature: bytes, n: int, e: int) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256."""
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    decoded = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    digest_info = _SHA256_PREFIX + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return hmac.compare_digest(decoded, expected)


def verify_jwt(
    token: str, keys: dict[str, dict[str, Any]], *, issuer: str, audience: str, now: datetime
) -> dict[str, Any]:
    """The claims of a Cognito ID token, or Unauthenticated saying what is wrong with it."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        claims: dict[str, Any] = json.loads(_unb64(payload_b64))
        signature = _unb64(signature_b64)
    except ValueError:
        raise Unauthenticated("not a JWT") from None
    if header.get("alg") != "RS256":
        raise Unauthenticated("the token must be signed with RS256")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise Unauthenticated("the token was signed by an unknown key")
    n = int.from_bytes(_unb64(key["n"]), "big")
    e = int.from_bytes(_unb64(key["e"]), "big")
    if not rsa_sha256_valid(f"{header_b64}.{payload_b64}".encode("ascii"), signature, n, e):
        raise Unauthenticated("the token's signature is wrong")
    if claims.get("iss") != issuer:
        raise Unauthenticated("the token comes from another issuer")
    if claims.get("token_use") != "id" or claims.get("aud") != audience:
        raise Unauthenticated("not an ID token for the console")
    if float(claims.get("exp", 0)) <= now.timestamp():
        raise Unauthenticated("the token has expired")
    return claims


def claims_to_identity(claims: dict[str, Any]) -> Claims:
    groups = claims.get("cognito:groups") or []
    return Claims(
        username=str(claims.get("cognito:username") or claims.get("sub")),
        roles=frozenset(g for g in groups if g in ROLES),
        zone=str(claims.get("zoneinfo") or claims.get("custom:zoneinfo") or "UTC"),
    )


class CognitoSignIn:
    def __init__(
        self,
        region: str,
        user_pool_id: str,
        client_id: str,
        client: Any = None,
        jwks: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """`client`: a cognito-idp client; `jwks`: kid → JSON Web Key (default: fetched once from the pool)."""
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_id = client_id
        self._region = region
        self._client = client
        self._jwks = jwks

    @classmethod
    def from_env(cls) -> CognitoSignIn:
        pool, client = os.environ.get("CAREWIRE_COGNITO_USER_POOL_ID"), os.environ.get("CAREWIRE_COGNITO_CLIENT_ID")
        if not pool or not client:
            raise Unauthenticated("console sign-in is not configured (no Cognito user pool)")
        return cls(os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), pool, client)

    def keys(self) -> dict[str, dict[str, Any]]:
        if self._jwks is not None:
            return self._jwks
        with _jwks_lock:
            if self.issuer not in _jwks:
                with urllib.request.urlopen(f"{self.issuer}/.well-known/jwks.json", timeout=3) as answer:
                    _jwks[self.issuer] = {k["kid"]: k for k in json.loads(answer.read())["keys"]}
            return _jwks[self.issuer]

    def sign_in(self, username: str, password: str, now: datetime) -> Claims:
        import boto3

        client = self._client or boto3.client("cognito-idp", region_name=self._region)
        try:
            got = client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except client.exceptions.NotAuthorizedException:
            raise Unauthenticated("unknown user name or wrong password") from None
        result = got.get("AuthenticationResult")
        if not result:  # a challenge: new password required, MFA — done in Cognito's hosted UI for now
            raise Unauthenticated(f"finish signing in through Cognito first ({got.get('ChallengeName')})")
        claims = verify_jwt(result["IdToken"], self.keys(), issuer=self.issuer, audience=self.client_id, now=now)
        return claims_to_identity(claims)

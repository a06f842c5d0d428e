"""Sign-in through the Cognito user pool (AWS stages) and the pool's tokens on the console's API.

The console's own sign-in page calls InitiateAuth (USER_PASSWORD_AUTH). Cognito answers with tokens or a
challenge: an admin-created user's first sign-in (NEW_PASSWORD_REQUIRED) and MFA codes (SOFTWARE_TOKEN_MFA,
SMS_MFA, EMAIL_OTP) are answered through RespondToAuthChallenge; the challenge's `Session` travels through
the browser as Cognito's hosted UI does it, and nothing else of the challenge's parameters does (they can
hold the user's e-mail and phone). Tokens are verified here (RS256 against the pool's JWKS, issuer, app
client, token use, expiry) before `cognito:groups` become Carewire roles. RSA verification is a few lines of
integer arithmetic, so no crypto dependency ships to Lambda. A console session keeps the access token it was
issued and asks Cognito about it again at most once a minute (`still_signed_in`), so revoking ends it.

The JWKS is fetched from the address boto uses for cognito-idp (so a stand-in set with AWS_ENDPOINT_URL
serves it too; in AWS that is the issuer's own address), cached per pool, fetched again once when a token
names a key it does not hold (Cognito rotated its keys) but at most once per `REFETCH_FLOOR_SECONDS`; a failed
fetch is `IdentityUnavailable` (503) and is never remembered as "no keys". The issuer every token must name
is always the real pool's `https://cognito-idp.<region>.amazonaws.com/<pool id>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from chalicelib.auth import ROLES, IdentityUnavailable, Unauthenticated

logger = logging.getLogger(__name__)
_SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
"""DER DigestInfo header for SHA-256 (RFC 8017 §9.2)."""
REFETCH_FLOOR_SECONDS = 60.0
"""A token with an unknown key fetches the JWKS again at most this often (forged kids cannot flood Cognito)."""
CODE_CHALLENGES = {
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
}
"""MFA challenges the console answers with a code the person types, and the response key Cognito reads it from."""
NEW_PASSWORD = "NEW_PASSWORD_REQUIRED"
_STALE_SESSION = "this sign-in took too long or was already used; start again with your user name and password"
_jwks_lock = threading.Lock()
_jwks: dict[str, dict[str, dict[str, Any]]] = {}
"""issuer → kid → JSON Web Key, shared by the warm invocations of one Lambda container."""
_fetched_at: dict[str, float] = {}
"""issuer → monotonic time of its last successful fetch."""
RECHECK_SECONDS = 60.0
"""A console session asks Cognito whether its access token still stands at most this often."""
_confirmed: dict[str, float] = {}
"""sha256 of an access token → monotonic time Cognito last confirmed it."""

Keys = Mapping[str, dict[str, Any]] | Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Claims:
    username: str
    roles: frozenset[str]
    zone: str
    access_token: str = ""
    """After a sign-in: the access token Cognito issued with the verified ID token (for `still_signed_in`)."""


@dataclass(frozen=True)
class Challenge:
    """Cognito wants one more answer before it issues tokens."""

    name: str
    session: str
    """Cognito's opaque challenge session (valid a few minutes, one use)."""
    username: str
    """The pool's user name, to send back with the answer (it may differ from what the person typed)."""

    @property
    def needs(self) -> str:
        """What the person must type: `new_password` or `code`."""
        return "new_password" if self.name == NEW_PASSWORD else "code"

    def doc(self) -> dict[str, str]:
        return {"challenge": self.name, "session": self.session, "username": self.username, "needs": self.needs}


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


def verify_jwt(token: str, keys: Keys, *, issuer: str, audience: str, now: datetime) -> dict[str, Any]:
    """The claims of a Cognito ID token (`aud` = the app client) or access token (`client_id` = the app
    client), or Unauthenticated saying what is wrong with it. `keys`: kid → JWK, or a lookup by kid."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        claims = json.loads(_unb64(payload_b64))
        signature = _unb64(signature_b64)
    except ValueError:
        raise Unauthenticated("not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("not a JWT")
    if header.get("alg") != "RS256":
        raise Unauthenticated("the token must be signed with RS256")
    kid = str(header.get("kid"))
    key = keys.get(kid) if isinstance(keys, Mapping) else keys(kid)
    if key is None:
        raise Unauthenticated("the token was signed by an unknown key")
    n = int.from_bytes(_unb64(key["n"]), "big")
    e = int.from_bytes(_unb64(key["e"]), "big")
    if not rsa_sha256_valid(f"{header_b64}.{payload_b64}".encode("ascii"), signature, n, e):
        raise Unauthenticated("the token's signature is wrong")
    if claims.get("iss") != issuer:
        raise Unauthenticated("the token comes from another issuer")
    use = claims.get("token_use")
    client = claims.get("aud") if use == "id" else claims.get("client_id") if use == "access" else None
    if client != audience:
        raise Unauthenticated("not an ID or access token of the console's app client")
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float) or expires <= now.timestamp():
        raise Unauthenticated("the token has expired")
    return claims


def claims_to_identity(claims: dict[str, Any]) -> Claims:
    """ID tokens name the user in `cognito:username` and carry `zoneinfo`; access tokens say `username`."""
    groups = claims.get("cognito:groups") or []
    return Claims(
        username=str(claims.get("cognito:username") or claims.get("username") or claims.get("sub")),
        roles=frozenset(g for g in groups if g in ROLES),
        zone=str(claims.get("zoneinfo") or claims.get("custom:zoneinfo") or "UTC"),
    )


def _read_jwks(url: str) -> dict[str, dict[str, Any]]:
    """kid → RSA key from a JWKS document, or IdentityUnavailable (never an empty answer taken for "no keys")."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            document = json.loads(answer.read())
        keys = {k["kid"]: k for k in document["keys"] if k.get("kty") == "RSA" and k.get("n") and k.get("e")}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("cognito JWKS fetch failed: %s", type(exc).__name__)
        raise IdentityUnavailable("the user pool's signing keys cannot be read right now; try again") from exc
    if not keys:
        raise IdentityUnavailable("the user pool published no signing keys; try again")
    return keys


class CognitoSignIn:
    def __init__(
        self,
        region: str,
        user_pool_id: str,
        client_id: str,
        client: Any = None,
        jwks: dict[str, dict[str, Any]] | None = None,
        *,
        fetch: Callable[[str], dict[str, dict[str, Any]]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        refetch_floor: float = REFETCH_FLOOR_SECONDS,
    ) -> None:
        """`client`: a cognito-idp client (default: built lazily, honouring boto's endpoint settings); `jwks`:
        fixed kid → JSON Web Key (default: fetched with `fetch`, by default over HTTPS, and cached per container)."""
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self._region = region
        self._client = client
        self._jwks = jwks
        self._fetch = fetch
        self._monotonic = monotonic
        self._refetch_floor = refetch_floor

    @classmethod
    def from_env(cls) -> CognitoSignIn:
        """The stage's pool and app client; one instance (and one boto client) per container and setting."""
        pool, client = os.environ.get("CAREWIRE_COGNITO_USER_POOL_ID"), os.environ.get("CAREWIRE_COGNITO_CLIENT_ID")
        if not pool or not client:
            raise Unauthenticated("console sign-in is not configured (no Cognito user pool)")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        endpoint = (
            os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") or os.environ.get("AWS_ENDPOINT_URL") or ""
        )
        return _configured(region, pool, client, endpoint)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp", region_name=self._region)
        return self._client

    def jwks_url(self) -> str:
        """The issuer's JWKS in AWS; under the endpoint boto was told to use (a stand-in) otherwise."""
        endpoint = str(self.client.meta.endpoint_url).rstrip("/")
        if endpoint.split("://", 1)[-1].split("/", 1)[0].endswith(".amazonaws.com"):
            return f"{self.issuer}/.well-known/jwks.json"
        return f"{endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def key(self, kid: str) -> dict[str, Any] | None:
        """The pool's key `kid`: cached; fetched on first use; fetched again when unknown (rotation), at most
        once per refetch floor."""
        if self._jwks is not None:
            return self._jwks.get(kid)
        with _jwks_lock:
            known = _jwks.get(self.issuer)
            if known is not None and kid in known:
                return known[kid]
            last = _fetched_at.get(self.issuer)
            if known is not None and last is not None and self._monotonic() - last < self._refetch_floor:
                return None
            _jwks[self.issuer] = (self._fetch or _read_jwks)(self.jwks_url())
            _fetched_at[self.issuer] = self._monotonic()
            return _jwks[self.issuer].get(kid)

    def verify(self, token: str, now: datetime) -> Claims:
        """The person behind an ID or access token of this pool's console client."""
        return claims_to_identity(verify_jwt(token, self.key, issuer=self.issuer, audience=self.client_id, now=now))

    def still_signed_in(self, access_token: str) -> bool:
        """Whether Cognito still honours `access_token`: not revoked (a reset, a global sign-out), its user not
        disabled or deleted. Asked at most once per `RECHECK_SECONDS` per token; Cognito's trouble is 503."""
        if not access_token:
            return False
        digest, now = hashlib.sha256(access_token.encode("utf-8")).hexdigest(), self._monotonic()
        last = _confirmed.get(digest)
        if last is not None and now - last < RECHECK_SECONDS:
            return True
        try:
            self._call("get_user", AccessToken=access_token)
        except Unauthenticated:
            _confirmed.pop(digest, None)
            return False
        if len(_confirmed) > 10_000:
            _confirmed.clear()
        _confirmed[digest] = now
        return True

    def sign_in(self, username: str, password: str, now: datetime) -> Claims | Challenge:
        got = self._call(
            "initiate_auth",
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return self._outcome(got, username, now)

    def answer(self, challenge: Challenge, answer: str, now: datetime) -> Claims | Challenge:
        """Answer `challenge` with the new password or the code the person typed."""
        if challenge.name == NEW_PASSWORD:
            responses = {"USERNAME": challenge.username, "NEW_PASSWORD": answer}
        elif challenge.name in CODE_CHALLENGES:
            responses = {"USERNAME": challenge.username, CODE_CHALLENGES[challenge.name]: answer}
        else:
            raise Unauthenticated(f"the console cannot answer Cognito's {challenge.name} challenge")
        got = self._call(
            "respond_to_auth_challenge",
            ClientId=self.client_id,
            ChallengeName=challenge.name,
            Session=challenge.session,
            ChallengeResponses=responses,
        )
        return self._outcome(got, challenge.username, now)

    def _outcome(self, got: dict[str, Any], username: str, now: datetime) -> Claims | Challenge:
        result = got.get("AuthenticationResult")
        if result:
            return replace(self.verify(str(result["IdToken"]), now), access_token=str(result.get("AccessToken") or ""))
        name = str(got.get("ChallengeName") or "")
        if name != NEW_PASSWORD and name not in CODE_CHALLENGES:
            # MFA_SETUP, SELECT_MFA_TYPE, CUSTOM_CHALLENGE, device challenges: not offered by the template's pool
            raise Unauthenticated(f"Cognito asks for {name or 'an unknown step'}, which this sign-in page cannot do")
        parameters = got.get("ChallengeParameters") or {}
        who = str(parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username)
        return Challenge(name=name, session=str(got.get("Session") or ""), username=who)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One call to Cognito with its documented errors turned into ours: the person's mistakes 401/400,
        Cognito's trouble 503."""
        from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

        from chalicelib.api.http import InputRejected

        try:
            got: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ParamValidationError as exc:
            raise InputRejected("body", "a field is too long or too short for Cognito") from exc
        except ClientError as exc:
            code, message = exc.response["Error"].get("Code", ""), exc.response["Error"].get("Message", "")
            raise _client_error(operation, code, message) from None
        except BotoCoreError as exc:
            logger.warning("cognito %s failed: %s", operation, type(exc).__name__)
            raise IdentityUnavailable("the user pool cannot be reached right now; try again") from None
        return got


@lru_cache(maxsize=4)
def _configured(region: str, pool: str, client: str, endpoint: str) -> CognitoSignIn:
    """`endpoint` only keys the cache: boto reads it from the environment itself."""
    return CognitoSignIn(region, pool, client)


def _client_error(operation: str, code: str, message: str) -> Exception:
    from chalicelib.api.http import InputRejected

    if code in ("NotAuthorizedException", "UserNotFoundException"):
        if operation == "respond_to_auth_challenge" and "session" in message.lower():
            return Unauthenticated(_STALE_SESSION)
        if "attempts exceeded" in message.lower():
            return Unauthenticated("too many wrong passwords in a row: wait a few minutes and try again")
        return Unauthenticated("unknown user name or wrong password")
    if code == "PasswordResetRequiredException":
        return Unauthenticated("your password was reset: ask an administrator for a temporary one")
    if code == "UserNotConfirmedException":
        return Unauthenticated("this account is not confirmed yet: ask an administrator")
    if code == "CodeMismatchException":
        return Unauthenticated("wrong code: type the current one")
    if code in ("ExpiredCodeException", "ResourceNotFoundException") and operation == "respond_to_auth_challenge":
        return Unauthenticated(_STALE_SESSION)
    if code == "InvalidPasswordException":
        return InputRejected("new_password", message or "the new password does not meet the pool's password policy")
    logger.warning("cognito %s refused: %s", operation, code)
    return IdentityUnavailable(f"the user pool refused the request ({code}); try again or ask an administrator")

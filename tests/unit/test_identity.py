"""Passwords, session cookies, CSRF checks and Cognito ID-token verification, without I/O."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from chalicelib.auth import Unauthenticated
from chalicelib.identity import sessions
from chalicelib.identity.cognito import Claims, CognitoSignIn, claims_to_identity, verify_jwt
from chalicelib.identity.passwords import hash_password, verify_password
from chalicelib.settings import Settings

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_passwords_are_salted_scrypt_hashes_that_verify_only_the_right_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert not verify_password("correct horse", None)  # an unknown user never signs in
    assert not verify_password("x", "md5$abc")
    assert not verify_password("x", "garbage")


def test_a_session_cookie_round_trips_and_refuses_tampering_expiry_and_other_secrets() -> None:
    secret = b"k" * 32
    session = sessions.new_session("ana", 3, NOW)
    value = sessions.issue(secret, session)
    assert sessions.read(secret, value, NOW) == session
    payload, _, signature = value.partition(".")
    forged = base64.urlsafe_b64encode(json.dumps({**session.__dict__, "username": "admin"}).encode()).decode()
    for bad in (f"{forged.rstrip('=')}.{signature}", payload, f"{payload}.", value + "x"):
        with pytest.raises(sessions.SessionRejected):
            sessions.read(secret, bad, NOW)
    with pytest.raises(sessions.SessionRejected):
        sessions.read(b"other" * 8, value, NOW)
    with pytest.raises(sessions.SessionRejected, match="expired"):
        sessions.read(secret, value, NOW + sessions.LIFETIME + timedelta(seconds=1))


def test_the_cookie_is_httponly_strict_and_scoped_to_the_console() -> None:
    cookie = sessions.set_cookie("v", secure=True)
    assert cookie.startswith("cw_session=v;")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/console", "Secure"):
        assert flag in cookie
    assert "Secure" not in sessions.set_cookie("v", secure=False)  # http://127.0.0.1 locally
    assert sessions.cookie_value({"cookie": "a=b; cw_session=xyz; c=d"}) == "xyz"
    assert sessions.cookie_value({"cookie": "a=b"}) is None


def test_unsafe_requests_need_the_token_and_the_same_origin() -> None:
    session = sessions.new_session("ana", 1, NOW)
    sessions.check_csrf({}, "GET", session)
    with pytest.raises(sessions.CsrfRejected):
        sessions.check_csrf({}, "POST", session)
    with pytest.raises(sessions.CsrfRejected):
        sessions.check_csrf({"x-csrf-token": "guess"}, "POST", session)
    good = {"x-csrf-token": session.csrf, "host": "care.example", "origin": "https://care.example"}
    sessions.check_csrf(good, "POST", session)
    with pytest.raises(sessions.CsrfRejected, match="cross-origin"):
        sessions.check_csrf({**good, "origin": "https://evil.example"}, "DELETE", session)


def test_the_local_secret_is_generated_once_with_mode_600(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = sessions.session_secret(settings)
    path = tmp_path / "home" / "console-secret"
    assert len(first) == 32 and oct(path.stat().st_mode & 0o777) == "0o600"
    sessions._secrets.clear()
    assert sessions.session_secret(settings) == first


# ------------------------------------------------------------------------------------- Cognito ID tokens


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if all(pow(rng.randrange(2, candidate - 1), candidate - 1, candidate) == 1 for _ in range(20)):
            return candidate


@pytest.fixture(scope="module")
def rsa_key() -> tuple[int, int, int]:
    return make_rsa_key()


@lru_cache(maxsize=1)
def make_rsa_key() -> tuple[int, int, int]:
    """A 1024-bit RSA key (n, e, d) made here: tests sign ID tokens the way Cognito does."""
    rng = random.Random(16)
    e = 65537
    while True:
        p, q = _prime(512, rng), _prime(512, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            return p * q, e, pow(e, -1, phi)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(key: tuple[int, int, int], claims: dict[str, Any], kid: str = "k1", alg: str = "RS256") -> str:
    n, _e, d = key
    head = _b64(json.dumps({"kid": kid, "alg": alg}).encode())
    body = _b64(json.dumps(claims).encode())
    size = (n.bit_length() + 7) // 8
    info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(f"{head}.{body}".encode()).digest()
    em = b"\x00\x01" + b"\xff" * (size - len(info) - 3) + b"\x00" + info
    return f"{head}.{body}.{_b64(pow(int.from_bytes(em, 'big'), d, n).to_bytes(size, 'big'))}"


ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": "client-1",
        "token_use": "id",
        "exp": NOW.timestamp() + 600,
        "cognito:username": "maria",
        "cognito:groups": ["agent", "Staff"],
        "zoneinfo": "Asia/Manila",
    }
    return {**claims, **changes}


def _jwks(key: tuple[int, int, int]) -> dict[str, dict[str, Any]]:
    n, e, _d = key
    return {
        "k1": {"kid": "k1", "n": _b64(n.to_bytes((n.bit_length() + 7) // 8, "big")), "e": _b64(e.to_bytes(3, "big"))}
    }


def test_a_cognito_id_token_is_verified_and_its_groups_become_roles(rsa_key: tuple[int, int, int]) -> None:
    claims = verify_jwt(_token(rsa_key, _claims()), _jwks(rsa_key), issuer=ISSUER, audience="client-1", now=NOW)
    identity = claims_to_identity(claims)
    assert (identity.username, identity.roles, identity.zone) == ("maria", frozenset({"agent"}), "Asia/Manila")


@pytest.mark.parametrize(
    ("changes", "token_kwargs", "message"),
    [
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}, {}, "issuer"),
        ({"aud": "another-client"}, {}, "app client"),
        ({"token_use": "access"}, {}, "app client"),  # an access token names its client in `client_id`
        ({"token_use": "refresh"}, {}, "app client"),
        ({"exp": NOW.timestamp() - 1}, {}, "expired"),
        ({"exp": "soon"}, {}, "expired"),
        ({}, {"kid": "unknown"}, "unknown key"),
        ({}, {"alg": "HS256"}, "RS256"),
    ],
)
def test_a_cognito_token_is_refused_when_anything_is_off(
    rsa_key: tuple[int, int, int], changes: dict[str, Any], token_kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(Unauthenticated, match=message):
        verify_jwt(
            _token(rsa_key, _claims(**changes), **token_kwargs),
            _jwks(rsa_key),
            issuer=ISSUER,
            audience="client-1",
            now=NOW,
        )


def test_a_forged_cognito_payload_fails_the_signature(rsa_key: tuple[int, int, int]) -> None:
    head, _body, signature = _token(rsa_key, _claims()).split(".")
    forged = _b64(json.dumps(_claims(**{"cognito:groups": ["admin"]})).encode())
    with pytest.raises(Unauthenticated, match="signature"):
        verify_jwt(f"{head}.{forged}.{signature}", _jwks(rsa_key), issuer=ISSUER, audience="client-1", now=NOW)


def _stubbed(*answers: tuple[str, dict[str, Any]]) -> Any:
    """A real cognito-idp client whose calls answer from a Stubber, in order: (operation, response | error code)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("cognito-idp", region_name="us-east-1")
    stubber = Stubber(client)
    for operation, response in answers:
        if "error" in response:
            stubber.add_client_error(
                operation, service_error_code=response["error"], service_message=response["message"]
            )
        else:
            stubber.add_response(operation, response)
    stubber.activate()
    return client


def test_sign_in_through_cognito_checks_the_token_it_gets(rsa_key: tuple[int, int, int]) -> None:
    wrong = {"error": "NotAuthorizedException", "message": "Incorrect username or password."}
    fake = _stubbed(
        ("initiate_auth", {"AuthenticationResult": {"IdToken": _token(rsa_key, _claims())}}), ("initiate_auth", wrong)
    )
    cognito = CognitoSignIn("us-east-1", "us-east-1_pool", "client-1", client=fake, jwks=_jwks(rsa_key))
    signed_in = cognito.sign_in("maria", "right", NOW)
    assert isinstance(signed_in, Claims) and signed_in.roles == frozenset({"agent"})
    with pytest.raises(Unauthenticated, match="wrong password"):
        cognito.sign_in("maria", "wrong", NOW)
    tampered = _stubbed(
        ("initiate_auth", {"AuthenticationResult": {"IdToken": _token(rsa_key, _claims(aud="someone-else"))}})
    )
    with pytest.raises(Unauthenticated):
        CognitoSignIn("us-east-1", "us-east-1_pool", "client-1", client=tampered, jwks=_jwks(rsa_key)).sign_in(
            "maria", "right", NOW
        )

"""Our handling of the challenges and errors Cognito documents for InitiateAuth / RespondToAuthChallenge, on a real
cognito-idp client answered by botocore's Stubber (exact parameters), and the JWKS cache's rules. The stand-in
test (tests/integration/test_cognito_standin.py) runs what moto implements; this covers what it does not: the
SMS and e-mail code challenges' exact responses, challenges the console cannot answer, and Cognito's error codes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from chalicelib.api.http import InputRejected, error_response
from chalicelib.auth import IdentityUnavailable, Unauthenticated
from chalicelib.identity import cognito
from chalicelib.identity.cognito import Challenge, Claims, CognitoSignIn
from tests.unit.test_identity import NOW, _claims, _jwks, _token, make_rsa_key

SESSION = "AYABeC-cognito-challenge-session-0123456789"
SUB = "7d8a4b2e-0000-4000-8000-000000000001"
"""Cognito's own user name for someone who typed an alias: what USER_ID_FOR_SRP carries."""


@pytest.fixture
def client() -> Any:
    import boto3

    return boto3.client("cognito-idp", region_name="us-east-1")


def _sign_in(client: Any) -> CognitoSignIn:
    return CognitoSignIn("us-east-1", "us-east-1_pool", "client-1", client=client, jwks=_jwks(make_rsa_key()))


def _tokens() -> dict[str, Any]:
    return {
        "AuthenticationResult": {"IdToken": _token(make_rsa_key(), _claims()), "AccessToken": "a", "ExpiresIn": 3600}
    }


def _initiate(username: str = "Maria") -> dict[str, Any]:
    return {
        "ClientId": "client-1",
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": username, "PASSWORD": "Chosen-by-Maria-2026"},
    }


@pytest.mark.parametrize(
    ("name", "response_key"),
    [("SOFTWARE_TOKEN_MFA", "SOFTWARE_TOKEN_MFA_CODE"), ("SMS_MFA", "SMS_MFA_CODE"), ("EMAIL_OTP", "EMAIL_OTP_CODE")],
)
def test_an_mfa_challenge_is_answered_with_the_code_under_the_key_cognito_documents(
    client: Any, name: str, response_key: str
) -> None:
    asked = {
        "ChallengeName": name,
        "Session": SESSION,
        "ChallengeParameters": {"USER_ID_FOR_SRP": SUB, "CODE_DELIVERY_DESTINATION": "+63*******4567"},
    }
    with Stubber(client) as stub:
        stub.add_response("initiate_auth", asked, _initiate())
        answer = {
            "ClientId": "client-1",
            "ChallengeName": name,
            "Session": SESSION,
            "ChallengeResponses": {"USERNAME": SUB, response_key: "123456"},
        }
        stub.add_response("respond_to_auth_challenge", _tokens(), answer)
        step = _sign_in(client).sign_in("Maria", "Chosen-by-Maria-2026", NOW)
        assert isinstance(step, Challenge) and step == Challenge(name=name, session=SESSION, username=SUB)
        assert step.doc() == {"challenge": name, "session": SESSION, "username": SUB, "needs": "code"}  # no phone
        signed_in = _sign_in(client).answer(step, "123456", NOW)
        assert isinstance(signed_in, Claims) and signed_in.roles == frozenset({"agent"})
        stub.assert_no_pending_responses()


def test_a_new_password_can_lead_to_an_mfa_challenge(client: Any) -> None:
    first = {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": SESSION, "ChallengeParameters": {"USERNAME": "maria"}}
    then = {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": SESSION + "2", "ChallengeParameters": {}}
    with Stubber(client) as stub:
        stub.add_response("initiate_auth", first, _initiate())
        stub.add_response(
            "respond_to_auth_challenge",
            then,
            {
                "ClientId": "client-1",
                "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": SESSION,
                "ChallengeResponses": {"USERNAME": "maria", "NEW_PASSWORD": "Brand-New-Passw0rd"},
            },
        )
        step = _sign_in(client).sign_in("Maria", "Chosen-by-Maria-2026", NOW)
        assert isinstance(step, Challenge) and step.needs == "new_password" and step.username == "maria"
        assert _sign_in(client).answer(step, "Brand-New-Passw0rd", NOW) == Challenge(
            "SOFTWARE_TOKEN_MFA", SESSION + "2", "maria"
        )


@pytest.mark.parametrize("name", ["MFA_SETUP", "SELECT_MFA_TYPE", "CUSTOM_CHALLENGE", "DEVICE_SRP_AUTH"])
def test_a_challenge_the_console_cannot_answer_is_refused_by_name(client: Any, name: str) -> None:
    with Stubber(client) as stub:
        stub.add_response("initiate_auth", {"ChallengeName": name, "Session": SESSION, "ChallengeParameters": {}})
        with pytest.raises(Unauthenticated, match=name):
            _sign_in(client).sign_in("Maria", "Chosen-by-Maria-2026", NOW)
    with pytest.raises(Unauthenticated, match=name):
        _sign_in(client).answer(Challenge(name, SESSION, "maria"), "123456", NOW)


@pytest.mark.parametrize(
    ("operation", "code", "message", "status", "says"),
    [
        ("initiate_auth", "NotAuthorizedException", "Incorrect username or password.", 401, "wrong password"),
        ("initiate_auth", "UserNotFoundException", "User does not exist.", 401, "wrong password"),  # no user probing
        ("initiate_auth", "NotAuthorizedException", "User is disabled.", 401, "wrong password"),
        ("initiate_auth", "NotAuthorizedException", "Password attempts exceeded", 401, "too many"),
        ("initiate_auth", "PasswordResetRequiredException", "Password reset required for the user", 401, "reset"),
        ("initiate_auth", "UserNotConfirmedException", "User is not confirmed.", 401, "not confirmed"),
        ("initiate_auth", "TooManyRequestsException", "Rate exceeded", 503, "try again"),
        ("initiate_auth", "ResourceNotFoundException", "User pool client x does not exist.", 503, "refused"),
        ("initiate_auth", "InternalErrorException", "", 503, "try again"),
        ("respond_to_auth_challenge", "CodeMismatchException", "Invalid code received for user", 401, "wrong code"),
        ("respond_to_auth_challenge", "ExpiredCodeException", "Your software token has expired", 401, "start again"),
        ("respond_to_auth_challenge", "NotAuthorizedException", "Invalid session for the user.", 401, "start again"),
        ("respond_to_auth_challenge", "InvalidPasswordException", "Password not long enough", 400, "long enough"),
    ],
)
def test_cognitos_errors_become_clear_answers(
    client: Any, operation: str, code: str, message: str, status: int, says: str
) -> None:
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, service_message=message)
        with pytest.raises((Unauthenticated, IdentityUnavailable, InputRejected)) as raised:
            if operation == "initiate_auth":
                _sign_in(client).sign_in("Maria", "Chosen-by-Maria-2026", NOW)
            else:
                _sign_in(client).answer(Challenge("NEW_PASSWORD_REQUIRED", SESSION, "maria"), "New-Passw0rd-1", NOW)
    answer = error_response(raised.value)
    assert answer.status_code == status
    assert says in answer.body["message"]


def test_a_session_cognito_would_reject_as_malformed_is_a_bad_request(client: Any) -> None:
    with pytest.raises(InputRejected):
        _sign_in(client).answer(Challenge("SMS_MFA", "short", "maria"), "123456", NOW)  # sessions are 20+ chars


class _Keys:
    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.urls: list[str] = []
        self.now = 1000.0

    def fetch(self, url: str) -> dict[str, Any]:
        self.urls.append(url)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _with(keys: _Keys, client: Any) -> CognitoSignIn:
    return CognitoSignIn(
        "us-east-1", "us-east-1_pool", "client-1", client=client, fetch=keys.fetch, monotonic=lambda: keys.now
    )


def test_the_jwks_is_fetched_once_again_for_an_unknown_kid_and_not_again_within_the_floor(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cognito, "_jwks", {})
    monkeypatch.setattr(cognito, "_fetched_at", {})
    old, new = {"old": {"kid": "old", "n": "AQ", "e": "AQAB"}}, _jwks(make_rsa_key())
    keys = _Keys(old, new, new)
    pool = _with(keys, client)
    assert pool.key("old") and pool.key("old")
    assert keys.urls == ["https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool/.well-known/jwks.json"]
    keys.now += cognito.REFETCH_FLOOR_SECONDS
    assert pool.verify(_token(make_rsa_key(), _claims()), NOW).username == "maria"  # "k1": rotated in
    assert len(keys.urls) == 2
    keys.now += cognito.REFETCH_FLOOR_SECONDS - 1
    assert pool.key("forged") is None and len(keys.urls) == 2  # inside the floor: no fetch
    keys.now += 1
    assert pool.key("forged") is None and len(keys.urls) == 3


def test_a_failed_fetch_is_503_and_is_not_remembered(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cognito, "_jwks", {})
    monkeypatch.setattr(cognito, "_fetched_at", {})
    keys = _Keys(IdentityUnavailable("down"), _jwks(make_rsa_key()))
    pool = _with(keys, client)
    with pytest.raises(IdentityUnavailable):
        pool.verify(_token(make_rsa_key(), _claims()), NOW)
    assert cognito._jwks == {}
    assert pool.verify(_token(make_rsa_key(), _claims()), NOW).roles == frozenset({"agent"})


@pytest.mark.parametrize("document", [b"", b"<html>", b'{"keys": []}', b'{"keys": [{"kid": "k", "kty": "EC"}]}'])
def test_a_jwks_answer_without_usable_keys_is_unavailable_not_empty(
    document: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(document))
    with pytest.raises(IdentityUnavailable):
        cognito._read_jwks("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool/.well-known/jwks.json")


def test_an_access_token_names_its_client_and_user_differently() -> None:
    claims = _claims(token_use="access", client_id="client-1", username="maria")
    del claims["aud"], claims["cognito:username"], claims["zoneinfo"]
    token = _token(make_rsa_key(), claims)
    who = CognitoSignIn("us-east-1", "us-east-1_pool", "client-1", jwks=_jwks(make_rsa_key())).verify(token, NOW)
    assert (who.username, who.roles, who.zone) == ("maria", frozenset({"agent"}), "UTC")


def test_a_console_session_asks_cognito_about_its_access_token_at_most_once_a_minute(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cognito, "_confirmed", {})
    keys = _Keys()
    pool = _with(keys, client)
    user = {"Username": "maria", "UserAttributes": []}
    with Stubber(client) as stub:
        stub.add_response("get_user", user, {"AccessToken": "token-1"})
        stub.add_client_error("get_user", service_error_code="NotAuthorizedException", service_message="revoked")
        stub.add_client_error("get_user", service_error_code="TooManyRequestsException", service_message="Rate")
        assert pool.still_signed_in("token-1")
        keys.now += cognito.RECHECK_SECONDS - 1
        assert pool.still_signed_in("token-1")  # no call: confirmed less than a minute ago
        keys.now += 1
        assert not pool.still_signed_in("token-1")  # revoked (a reset, a disable, a global sign-out)
        with pytest.raises(IdentityUnavailable):
            pool.still_signed_in("token-1")
        stub.assert_no_pending_responses()
    assert not pool.still_signed_in("")  # a session from before sessions held a token

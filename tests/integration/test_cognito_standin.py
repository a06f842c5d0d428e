"""The console's Cognito sign-in and token checks against a stand-in that behaves like Cognito (moto's server:
InitiateAuth, RespondToAuthChallenge, the pool's `/.well-known/jwks.json`, TOTP), on a pool and app client made
from infra/resources.yaml's own properties, so a property the stand-in cannot take shows up here. The console
runs through chalice.test.Client on DynamoDB Local, as an AWS stage (not local)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from chalice.test import Client
from click.testing import CliRunner

from app import app
from chalicelib.cli import cli
from chalicelib.identity import cognito, sessions
from chalicelib.runtime import Runtime
from chalicelib.store.tables import INFRA_FILE, _CfnLoader
from tests.conftest import FixedClock, make_settings, runtime_on_dynamodb
from tests.unit.test_identity import _jwks, _token, make_rsa_key

ORIGIN = {"Content-Type": "application/json", "Host": "console.test", "Origin": "http://console.test"}
TEMPORARY, CHOSEN = "Temporary-Passw0rd", "Chosen-by-Maria-2026"
POOL_PROPERTIES = {"UserPoolName", "AdminCreateUserConfig", "UsernameConfiguration", "MfaConfiguration", "Policies"}
POOL_PROPERTIES |= {"Schema", "EnabledMfas"}
"""The user pool's template properties this stand-in set-up knows how to pass on; any other fails the test."""


def _template() -> dict[str, Any]:
    resources: dict[str, Any] = yaml.load(INFRA_FILE.read_text(encoding="utf-8"), Loader=_CfnLoader)["Resources"]
    return resources


def _create_pool(idp: Any, resources: dict[str, Any]) -> tuple[str, str]:
    """The template's ConsoleUserPool, its app client and role groups, created through the API: (pool, client)."""
    pool_props = dict(resources["ConsoleUserPool"]["Properties"])
    unknown = set(pool_props) - POOL_PROPERTIES
    assert not unknown, f"teach this test how to create the pool with {sorted(unknown)}"
    enabled_mfas = pool_props.pop("EnabledMfas", [])
    pool_props["PoolName"] = pool_props.pop("UserPoolName")
    pool = idp.create_user_pool(**pool_props)["UserPool"]["Id"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool,
        SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in enabled_mfas},
        MfaConfiguration=pool_props["MfaConfiguration"],
    )
    client_props = dict(resources["ConsoleUserPoolClient"]["Properties"])
    assert client_props.pop("UserPoolId") == {"Ref": "ConsoleUserPool"}
    client = idp.create_user_pool_client(UserPoolId=pool, **client_props)["UserPoolClient"]["ClientId"]
    for resource in resources.values():
        if resource.get("Type") == "AWS::Cognito::UserPoolGroup":
            assert resource["Properties"]["UserPoolId"] == {"Ref": "ConsoleUserPool"}
            idp.create_group(UserPoolId=pool, GroupName=resource["Properties"]["GroupName"])
    return pool, client


class Standin:
    def __init__(self, idp: Any, pool: str, client: str, rt: Runtime) -> None:
        self.idp, self.pool, self.client, self.rt = idp, pool, client, rt

    def add_person(self, name: str, group: str, zone: str = "Asia/Manila") -> None:
        """As an administrator does it: a temporary password, the person's zone, a role group."""
        self.idp.admin_create_user(
            UserPoolId=self.pool,
            Username=name,
            TemporaryPassword=TEMPORARY,
            UserAttributes=[{"Name": "zoneinfo", "Value": zone}],
            MessageAction="SUPPRESS",
        )
        self.idp.admin_add_user_to_group(UserPoolId=self.pool, Username=name, GroupName=group)

    def confirmed_person(self, name: str, group: str) -> None:
        self.add_person(name, group)
        self.idp.admin_set_user_password(UserPoolId=self.pool, Username=name, Password=CHOSEN, Permanent=True)

    def enrol_authenticator(self, name: str) -> str:
        """As the person does it in an authenticator app: the TOTP secret, verified and preferred."""
        access = self.tokens(name)["AccessToken"]
        secret: str = self.idp.associate_software_token(AccessToken=access)["SecretCode"]
        self.idp.verify_software_token(AccessToken=access, UserCode=_current_code(secret))
        preference = {"Enabled": True, "PreferredMfa": True}
        self.idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings=preference)
        return secret

    def tokens(self, name: str, client: str | None = None) -> dict[str, Any]:
        got = self.idp.initiate_auth(
            ClientId=client or self.client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": CHOSEN},
        )
        result: dict[str, Any] = got["AuthenticationResult"]
        return result


def dev_stage_on_standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Standin]:
    """A dev stage whose console signs in against a fresh stand-in pool (built from the template's own
    properties), with the identity caches emptied before and after."""
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool, client = _create_pool(idp, _template())
    monkeypatch.setenv("CAREWIRE_COGNITO_USER_POOL_ID", pool)
    monkeypatch.setenv("CAREWIRE_COGNITO_CLIENT_ID", client)
    monkeypatch.setenv("CAREWIRE_CONSOLE_SECRET_PARAMETER", f"/carewire/test/{pool}/console-secret")
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=f"/carewire/test/{pool}/console-secret", Value="not-a-real-secret-" + pool, Type="SecureString"
    )
    monkeypatch.setattr(cognito, "_jwks", {})
    monkeypatch.setattr(cognito, "_fetched_at", {})
    monkeypatch.setattr(cognito, "_confirmed", {})
    monkeypatch.setattr(sessions, "_secrets", {})
    cognito._configured.cache_clear()
    for rt in runtime_on_dynamodb(make_settings(tmp_path, stage="dev")):
        yield Standin(idp, pool, client, rt)
    cognito._configured.cache_clear()


@pytest.fixture
def standin(tmp_path: Path, aws_standin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Standin, Client]]:
    for stage in dev_stage_on_standin(tmp_path, monkeypatch):
        with Client(app) as chalice_client:
            yield stage, chalice_client


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.http.post(f"/console/api{path}", headers=ORIGIN, body=json.dumps(body))


def _with_cookie(client: Client, cookie: str) -> Any:
    return client.http.get("/console/api/me", headers={"Cookie": cookie, "Host": "console.test"})


def _bearer(client: Client, token: str, path: str = "/me") -> Any:
    return client.http.get(f"/console/api{path}", headers={"Authorization": f"Bearer {token}"})


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_a_new_person_sets_a_password_on_first_sign_in_then_signs_in_and_calls_the_api(
    standin: tuple[Standin, Client],
) -> None:
    pool, client = standin
    pool.add_person("maria", "agent")

    first = _post(client, "/session", {"username": "maria", "password": TEMPORARY})
    assert first.status_code == 202, first.body
    step = first.json_body
    assert (step["challenge"], step["needs"], step["username"]) == ("NEW_PASSWORD_REQUIRED", "new_password", "maria")
    assert "Set-Cookie" not in first.headers
    unknown = _post(client, "/session/challenge", {**step, "challenge": "MFA_SETUP", "new_password": CHOSEN})
    assert (unknown.status_code, unknown.json_body["field"]) == (400, "challenge")
    weak = _post(client, "/session/challenge", {**step, "new_password": "short"})
    assert (weak.status_code, weak.json_body["field"]) == (400, "new_password")
    done = _post(client, "/session/challenge", {**step, "new_password": CHOSEN})
    assert done.status_code == 200, done.body
    assert (done.json_body["username"], done.json_body["roles"], done.json_body["zone"]) == (
        "maria",
        ["agent"],
        "Asia/Manila",
    )
    cookie = done.headers["Set-Cookie"].split(";", 1)[0]
    me = _with_cookie(client, cookie)
    assert me.status_code == 200 and me.json_body["username"] == "maria"
    assert _post(client, "/session/challenge", {**step, "new_password": CHOSEN + "x"}).status_code == 401  # used

    assert _post(client, "/session", {"username": "maria", "password": TEMPORARY}).status_code == 401
    again = _post(client, "/session", {"username": "maria", "password": CHOSEN})
    assert again.status_code == 200 and again.json_body["roles"] == ["agent"]
    unknown_user = _post(client, "/session", {"username": "nobody", "password": CHOSEN})
    assert unknown_user.status_code == 401 and "wrong password" in unknown_user.json_body["message"]

    tokens = pool.tokens("maria")
    for kind in ("IdToken", "AccessToken"):
        got = _bearer(client, tokens[kind])
        assert got.status_code == 200, (kind, got.body)
        assert (got.json_body["username"], got.json_body["roles"]) == ("maria", ["agent"])
        assert _bearer(client, tokens[kind], "/inbox").status_code == 200
        assert _bearer(client, tokens[kind], "/notices").status_code == 403  # an agent, not a marketer

    pool.idp.admin_disable_user(UserPoolId=pool.pool, Username="maria")
    disabled = _post(client, "/session", {"username": "maria", "password": CHOSEN})
    assert disabled.status_code == 401 and disabled.json_body["message"] == unknown_user.json_body["message"]
    assert _with_cookie(client, cookie).status_code == 200  # Cognito confirmed the session less than a minute ago
    cognito._confirmed.clear()  # a minute later
    ended = _with_cookie(client, cookie)
    assert ended.status_code == 401 and "ended" in ended.json_body["message"]


def test_tokens_from_elsewhere_expired_or_tampered_are_refused(standin: tuple[Standin, Client]) -> None:
    pool, client = standin
    pool.confirmed_person("maria", "agent")
    other_pool, other_client = _create_pool(pool.idp, _template())
    pool.idp.admin_create_user(UserPoolId=other_pool, Username="maria", TemporaryPassword=TEMPORARY)
    pool.idp.admin_set_user_password(UserPoolId=other_pool, Username="maria", Password=CHOSEN, Permanent=True)
    second_app = pool.idp.create_user_pool_client(
        UserPoolId=pool.pool, ClientName="another-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]

    elsewhere = pool.tokens("maria", other_client)["IdToken"]
    assert "another issuer" in _bearer(client, elsewhere).json_body["message"]
    for kind in ("IdToken", "AccessToken"):
        wrong_app = _bearer(client, pool.tokens("maria", second_app)[kind])
        assert wrong_app.status_code == 401 and "app client" in wrong_app.json_body["message"]

    token = pool.tokens("maria")["IdToken"]
    head, _payload, signature = token.split(".")
    promoted = {**_claims(token), "cognito:groups": ["admin"]}
    forged = base64.urlsafe_b64encode(json.dumps(promoted).encode()).rstrip(b"=").decode()
    tampered = _bearer(client, f"{head}.{forged}.{signature}")
    assert tampered.status_code == 401 and "signature" in tampered.json_body["message"]
    assert _bearer(client, token).status_code == 200

    pool.rt.clock = FixedClock(datetime.fromtimestamp(_claims(token)["exp"] + 1, UTC))
    expired = _bearer(client, token)
    assert expired.status_code == 401 and "expired" in expired.json_body["message"]


def test_a_key_the_cache_does_not_hold_fetches_the_jwks_again_at_most_once_per_floor(
    standin: tuple[Standin, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, client = standin
    pool.confirmed_person("maria", "agent")
    fetched: list[str] = []
    read_jwks = cognito._read_jwks

    def counting(url: str) -> dict[str, dict[str, Any]]:
        fetched.append(url)
        return read_jwks(url)

    monkeypatch.setattr(cognito, "_read_jwks", counting)
    token = pool.tokens("maria")["IdToken"]
    assert _bearer(client, token).status_code == 200
    assert _bearer(client, token).status_code == 200
    assert fetched == [f"{pool.idp.meta.endpoint_url}/{pool.pool}/.well-known/jwks.json"]  # from the stand-in

    # Cognito rotated its keys since the cache was filled: the token's kid is new, so fetch once and accept it
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool.pool}"
    cognito._jwks[issuer] = _jwks(make_rsa_key())  # only the old key ("k1")
    cognito._fetched_at[issuer] = time.monotonic() - cognito.REFETCH_FLOOR_SECONDS - 1
    assert _bearer(client, token).status_code == 200
    assert len(fetched) == 2

    # a kid the pool does not publish: one more fetch is inside the floor, so none, and 401
    stranger = _token(make_rsa_key(), {**_claims(token)}, kid="not-the-pools")
    refused = _bearer(client, stranger)
    assert refused.status_code == 401 and "unknown key" in refused.json_body["message"]
    assert len(fetched) == 2
    cognito._fetched_at[issuer] -= cognito.REFETCH_FLOOR_SECONDS
    assert _bearer(client, stranger).status_code == 401
    assert len(fetched) == 3


def test_when_the_pool_cannot_be_reached_the_console_says_try_again_and_remembers_no_empty_keys(
    standin: tuple[Standin, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, client = standin
    pool.confirmed_person("maria", "agent")
    token = pool.tokens("maria")["IdToken"]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", closed)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    unreachable = _bearer(client, token)
    assert unreachable.status_code == 503 and unreachable.json_body["error"] == "try_again"
    assert _post(client, "/session", {"username": "maria", "password": CHOSEN}).status_code == 503
    assert cognito._jwks == {}

    monkeypatch.delenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER")
    assert _bearer(client, token).status_code == 200


def _totp(secret: str, at: float) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it from the secret Cognito shows."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def _current_code(secret: str) -> str:
    """The code of the current 30 s step, not one about to change under the stand-in's check."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return _totp(secret, time.time())


def test_a_person_with_an_authenticator_app_is_asked_for_its_code(
    standin: tuple[Standin, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, client = standin
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # the stand-in checks codes
    pool.confirmed_person("maria", "care_lead")
    secret = pool.enrol_authenticator("maria")

    asked = _post(client, "/session", {"username": "maria", "password": CHOSEN})
    assert asked.status_code == 202, asked.body
    step = asked.json_body
    assert (step["challenge"], step["needs"]) == ("SOFTWARE_TOKEN_MFA", "code")
    assert _post(client, "/session/challenge", {**step, "code": "12ab"}).status_code == 400
    wrong = f"{(int(_current_code(secret)) + 1) % 1_000_000:06d}"
    refused = _post(client, "/session/challenge", {**step, "code": wrong})
    assert refused.status_code == 401 and "wrong code" in refused.json_body["message"]
    done = _post(client, "/session/challenge", {**step, "code": _current_code(secret)})  # a second try
    assert done.status_code == 200, done.body
    assert done.json_body["roles"] == ["care_lead"] and "Set-Cookie" in done.headers


def test_carewire_users_manages_the_stages_pool_and_its_people_then_sign_in(
    standin: tuple[Standin, Client], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.cli.stages import StageOutputs, write_outputs

    pool, client = standin
    home = tmp_path / "cli-home"
    api_url = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"
    outputs = {"ConsoleUserPoolId": pool.pool}
    write_outputs(
        home, StageOutputs(stage="dev", stack_name="carewire-dev", region="us-east-1", api_url=api_url, outputs=outputs)
    )
    monkeypatch.setenv("CAREWIRE_HOME", str(home))

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--stage", "dev", "users", *args])

    added = run("add", "maria", "--role", "agent", "--role", "supervisor", "--zone", "Asia/Manila")
    assert added.exit_code == 0, added.output
    assert f"sign in at {api_url}console" in added.output
    password = re.search(r"temporary password (\S+)", added.output).group(1)  # type: ignore[union-attr]
    step = _post(client, "/session", {"username": "maria", "password": password}).json_body
    assert step["challenge"] == "NEW_PASSWORD_REQUIRED"
    signed_in = _post(client, "/session/challenge", {**step, "new_password": CHOSEN})
    assert (signed_in.json_body["roles"], signed_in.json_body["zone"]) == (["agent", "supervisor"], "Asia/Manila")
    cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]

    assert _with_cookie(client, cookie).status_code == 200
    assert run("add", "maria", "--role", "agent").exit_code == 2  # exists
    assert run("add", "Maria!", "--role", "agent").exit_code == 2
    assert run("add", "zed", "--role", "agent", "--zone", "Mars/Base").exit_code == 2
    replaced = run("add", "maria", "--role", "marketer", "--zone", "Europe/Madrid", "--replace")
    assert replaced.exit_code == 0, replaced.output
    cognito._confirmed.clear()  # a minute later
    assert _with_cookie(client, cookie).status_code == 401  # the session held the old roles
    listed = json.loads(run("list", "--json").output)
    assert [(p["username"], p["roles"], p["zone"], p["status"]) for p in listed] == [
        ("maria", ["marketer"], "Europe/Madrid", "FORCE_CHANGE_PASSWORD")
    ]
    assert _post(client, "/session", {"username": "maria", "password": CHOSEN}).status_code == 401

    password = re.search(r"temporary password (\S+)", replaced.output).group(1)  # type: ignore[union-attr]
    step = _post(client, "/session", {"username": "maria", "password": password}).json_body
    signed_in = _post(client, "/session/challenge", {**step, "new_password": CHOSEN + "!"})
    assert (signed_in.json_body["roles"], signed_in.json_body["zone"]) == (["marketer"], "Europe/Madrid")
    cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]
    assert _with_cookie(client, cookie).status_code == 200
    reset = run("reset", "maria")
    assert reset.exit_code == 0 and "temporary password" in reset.output, reset.output
    cognito._confirmed.clear()
    assert _with_cookie(client, cookie).status_code == 401  # the reset revoked the session's access token
    assert _post(client, "/session", {"username": "maria", "password": CHOSEN + "!"}).status_code == 401

    assert run("disable", "maria").exit_code == 0
    password = re.search(r"temporary password (\S+)", reset.output).group(1)  # type: ignore[union-attr]
    assert _post(client, "/session", {"username": "maria", "password": password}).status_code == 401
    missing = run("reset", "nobody")
    assert missing.exit_code == 2 and "no user nobody" in missing.output

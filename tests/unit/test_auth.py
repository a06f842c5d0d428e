"""Authorisation for the agent and notices APIs: IAM role sessions in AWS, bearer tokens locally."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.auth import Forbidden, Unauthenticated, authorize, local_tokens
from chalicelib.settings import Settings
from tests.conftest import POLICIES


def _request(headers: dict[str, str] | None = None, arn: str | None = None) -> SimpleNamespace:
    context = {"identity": {"userArn": arn}} if arn else {}
    return SimpleNamespace(headers=headers or {}, context=context)


def test_local_token_grants_its_role_only(tmp_path: Path) -> None:
    settings = Settings(stage="local", home=tmp_path, policies_dir=POLICIES)
    tokens = local_tokens(settings)
    agent = authorize(_request({"authorization": f"Bearer {tokens['agent']}"}), settings, "agent")
    assert agent.id == "local:agent"
    with pytest.raises(Forbidden):
        authorize(_request({"authorization": f"Bearer {tokens['agent']}"}), settings, "marketer")
    assert authorize(_request({"authorization": f"Bearer {tokens['admin']}"}), settings, "marketer").id == "local:admin"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-token"])
def test_missing_or_unknown_token_is_unauthenticated(tmp_path: Path, header: str | None) -> None:
    settings = Settings(stage="local", home=tmp_path, policies_dir=POLICIES)
    with pytest.raises(Unauthenticated):
        authorize(_request({"authorization": header} if header else {}), settings, "agent")


def test_tokens_are_stable_and_private(tmp_path: Path) -> None:
    settings = Settings(stage="local", home=tmp_path, policies_dir=POLICIES)
    assert local_tokens(settings) == local_tokens(settings)
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0


def test_iam_role_session_maps_to_roles() -> None:
    settings = Settings(stage="prod", policies_dir=POLICIES)
    arn = "arn:aws:sts::123456789012:assumed-role/CarewireMarketing/dana"
    principal = authorize(_request(arn=arn), settings, "marketer")
    assert principal.id == "CarewireMarketing/dana"
    with pytest.raises(Forbidden):
        authorize(_request(arn=arn), settings, "agent")


def test_iam_without_role_session_is_unauthenticated() -> None:
    settings = Settings(stage="prod", policies_dir=POLICIES)
    with pytest.raises(Unauthenticated):
        authorize(_request(arn="arn:aws:iam::123456789012:user/bob"), settings, "agent")
    with pytest.raises(Forbidden):
        authorize(_request(arn="arn:aws:sts::123456789012:assumed-role/Other/x"), settings, "agent")

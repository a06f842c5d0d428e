"""The `carewire` CLI through click's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.conftest import POLICIES


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    return CliRunner()


def test_policies_check_ok(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["policies", "check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_policies_check_exits_2_naming_file_and_rule(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(POLICIES, broken)
    rules = broken / "rules" / "10-default.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("queue: network", "queue: nocc"), encoding="utf-8")
    result = runner.invoke(cli, ["--policies", str(broken), "policies", "check"])
    assert result.exit_code == 2
    assert f"{rules}: rule 'outage-to-network': action.queue: unknown queue 'nocc'" in result.output


def test_channels_list_json_shows_dev_secret_only_locally(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREWIRE_X_CARE_CONSUMER_SECRET")
    local = json.loads(runner.invoke(cli, ["channels", "list", "--json"]).output)
    assert local[0]["id"] == "x-care"
    assert local[0]["webhook_path"] == "/webhooks/x-care"
    assert len(local[0]["development_secret"]) >= 32
    deployed = json.loads(runner.invoke(cli, ["--stage", "prod", "channels", "list", "--json"]).output)
    assert "development_secret" not in deployed[0]
    assert deployed[0]["secret_ref"] == "env:CAREWIRE_X_CARE_CONSUMER_SECRET"


def test_classify_text_argument(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["classify", "@bayanitelcares no signal since 6am in Cubao!!"])
    doc = json.loads(result.output)
    assert doc["topic"] == "outage"
    assert doc["sentiment"]["label"] == "negative"
    for field in ("churn_risk", "addressed_to_brand", "language"):
        assert field in doc


def test_classify_jsonl_on_stdin(runner: CliRunner) -> None:
    lines = "\n".join(
        json.dumps(p)
        for p in [
            {"id": "a", "text": "I'm cancelling and switching to Globe, done with you"},
            {"id": "b", "text": "thank you so much, fiber fixed fast!"},
        ]
    )
    result = runner.invoke(cli, ["classify"], input=lines + "\n")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["churn_risk"] is True
    assert rows[1]["topic"] == "praise"


def test_classify_bad_stdin_line_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["classify"], input='{"id": 1}\n')
    assert result.exit_code == 2
    assert "stdin line 1" in result.output


def test_policies_schema_lists_actions(runner: CliRunner) -> None:
    schema = json.loads(runner.invoke(cli, ["policies", "schema"]).output)
    assert schema["properties"]["rules"]["items"]["properties"]["action"]["properties"]["type"]["enum"] == [
        "escalate",
        "ignore",
        "reply",
    ]

"""The `carewire` CLI through click's runner."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.conftest import POLICIES
from tests.support import policy_repo


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
    assert f"{rules}:" in result.output
    assert "rule 'outage-to-network': actions[0].queue: unknown queue 'nocc'" in result.output


def test_channels_list_json_shows_dev_secret_only_locally(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAREWIRE_X_CARE_CONSUMER_SECRET")
    local = json.loads(runner.invoke(cli, ["channels", "list", "--json"]).output)
    assert local[0]["id"] == "x-care"
    assert local[0]["webhook_path"] == "/webhooks/x-care"
    assert len(local[0]["development_secret"]) >= 32
    deployed = json.loads(runner.invoke(cli, ["--stage", "prod", "channels", "list", "--json"]).output)
    assert "CAREWIRE_STAGE" not in os.environ, "a CLI flag must not leak into the process environment"
    assert "development_secret" not in deployed[0]
    assert deployed[0]["secret_ref"] == "env:CAREWIRE_X_CARE_CONSUMER_SECRET"


def test_classify_text_argument(runner: CliRunner) -> None:
    # frustration shown ("AGAIN", "ridiculous"): a calm report alone is neutral under the labelling guideline
    result = runner.invoke(
        cli, ["classify", "@bayanitelcares no signal AGAIN since 6am in Cubao, this is ridiculous!!"]
    )
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
    action = schema["properties"]["rules"]["items"]["properties"]["actions"]["items"]
    assert action["properties"]["type"]["enum"] == ["escalate", "hide", "ignore", "notice", "reply", "tag"]


def test_decide_offline_writes_one_line_per_post(runner: CliRunner) -> None:
    lines = "\n".join(
        json.dumps(p)
        for p in [
            {"id": "1", "text": "@bayanitelcares I'm switching to Globe, done with you"},
            {"id": "2", "text": "haha same", "addressed_to_brand": False},
            {"id": "3", "text": "my fiber is down since 6am", "is_dm": True},
        ]
    )
    result = runner.invoke(cli, ["decide"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["id"], r["rule"]) for r in rows][:2] == [("1", "churn-to-retention"), ("2", "not-for-us")]
    assert rows[2]["actions"][0]["private"] is True
    assert {"action", "rule", "reasons", "classification"} <= set(rows[0])


def test_decide_rejects_a_post_without_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["decide"], input='{"id": "1"}\n')
    assert result.exit_code == 2
    assert "line 1: expected an object with a text" in result.output


def test_policies_diff_shows_what_a_change_does(runner: CliRunner, tmp_path: Path) -> None:
    repo = policy_repo(tmp_path)
    rules = repo / "policies" / "rules" / "10-default.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8")
        .replace("{type: escalate, queue: retention, priority: 1}", "{type: escalate, queue: care, priority: 3}")
        .replace(
            "{type: escalate, queue: moderation, priority: 3}",
            "{type: reply, template: fiber_upgrade}\n      - {type: escalate, queue: moderation, priority: 3}",
        )
        .replace(
            "{type: hide, reason: abuse}",
            "{type: reply, template: fiber_upgrade}\n      - {type: hide, reason: abuse}",
        ),
        encoding="utf-8",
    )
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        json.dumps({"id": "p1", "text": "@bayanitelcares I'm switching to Globe, done with you"})
        + "\n"
        + json.dumps({"id": "p2", "text": "@bayanitelcares thank you so much!"})
        + "\n"
        + json.dumps({"id": "p3", "text": "@bayanitelcares your agents are useless idiots, worst company ever"})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["--policies", str(repo / "policies"), "policies", "diff", "--base", "HEAD", "--posts", str(posts)]
    )
    assert result.exit_code == 0, result.output
    assert "p1: churn-to-retention: escalate(retention)  →  churn-to-retention: escalate(care)" in result.output
    assert "p2:" not in result.output
    # abuse with or without an issue to act on (the classifier decides which): either rule, the upsell is stopped
    assert "p3: unchanged, abuse" in result.output and " — a guardrail holds:" in result.output
    assert "guardrail: abuse" in result.output and ": reply blocked: promotional template" in result.output
    assert "1 of 3 decisions change between HEAD and the working policy; guardrails stop the change for 1 more" in (
        result.output
    )

"""See what will be said: `decide`, `policies diff` and `policies test` show the text a customer would read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.runtime import Runtime
from tests.conftest import POLICIES
from tests.support import policy_repo

EXAMPLE = POLICIES / "notices" / "examples" / "qc-mobile-data-outage.yaml"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    return CliRunner()


def test_decide_shows_the_reply_text(runner: CliRunner) -> None:
    post = {"id": "1", "text": "@bayanitelcares thank you so much, great service!", "author": {"name": "Maria Santos"}}
    result = runner.invoke(cli, ["decide"], input=json.dumps(post) + "\n")
    assert result.exit_code == 0, result.output
    [reply] = json.loads(result.output)["replies"]
    assert reply == {
        "rule": "thank-praise",
        "action": "reply",
        "template": "thanks",
        "private": False,
        "language": "en",
        "platform": "x",
        "text": "Thank you Maria, that's great to hear! We'll pass it on to the team.",
    }


def test_decide_answers_with_a_notice_file(runner: CliRunner) -> None:
    post = {"id": "1", "text": "@bayanitelcares no signal in Cubao, mobile data down", "now": "2026-11-23T05:00:00Z"}
    without = json.loads(runner.invoke(cli, ["decide"], input=json.dumps(post) + "\n").output)
    assert without["rule"] != "outage-with-notice"
    result = runner.invoke(cli, ["decide", "--notices", str(EXAMPLE)], input=json.dumps(post) + "\n")
    assert result.exit_code == 0, result.output
    decided = json.loads(result.output)
    assert decided["rule"] == "outage-with-notice"
    assert decided["notice"] == {"id": "outage-qc-mobile-data", "version": 1}
    [reply] = decided["replies"]
    assert reply["text"].startswith("Mobile data outage in Quezon City: A fibre cut is affecting mobile data")
    assert reply["text"].endswith(" https://bayanitel.example/advisories/qc-mobile-data")


def test_decide_refuses_a_broken_notice_file(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "n.yaml"
    broken.write_text(EXAMPLE.read_text(encoding="utf-8").replace("kind: outage", "kind: outtage"), encoding="utf-8")
    result = runner.invoke(cli, ["decide", "--notices", str(broken)], input='{"id": "1", "text": "hi"}\n')
    assert result.exit_code == 2
    assert "--notices: kind: unknown kind 'outtage'" in result.output


def _repo_with_changed_thanks(tmp_path: Path) -> tuple[Path, Path]:
    repo = policy_repo(tmp_path)
    templates = repo / "policies" / "templates" / "en.yaml"
    text = templates.read_text(encoding="utf-8").replace("that's great to hear!", "we love to hear it!")
    templates.write_text(text, encoding="utf-8")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        json.dumps({"id": "p1", "text": "@bayanitelcares thank you so much!", "author": {"name": "Ana Cruz"}})
        + "\n"
        + json.dumps({"id": "p2", "text": "@bayanitelcares why was I charged twice on my bill?"})
        + "\n",
        encoding="utf-8",
    )
    return repo, posts


def test_policies_diff_shows_a_change_of_wording(runner: CliRunner, tmp_path: Path) -> None:
    repo, posts = _repo_with_changed_thanks(tmp_path)
    args = ["--policies", str(repo / "policies"), "policies", "diff", "--base", "HEAD", "--posts", str(posts)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "p1: thank-praise: reply(thanks)  →  thank-praise: reply(thanks)" in result.output
    assert "    said (en/x): Thank you Ana, that's great to hear! We'll pass it on to the team." in result.output
    assert "    says (en/x): Thank you Ana, we love to hear it! We'll pass it on to the team." in result.output
    assert "p2" not in result.output
    assert "1 of 2 decisions change" in result.output


def test_policies_diff_json_and_exit_code_for_ci(runner: CliRunner, tmp_path: Path) -> None:
    repo, posts = _repo_with_changed_thanks(tmp_path)
    args = ["--policies", str(repo / "policies"), "policies", "diff", "--base", "HEAD", "--posts", str(posts)]
    result = runner.invoke(cli, [*args, "--json", "--exit-code"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert (report["posts"], report["changed"], report["guarded"]) == (2, 1, 0)
    [change] = report["changes"]
    assert (change["id"], change["kind"]) == ("p1", "text")
    assert change["after"]["replies"] == [
        {
            "language": "en",
            "platform": "x",
            "private": False,
            "text": "Thank you Ana, we love to hear it! We'll pass it on to the team.",
        }
    ]
    templates = repo / "policies" / "templates" / "en.yaml"
    subprocess.run(["git", "checkout", "-q", "--", str(templates)], cwd=repo, check=True)
    assert runner.invoke(cli, [*args, "--exit-code"]).exit_code == 0


def test_policies_test_shows_what_each_case_would_say(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["policies", "test", "--show"])
    assert result.exit_code == 0, result.output
    assert "ok   replies.yaml: praise is thanked by first name\n" in result.output
    assert "     says (en/x): Thank you Paolo, that's great to hear! We'll pass it on to the team.\n" in result.output
    assert "     says (en/x): Fiber repair in Cubao, back by 6pm https://status.example/cubao\n" in result.output


def test_decide_answers_with_the_stages_live_notices(stack: Runtime) -> None:
    published = stack.notices.publish_file(EXAMPLE, "test")
    post = {"id": "1", "text": "@bayanitelcares no signal in Cubao, mobile data down"}
    result = CliRunner().invoke(cli, ["decide", "--notices", "live"], input=json.dumps(post) + "\n")
    assert result.exit_code == 0, result.output
    decided = json.loads(result.output)
    assert (decided["rule"], decided["notice"]) == (
        "outage-with-notice",
        {"id": published.id, "version": published.version},
    )
    assert decided["replies"][0]["text"].startswith("Mobile data outage in Quezon City:")

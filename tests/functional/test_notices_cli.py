"""`carewire notices` through click's runner, on DynamoDB Local (the local stage's runtime)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.runtime import Runtime
from chalicelib.settings import TABLES, Settings
from chalicelib.store.tables import create_tables
from tests.conftest import POLICIES

EXAMPLE = POLICIES / "notices" / "examples" / "qc-mobile-data-outage.yaml"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str) -> CliRunner:
    """The CLI on this test's own tables in the session's DynamoDB Local."""
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CAREWIRE_STAGE", "local")  # the CLI exports --stage; an earlier test may have left another
    prefix = "c" + uuid.uuid4().hex[:10]
    for table in TABLES:
        monkeypatch.setenv(f"CAREWIRE_{table.upper()}_TABLE", f"{prefix}-{table}")
    return CliRunner()


def _notice_file(tmp_path: Path, **changes: object) -> Path:
    """The example outage, live now (the CLI runs on the real clock)."""
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    doc.update(starts_at=(now - timedelta(hours=1)).isoformat(), ends_at=(now + timedelta(days=1)).isoformat())
    doc.update(changes)
    path = tmp_path / "notice.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_publish_file_list_show_resolve(runner: CliRunner, tmp_path: Path) -> None:
    path = _notice_file(tmp_path)
    result = runner.invoke(cli, ["notices", "publish", str(path)])
    assert result.exit_code == 0, result.output
    assert "outage-qc-mobile-data" in result.output and " active " in result.output

    rows = json.loads(runner.invoke(cli, ["notices", "list", "--json"]).output)
    assert [(r["id"], r["status"], r["version"]) for r in rows] == [("outage-qc-mobile-data", "active", 2)]
    assert rows[0]["author"].startswith("cli")

    # publishing the file again changes the live notice
    path = _notice_file(tmp_path, title={"en": "Mobile data outage in QC (update)", "tl": "Aberya sa QC"})
    assert runner.invoke(cli, ["notices", "publish", str(path)]).exit_code == 0
    shown = json.loads(runner.invoke(cli, ["notices", "show", "outage-qc-mobile-data"]).output)
    assert shown["title"]["en"] == "Mobile data outage in QC (update)"
    assert [h["action"] for h in shown["history"]] == ["created", "published", "updated"]

    result = runner.invoke(cli, ["notices", "resolve", "outage-qc-mobile-data"])
    assert result.exit_code == 0, result.output
    assert " resolved " in result.output and "0 follow-up(s) queued" in result.output
    assert runner.invoke(cli, ["notices", "list", "--status", "active"]).output == ""

    result = runner.invoke(cli, ["notices", "expire", "outage-qc-mobile-data"])
    assert result.exit_code == 3, "a conflict with its status"
    assert result.output.strip() == "Error: notice 'outage-qc-mobile-data' is already resolved"


def test_publish_a_draft_made_earlier_by_id(runner: CliRunner, tmp_path: Path) -> None:
    settings = Settings.from_env()
    runtime = Runtime(settings)
    create_tables(runtime.dynamodb, settings)
    now = datetime.now(UTC)
    draft = runtime.notices.create(
        {
            "id": "storm-draft",
            "kind": "outage",
            "title": {"en": "Typhoon outage in Cebu"},
            "body": {"en": "Power and network repairs are under way."},
            "regions": ["Cebu"],
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
        },
        "incident",
    )
    assert draft.status == "draft"
    result = runner.invoke(cli, ["notices", "publish", "storm-draft"])
    assert result.exit_code == 0, result.output
    assert runtime.notices.get("storm-draft").status == "active"
    result = runner.invoke(cli, ["notices", "expire", "storm-draft"])
    assert result.exit_code == 0, result.output
    assert runtime.notices.get("storm-draft").status == "expired"


def test_known_errors_are_one_line_with_their_exit_code(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["notices", "show", "nope"])
    assert (result.exit_code, result.output.strip()) == (3, "Error: no notice 'nope'")
    path = _notice_file(tmp_path, regions=["Atlantis"])
    result = runner.invoke(cli, ["notices", "publish", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert f"{path}: regions[0]: unknown region 'Atlantis'" in result.output
    result = runner.invoke(cli, ["notices", "publish", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output
    assert runner.invoke(cli, ["notices", "list", "--status", "open"]).exit_code == 2


def test_the_readme_example_publishes_as_written_and_again(runner: CliRunner) -> None:
    """README: `carewire notices publish policies/notices/examples/qc-mobile-data-outage.yaml` — its times are
    relative to now, so it works on any day; publishing it again moves the same notice, it adds none."""
    for _ in range(2):
        result = runner.invoke(cli, ["notices", "publish", str(EXAMPLE)])
        assert result.exit_code == 0, result.output
    [row] = json.loads(runner.invoke(cli, ["notices", "list", "--json"]).output)
    assert (row["id"], row["status"]) == ("outage-qc-mobile-data", "active")
    left = datetime.fromisoformat(row["ends_at"].replace("Z", "+00:00")) - datetime.now(UTC)
    assert timedelta(hours=23) < left <= timedelta(hours=24)


def test_a_file_that_ended_already_is_refused_with_the_fix_and_leaves_no_draft(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = _notice_file(tmp_path, ends_at="2026-01-02T00:00:00Z")
    result = runner.invoke(cli, ["notices", "publish", str(path)])
    assert result.exit_code == 2
    assert f"{path}: ends_at: already past (2026-01-02T00:00:00.000Z); write a later time, or a time relative" in (
        result.output
    )
    assert json.loads(runner.invoke(cli, ["notices", "list", "--json"]).output) == []


def test_the_demo_reuses_its_notice_and_never_collides(tmp_path: Path, dynamodb_endpoint: str) -> None:
    from chalicelib.local.demo import publish_demo_notice
    from tests.conftest import make_settings, runtime_on_dynamodb

    for runtime in runtime_on_dynamodb(make_settings(tmp_path)):
        first = publish_demo_notice(runtime.notices, runtime.clock())
        again = publish_demo_notice(runtime.notices, runtime.clock())
        assert again.id == first.id == "outage-qc-mobile-data"
        assert [n.id for n in runtime.notices.find()] == [first.id]
        runtime.notices.resolve(again.id, again.version, "test")
        copies = {publish_demo_notice(runtime.notices, runtime.clock()).id for _ in range(2)}
        assert len(copies) == 1, "a resolved example is replaced once, then reused"
        [copy] = copies
        assert copy.startswith("outage-qc-mobile-data-") and runtime.notices.get(copy).status == "active"

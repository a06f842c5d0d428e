"""`carewire policies history [--show DIGEST]` through click's runner, on DynamoDB Local."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.policy.history import Bundle, PolicyHistory
from chalicelib.runtime import Runtime


def test_history_lists_versions_newest_first_and_shows_one_diff(stack: Runtime, tmp_path: Path) -> None:
    history = PolicyHistory(stack.dynamodb, stack.settings.table("policies"))
    first = history.record(Bundle.read(stack.settings.policies_dir), "serve", stack.clock())
    changed = tmp_path / "policies"
    shutil.copytree(stack.settings.policies_dir, changed)
    queues = changed / "queues.yaml"
    queues.write_text(queues.read_text(encoding="utf-8") + "# one more line\n", encoding="utf-8")
    second = history.record(Bundle.read(changed), "deploy: arn:aws:iam::1:user/ops", stack.clock())
    assert first is not None and second is not None
    runner = CliRunner()

    listed = runner.invoke(cli, ["policies", "history"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 2
    assert second.digest[:12] in lines[0] and "deploy: arn:aws:iam::1:user/ops  +1 -0  queues.yaml" in lines[0]
    assert first.digest[:12] in lines[1] and "first version" in lines[1]
    as_json = json.loads(runner.invoke(cli, ["policies", "history", "--json", "--limit", "1"]).output)
    assert [v["digest"] for v in as_json] == [second.digest]

    shown = runner.invoke(cli, ["policies", "history", "--show", second.digest[:10]])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("--- a/queues.yaml\n+++ b/queues.yaml\n")
    assert "+# one more line\n" in shown.output

    assert runner.invoke(cli, ["policies", "history", "--show", "f" * 64]).exit_code == 3
    assert runner.invoke(cli, ["policies", "history", "--show", "abc"]).exit_code == 2

"""`carewire escalations list | claim | resolve | stats` through click's runner, on DynamoDB Local."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.runtime import Runtime
from tests.integration.test_escalation_queue import seed


def test_list_claim_resolve_stats(stack: Runtime) -> None:
    runner = CliRunner()
    now = stack.clock()  # the CLI runs on the real clock
    first = seed(stack, "1", priority=1, now=now)["escalation_id"]
    second = seed(stack, "2", queue="care", priority=3, now=now)["escalation_id"]

    listed = runner.invoke(cli, ["escalations", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {e["escalation_id"] for e in json.loads(listed.output)} == {first, second}
    in_queue = runner.invoke(cli, ["escalations", "list", "--queue", "network"])
    assert in_queue.output.startswith("P1 due ") and first in in_queue.output

    claimed = runner.invoke(cli, ["escalations", "claim", "--queue", "network", "--agent", "ana", "--json"])
    assert claimed.exit_code == 0, claimed.output
    assert json.loads(claimed.output)["escalation_id"] == first
    empty = runner.invoke(cli, ["escalations", "claim", "--queue", "network", "--agent", "ana"])
    assert (empty.exit_code, empty.output.strip()) == (2, "Error: queue 'network' is empty")

    wrong = runner.invoke(cli, ["escalations", "resolve", first, "--outcome", "answered", "--agent", "ben"])
    assert wrong.exit_code == 3, "a conflict: someone else holds it"
    assert "held by 'ana'" in wrong.output
    assert len(wrong.output.strip().splitlines()) == 1
    bad = runner.invoke(cli, ["escalations", "resolve", first, "--outcome", "shrug", "--agent", "ana"])
    assert bad.exit_code == 2
    assert "outcome: 'shrug' is not one of" in bad.output
    done = runner.invoke(cli, ["escalations", "resolve", first, "--outcome", "answered", "--agent", "ana"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"resolved {first} (answered); SLA met"
    resolved = runner.invoke(cli, ["escalations", "list", "--status", "resolved", "--json"])
    assert [e["escalation_id"] for e in json.loads(resolved.output)] == [first]
    assert json.loads(resolved.output)[0]["post"]["key"]  # the whole item, not the index's projection
    elsewhere = runner.invoke(cli, ["escalations", "list", "--status", "resolved", "--queue", "care", "--json"])
    assert json.loads(elsewhere.output) == []

    stats = json.loads(runner.invoke(cli, ["escalations", "stats", "--json"]).output)
    assert stats["queues"]["care"]["open"] == 1
    assert stats["queues"]["network"]["open"] == 0
    assert stats["sla"]["resolved"] == 1
    table = runner.invoke(cli, ["escalations", "stats"])
    assert table.exit_code == 0
    assert "SLA compliance, last 1 day(s): 1/1 resolved in time (100%)" in table.output


def test_unknown_queue_exits_2_and_unknown_id_3(stack: Runtime) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["escalations", "claim", "--queue", "nowhere"])
    assert unknown.exit_code == 2
    assert "unknown queue 'nowhere'" in unknown.output
    missing = runner.invoke(cli, ["escalations", "resolve", "esc-nope", "--outcome", "answered"])
    assert missing.exit_code == 3, "not found"
    assert "no escalation 'esc-nope'" in missing.output


def test_index_authors_reports_what_it_keyed_and_a_dry_run_changes_nothing(stack: Runtime) -> None:
    runner = CliRunner()
    item = seed(stack, "9", now=stack.clock())
    stack.dynamodb.update_item(
        TableName=stack.settings.table("escalations"),
        Key={"escalation_id": {"S": item["escalation_id"]}},
        UpdateExpression="REMOVE author_key",
    )
    dry = runner.invoke(cli, ["escalations", "index-authors", "--dry-run"])
    assert (dry.exit_code, dry.output.strip()) == (0, "1 escalations read; 1 would be given their customer's key")
    done = runner.invoke(cli, ["escalations", "index-authors"])
    assert done.output.strip() == "1 escalations read; 1 given their customer's key"
    assert "author_key" in stack.escalations.get(item["escalation_id"])

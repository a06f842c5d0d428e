"""`carewire decisions list|show` read what the pipeline stored, through the local stack on DynamoDB Local."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.runtime import Runtime
from chalicelib.settings import Settings
from chalicelib.store.tables import create_tables
from tests.conftest import POLICIES, FixedClock
from tests.integration.test_pipeline import OUTAGE, _event
from tests.support import mention_delivery


def test_decisions_show_explains_a_stored_decision(
    tmp_path: Path, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        stage="local",
        policies_dir=POLICIES,
        home=tmp_path,
        table_names={
            "decisions": "cli-decisions",
            "escalations": "cli-escalations",
            "outbox": "cli-outbox",
            "parked": "cli-parked",
            "idempotency": "cli-idem",
            "notices": "cli-notices",
            "activity": "cli-activity",
        },
    )
    runtime = Runtime(settings, clock=FixedClock())
    create_tables(runtime.dynamodb, settings)
    runtime.processor.process(_event(runtime, mention_delivery("8001", OUTAGE)))
    for logical, name in settings.table_names.items():
        monkeypatch.setenv(f"CAREWIRE_{logical.upper()}_TABLE", name)
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path))

    shown = CliRunner().invoke(cli, ["decisions", "show", "x#8001"])
    assert shown.exit_code == 0, shown.output
    assert "decided: reply by rule outage-acknowledge — A clear outage report without a notice" in shown.output
    assert "action: reply (private=False, template=outage_ack) from outage-acknowledge" in shown.output
    assert "action: escalate (priority=2, queue=network) from outage-to-network" in shown.output
    assert "rules: spam → not-for-us → abuse-with-an-issue" in shown.output
    assert "topic: outage: model p=" in shown.output  # the evidence: the model's line, then the lexicon's
    assert "said (en/x, outage_ack): " in shown.output

    listed = CliRunner().invoke(cli, ["decisions", "list"])
    assert "x#8001" in listed.output and "outage-acknowledge" in listed.output

    missing = CliRunner().invoke(cli, ["decisions", "show", "x#nope"])
    assert missing.exit_code == 3
    assert "no decision for 'x#nope'" in missing.output


def test_a_stale_local_table_is_one_line_and_exit_3(
    tmp_path: Path, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    client.create_table(
        TableName="stale-decisions",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    monkeypatch.setenv("CAREWIRE_DECISIONS_TABLE", "stale-decisions")
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["decisions", "list"])
    assert result.exit_code == 3, "a conflict with infra/"
    assert "table stale-decisions differs from infra/resources.yaml" in result.output

"""Agents correct the classifier: the agent API and the CLI store a correction on the escalation, and
`carewire train --export-corrections` turns it into a training row — on DynamoDB Local."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from click.testing import CliRunner

from app import app
from chalicelib.auth import local_tokens
from chalicelib.cli import cli
from chalicelib.cli.training import read_rows
from chalicelib.runtime import Runtime
from tests.integration.test_pipeline import OUTAGE, _event
from tests.support import mention_delivery

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")


def _escalated(rt: Runtime, post_id: str = "7001") -> str:
    rt.processor.process(_event(rt, mention_delivery(post_id, OUTAGE)))
    [escalation] = rt.store.escalations()
    return str(escalation["escalation_id"])


def _post(client: Client, rt: Runtime, path: str, body: Any, role: str = "agent") -> Any:
    token = local_tokens(rt.settings)[role]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return client.http.post(path, headers=headers, body=json.dumps(body))


def test_an_agent_corrects_an_escalated_post_and_it_is_kept_on_the_escalation(ddb_runtime: Runtime) -> None:
    eid = _escalated(ddb_runtime)
    with Client(app) as client:
        done = _post(
            client,
            ddb_runtime,
            f"/agent/escalations/{eid}/corrections",
            {"topic": "billing", "needs_human": False, "note": "a bill question, not an outage"},
        )
    assert done.status_code == 200, done.json_body
    assert done.json_body["correction"]["labels"] == {"topic": "billing", "needs_human": False}
    item = ddb_runtime.escalations.get(eid)
    assert item["correction"]["labels"] == {"topic": "billing", "needs_human": False}
    assert item["correction"]["by"] == "local:agent"
    assert item["classification"]["topic"] == "outage"  # what the classifier said stays, for the diff
    assert item["status"] == "open"  # a correction does not move the item


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"topic": "weather"}, "topic"),
        ({"sentiment": "angry"}, "sentiment"),
        ({"needs_human": "yes"}, "needs_human"),
        ({"urgency": 1}, "urgency"),
    ],
)
def test_a_bad_correction_is_400_naming_the_field(ddb_runtime: Runtime, body: Any, field: str) -> None:
    eid = _escalated(ddb_runtime)
    with Client(app) as client:
        refused = _post(client, ddb_runtime, f"/agent/escalations/{eid}/corrections", body)
    assert refused.status_code == 400
    assert refused.json_body["field"] == field
    assert "correction" not in ddb_runtime.escalations.get(eid)


def test_unknown_escalation_is_404_and_a_marketer_may_not_correct(ddb_runtime: Runtime) -> None:
    eid = _escalated(ddb_runtime)
    with Client(app) as client:
        assert _post(client, ddb_runtime, "/agent/escalations/esc-nope/corrections", {"spam": True}).status_code == 404
        forbidden = _post(client, ddb_runtime, f"/agent/escalations/{eid}/corrections", {"spam": True}, "marketer")
        assert forbidden.status_code == 403


def test_corrections_from_the_cli_export_as_training_rows(
    ddb_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    eid = _escalated(ddb_runtime)
    for logical, name in ddb_runtime.settings.table_names.items():
        monkeypatch.setenv(f"CAREWIRE_{logical.upper()}_TABLE", name)
    monkeypatch.setenv("CAREWIRE_HOME", str(ddb_runtime.settings.home))
    corrected = CliRunner().invoke(cli, ["escalations", "correct", eid, "--sentiment", "neutral", "--no-churn"])
    assert corrected.exit_code == 0, corrected.output
    assert json.loads(corrected.output)["labels"] == {"sentiment": "neutral", "churn_risk": False}
    out = tmp_path / "corrections.jsonl"
    exported = CliRunner().invoke(cli, ["train", "--export-corrections", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "wrote 1 corrected posts" in exported.output
    [row] = read_rows(out)
    assert (row.text, row.labels, row.operator) == (OUTAGE, {"sentiment": "neutral", "churn_risk": False}, "bayanitel")
    nothing = CliRunner().invoke(cli, ["escalations", "correct", eid])
    assert nothing.exit_code == 2 and "correct at least one of" in nothing.output

"""`carewire package` produces a template that cfn-lint accepts, with what Chalice cannot express."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.packaging import package
from chalicelib.store.tables import _CfnLoader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = package(tmp_path_factory.mktemp("package"), stage="dev")
    return path, yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)


def test_merged_template_passes_cfn_lint(template: tuple[Path, dict[str, Any]]) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run(
        [str(cfn_lint), "--include-checks", "I", "--", str(template[0])], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_sqs_source_reports_batch_item_failures(template: tuple[Path, dict[str, Any]]) -> None:
    source = template[1]["Resources"]["ProcessIntake"]["Properties"]["Events"]["ProcessIntakeSqsEventSource"]
    assert source["Type"] == "SQS"
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["IntakeQueue", "Arn"]}
    for queue in ("IntakeQueue", "IntakeDeadLetterQueue"):  # CloudFormation names them: stages never collide
        assert "QueueName" not in template[1]["Resources"][queue]["Properties"]


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for policy in resources[role]["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_roles_are_least_privilege_and_the_placeholder_is_gone(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    for role in ("ApiHandlerRole", "ProcessIntakeRole", "ExpireNoticesRole", "SweepSlasRole", "SweepStormsRole"):
        for statement in _statements(resources, role):
            assert statement["Effect"] == "Allow", f"{role}: the deny-all placeholder survived the merge"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a.startswith(("dynamodb:", "sqs:", "ssm:")) for a in actions):
                assert statement["Resource"] != "*", f"{role} {statement['Sid']} is not scoped"
    # Every route runs in APIHandler: the webhooks (no table) and the agent and notices APIs (their tables only).
    # The console reads decisions (dashboard, decision path) and adds corrections to them; nothing else does.
    api = _statements(resources, "ApiHandlerRole")
    assert "IdempotencyTable" not in repr([s.get("Resource") for s in api]), "ApiHandlerRole must not touch it"
    on_decisions = [s for s in api if "DecisionsTable" in repr(s.get("Resource"))]
    assert [s["Sid"] for s in on_decisions] == ["ConsoleDecisions"]
    assert on_decisions[0]["Action"] == ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    expiry_resources = repr([s.get("Resource") for s in _statements(resources, "ExpireNoticesRole")])
    assert "NoticesTable" in expiry_resources
    assert not any(t in expiry_resources for t in ("DecisionsTable", "OutboxTable", "EscalationsTable"))


def test_agent_api_and_sla_sweep_touch_only_the_queue(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    api = {s["Sid"]: s for s in _statements(resources, "ApiHandlerRole")}
    assert api["AgentQueue"]["Action"] == [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",  # the queues' counters (stats)
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert "EscalationsTable" in repr(api["AgentQueue"]["Resource"])
    assert api["AgentReplies"] == {**api["AgentReplies"], "Action": ["dynamodb:PutItem"]}
    assert api["AgentReplies"]["Resource"] == {"Fn::GetAtt": ["OutboxTable", "Arn"]}
    sweep = {s["Sid"]: s for s in _statements(resources, "SweepSlasRole")}
    assert set(sweep) == {"Logs", "Escalations", "Alerts", "Tracing"}
    assert sweep["Alerts"]["Resource"] == {"Ref": "EscalationAlertsTopic"}
    assert "OutboxTable" not in repr(sweep) and "DecisionsTable" not in repr(sweep)
    [event] = resources["SweepSlas"]["Properties"]["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(1 minute)"
    variables = template[1]["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CAREWIRE_ESCALATION_ALERTS_TOPIC"] == {"Ref": "EscalationAlertsTopic"}


def test_storm_roles_reach_the_storms_table_and_nothing_they_do_not_need(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    storms = {"Fn::GetAtt": ["StormsTable", "Arn"]}
    processor = repr(_statements(resources, "ProcessIntakeRole"))
    assert repr(storms) in processor and "EscalationAlertsTopic" in processor
    sweep = {s["Sid"]: s for s in _statements(resources, "SweepStormsRole")}
    assert sweep["Storms"]["Resource"] == storms
    assert "DecisionsTable" not in repr(sweep) and "OutboxTable" not in repr(sweep)
    [event] = resources["SweepStorms"]["Properties"]["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(1 minute)"
    api = {s["Sid"]: s for s in _statements(resources, "ApiHandlerRole")}
    assert api["Incidents"]["Resource"] == storms and "dynamodb:PutItem" not in api["Incidents"]["Action"]
    variables = template[1]["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CAREWIRE_STORMS_TABLE"] == {"Ref": "StormsTable"}


def test_functions_get_table_names_from_infra(template: tuple[Path, dict[str, Any]]) -> None:
    variables = template[1]["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["CAREWIRE_DECISIONS_TABLE"] == {"Ref": "DecisionsTable"}
    assert variables["CAREWIRE_NOTICES_TABLE"] == {"Ref": "NoticesTable"}
    assert variables["CAREWIRE_INTAKE_QUEUE_URL"] == {"Ref": "IntakeQueue"}


def test_policies_ship_inside_the_package(template: tuple[Path, dict[str, Any]]) -> None:
    import zipfile

    names = zipfile.ZipFile(template[0].parent / "deployment.zip").namelist()
    assert "chalicelib/policies/rules/10-default.yaml" in names
    assert "chalicelib/policies/channels.yaml" in names
    assert "chalicelib/console/static/app.js" in names  # the console's assets are package data
    assert not any(n.startswith("chalicelib/local/") for n in names), "local-only tools stay out of Lambda"


def test_the_package_ships_every_lexicon_file_parsed_for_its_current_bytes(
    template: tuple[Path, dict[str, Any]],
) -> None:
    """What the README promises of the package: the Lambda reads the lexicon from `.compiled.json`, and only for
    the bytes it ships (a stale entry would be parsed from YAML instead, and cost the cold start it saves)."""
    import hashlib
    import json
    import zipfile

    from chalicelib.classify.lexicon import COMPILED

    with zipfile.ZipFile(template[0].parent / "deployment.zip") as package_zip:
        lexicon = "chalicelib/policies/lexicon/"
        shipped = {n[len(lexicon) :]: package_zip.read(n) for n in package_zip.namelist() if n.startswith(lexicon)}
    compiled = json.loads(shipped.pop(COMPILED))
    yaml_files = {name: raw for name, raw in shipped.items() if name.endswith(".yaml")}
    assert yaml_files and set(compiled) == set(yaml_files)
    assert {n: e["sha256"] for n, e in compiled.items()} == {
        n: hashlib.sha256(r).hexdigest() for n, r in yaml_files.items()
    }


def test_oversized_events_have_a_private_bucket_the_functions_can_reach(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    bucket = resources["OversizedEventsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    objects = {"Fn::Sub": "${OversizedEventsBucket.Arn}/events/*"}
    grants = {
        role: [a for s in _statements(resources, role) if s.get("Resource") == objects for a in s["Action"]]
        for role in ("WebhooksRole", "ProcessIntakeRole")  # the webhook path runs in Webhooks
    }
    assert grants == {"WebhooksRole": ["s3:PutObject"], "ProcessIntakeRole": ["s3:GetObject", "s3:PutObject"]}
    env = template[1]["Globals"]["Function"]["Environment"]["Variables"]
    assert env["CAREWIRE_OVERSIZE_BUCKET"] == {"Ref": "OversizedEventsBucket"}


def test_the_outbox_stream_feeds_the_sender_with_partial_failures(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    source = resources["DeliverOutbox"]["Properties"]["Events"]["OutboxStream"]
    assert source["Type"] == "DynamoDB"
    assert source["Properties"]["Stream"] == {"Fn::GetAtt": ["OutboxTable", "StreamArn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert resources["OutboxTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    [event] = resources["SweepOutbox"]["Properties"]["Events"].values()
    assert event["Properties"]["Schedule"] == "rate(1 minute)"
    for role in ("DeliverOutboxRole", "SweepOutboxRole"):
        statements = {s["Sid"]: s for s in _statements(resources, role)}
        assert all(s["Effect"] == "Allow" for s in statements.values())
        assert "DecisionsTable" not in repr(statements) and "IdempotencyTable" not in repr(statements)
        assert statements["AgentAnswered"]["Action"] == ["dynamodb:UpdateItem"]
    assert "OutboxStream" not in {s["Sid"] for s in _statements(resources, "SweepOutboxRole")}


def test_the_packaged_policies_have_the_checkouts_digest_and_two_functions_record_it(
    template: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """`carewire deploy` records the checkout's bundle; the cold starts that follow must find that same
    digest in the package, or every deploy would show as two policy changes."""
    import zipfile

    from chalicelib.policy.history import Bundle
    from chalicelib.settings import _default_policies_dir

    with zipfile.ZipFile(template[0].parent / "deployment.zip") as package_zip:
        package_zip.extractall(tmp_path, [n for n in package_zip.namelist() if n.startswith("chalicelib/policies/")])
    assert Bundle.read(tmp_path / "chalicelib" / "policies").digest == Bundle.read(_default_policies_dir()).digest
    resources = template[1]["Resources"]
    recording = {
        name
        for name, r in resources.items()
        if r.get("Type") == "AWS::Serverless::Function"
        and (r["Properties"].get("Environment") or {}).get("Variables", {}).get("CAREWIRE_RECORD_POLICY") == "true"
    }
    assert recording == {"ProcessIntake", "APIHandler"}

"""The ops commands' contract: stage files validated like the policies, one line and a distinct exit code per
kind of error, `--version`, and `logs` / `rollback` against a recorded stage (moto's server for Logs and Lambda)."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.cli.cloud import first_failure
from chalicelib.cli.stages import StageError, StageOutputs, load_stage, write_outputs
from tests.integration.test_ops_stage import store_other_secrets

REPO = Path(__file__).resolve().parents[2]


def test_the_checked_in_stages_validate() -> None:
    dev = load_stage("dev", REPO / "stages")
    assert dev.stack == "carewire-dev" and dev.secrets_path == "/carewire/dev"
    assert dev.parameters()["ProcessorReservedConcurrency"] == "0", "null means no reservation"
    assert load_stage("prod", REPO / "stages").parameters()["ProcessorReservedConcurrency"] == "50"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "region: eu-west-1\nlog_level: LOUD\nlog_retention_days: 14\n",
            "log_level: 'LOUD' is not valid; valid: DEBUG",
        ),
        (
            "region: eu-west-1\nlog_level: INFO\nlog_retention_days: 10\n",
            "log_retention_days: 10 is not valid; valid: 1, 3",
        ),
        (
            "region: eu-west-1\nlog_level: INFO\nlog_retention_days: 14\nmemory: 3\n",
            "valid: alarm_email, api_memory_mb",
        ),
        ("region: Europe\nlog_level: INFO\nlog_retention_days: 14\n", "region: 'Europe' does not match"),
        ("log_level: INFO\nlog_retention_days: 14\n", "(top level): 'region' is a required property"),
        ("region: eu-west-1\nlog_level: INFO\nlog_retention_days: 14\nalarm_email: nobody\n", "alarm_email"),
    ],
)
def test_a_bad_stage_file_is_named_with_its_field_and_the_valid_values(
    tmp_path: Path, body: str, expected: str
) -> None:
    (tmp_path / "qa.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(StageError) as caught:
        load_stage("qa", tmp_path)
    assert str(tmp_path / "qa.yaml") in str(caught.value)
    assert expected in str(caught.value)


def test_an_unknown_stage_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text("region: eu-west-1\nlog_level: INFO\nlog_retention_days: 14\n")
    with pytest.raises(StageError, match="known stages: dev"):
        load_stage("staging", tmp_path)
    with pytest.raises(StageError, match="not 'local'"):
        load_stage("local", tmp_path)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CAREWIRE_STAGES_DIR", str(REPO / "stages"))
    return tmp_path / "home"


def test_each_kind_of_error_is_one_line_with_its_own_exit_code(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("carewire, version ")

    usage = runner.invoke(cli, ["logs", "--stage", "dev"])
    assert usage.exit_code == 2, "click's own usage errors"
    bad_value = runner.invoke(cli, ["--stage", "dev", "dlq", "list"])
    assert bad_value.exit_code == 3
    assert bad_value.output.strip().splitlines() == [
        f"Error: stage 'dev' has no recorded outputs ({home / 'stages' / 'dev.json'}); "
        "deploy it with: carewire deploy --stage dev"
    ]
    assert runner.invoke(cli, ["dlq", "list"]).exit_code == 2, "the local stage has no DLQ: a usage error"

    # No credentials at all: one line, exit 4, no traceback.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "none"))
    infra = runner.invoke(cli, ["--stage", "dev", "secrets", "list"])
    assert infra.exit_code == 4
    assert infra.output.strip() == "Error: AWS: Unable to locate credentials"


def test_a_failed_deploy_names_the_resource_that_caused_it_not_the_rollbacks() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    events = [
        {"LogicalResourceId": "carewire-dev", "ResourceStatus": "CREATE_IN_PROGRESS", "Timestamp": at},
        {
            "LogicalResourceId": "IntakeQueue",
            "ResourceType": "AWS::SQS::Queue",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": 'Resource handler returned message: "Access denied for sqs:CreateQueue"',
            "Timestamp": at,
        },
        {
            "LogicalResourceId": "DecisionsTable",
            "ResourceType": "AWS::DynamoDB::Table",
            "ResourceStatus": "CREATE_FAILED",
            "ResourceStatusReason": "Resource creation cancelled",
            "Timestamp": at,
        },
    ]
    assert first_failure(events) == (
        'IntakeQueue (AWS::SQS::Queue): Resource handler returned message: "Access denied for sqs:CreateQueue"'
    )
    assert "no resource reported a reason" in first_failure(events[:1])


def test_a_template_cloudformation_refuses_is_one_line_exit_4(
    tmp_path: Path, aws_standin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = "t" + uuid.uuid4().hex[:8]
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / f"{stage}.yaml").write_text("region: us-east-1\nlog_level: INFO\nlog_retention_days: 7\n")
    monkeypatch.setenv("CAREWIRE_STAGES_DIR", str(tmp_path / "stages"))
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    for name in ("consumer_secret", "access_token"):
        boto3.client("ssm").put_parameter(Name=f"/carewire/{stage}/x-care/{name}", Value="v", Type="SecureString")
    store_other_secrets(stage)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "sam.yaml").write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": []}},')
    failed = CliRunner().invoke(cli, ["deploy", "--stage", stage, "--from", str(tmp_path / "pkg"), "--yes"])
    assert failed.exit_code == 4, failed.output
    assert len(failed.output.strip().splitlines()[-1:]) == 1 and "Traceback" not in failed.output
    assert failed.output.strip().splitlines()[-1].startswith("Error: AWS: ")


@pytest.fixture
def recorded(tmp_path: Path, aws_standin: str, monkeypatch: pytest.MonkeyPatch) -> StageOutputs:
    """A stage whose outputs name real (stand-in) log groups and functions."""
    stage = "t" + uuid.uuid4().hex[:8]
    (tmp_path / "stages").mkdir()
    (tmp_path / "stages" / f"{stage}.yaml").write_text("region: us-east-1\nlog_level: INFO\nlog_retention_days: 7\n")
    monkeypatch.setenv("CAREWIRE_STAGES_DIR", str(tmp_path / "stages"))
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    logs = boto3.client("logs")
    now = int(time.time() * 1000)
    groups = {}
    for function in ("ProcessIntake", "Webhooks"):
        group = f"/{stage}/{function}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[
                {"timestamp": now, "message": f"ERROR {function} failed"},
                {"timestamp": now + 1, "message": f"INFO {function} fine"},
            ],
        )
        groups[f"{function}LogGroup"] = group
    role = boto3.client("iam").create_role(RoleName=f"{stage}-r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    lam = boto3.client("lambda")
    name = f"{stage}-processor"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code.getvalue()}
    )
    first = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=code.getvalue())
    second = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=second)
    assert (first, second) == ("1", "2")
    outputs = StageOutputs(
        stage=stage,
        stack_name=f"carewire-{stage}",
        region="us-east-1",
        functions={"process_intake": name},
        outputs=groups,
    )
    write_outputs(tmp_path / "home", outputs)
    return outputs


def test_logs_reads_the_stage_log_groups_with_a_filter(recorded: StageOutputs) -> None:
    runner = CliRunner()
    every = runner.invoke(cli, ["--stage", recorded.stage, "logs", "--since", "5m"])
    assert every.exit_code == 0, every.output
    assert "process_intake" in every.output and "webhooks" in every.output and "INFO Webhooks fine" in every.output
    errors = runner.invoke(cli, ["--stage", recorded.stage, "logs", "process_intake", "--filter", "ERROR"])
    assert errors.output.strip().endswith("ERROR ProcessIntake failed") and len(errors.output.splitlines()) == 1
    unknown = runner.invoke(cli, ["--stage", recorded.stage, "logs", "sender"])
    assert unknown.exit_code == 3 and "known: process_intake, webhooks" in unknown.output
    assert runner.invoke(cli, ["--stage", recorded.stage, "logs", "--since", "5x"]).exit_code == 2


def test_rollback_moves_the_live_alias_to_the_previous_version(recorded: StageOutputs) -> None:
    runner = CliRunner()
    declined = runner.invoke(cli, ["--stage", recorded.stage, "rollback"], input="n\n")
    assert "process_intake   live v2 → v1" in declined.output
    lam = boto3.client("lambda")
    name = recorded.functions["process_intake"]
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    done = runner.invoke(cli, ["--stage", recorded.stage, "rollback", "--yes"])
    assert done.exit_code == 0, done.output
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    again = runner.invoke(cli, ["--stage", recorded.stage, "rollback", "--yes"])
    assert again.exit_code == 3 and "nothing to roll back" in again.output


class _StackIn:
    """A CloudFormation client whose stack is in one state (the states moto cannot reach)."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.change_sets: list[str] = []

    def describe_stacks(self, StackName: str) -> dict[str, object]:
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status}]}

    def create_change_set(self, **request: object) -> None:
        self.change_sets.append(str(request["ChangeSetName"]))


class _Session:
    def __init__(self, client: object) -> None:
        self._client = client

    def client(self, service: str) -> object:
        return self._client


@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "UPDATE_IN_PROGRESS"])
def test_a_stack_that_cannot_take_a_change_set_is_a_conflict_with_its_fix(status: str) -> None:
    from chalicelib.cli.cloud import Cloud, StackBlocked

    client = _StackIn(status)
    cloud = Cloud(load_stage("dev", REPO / "stages"), session=_Session(client))
    with pytest.raises(StackBlocked) as caught:
        cloud.create_change_set("https://bucket/key", {})
    assert client.change_sets == []
    if status == "ROLLBACK_COMPLETE":
        assert "carewire destroy --stage dev, then deploy again" in str(caught.value)

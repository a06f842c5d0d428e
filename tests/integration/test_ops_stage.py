"""A deployed stage end to end against the stand-in control plane (moto's server for CloudFormation, S3, SSM, SQS;
DynamoDB Local for the tables): secrets, deploy through a change set, the recorded outputs every other command
reads, parked and dead-letter recovery, status, destroy."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from click.testing import CliRunner, Result

from chalicelib.cli import cli
from chalicelib.settings import Settings
from chalicelib.store.tables import INFRA_FILE, _CfnLoader, create_tables
from tests.conftest import POLICIES

STANDIN_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic")
"""What moto's CloudFormation can create from infra/resources.yaml (it has no SAM transform)."""


def _intrinsics(value: Any) -> Any:
    """`_CfnLoader`'s short-form intrinsics ({"GetAtt": "A.B"}) back to the long form CloudFormation takes."""
    if isinstance(value, list):
        return [_intrinsics(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        [(key, inner)] = value.items()
        if key == "GetAtt" and isinstance(inner, str):
            return {"Fn::GetAtt": inner.split(".", 1)}
        if key in ("Sub", "If", "Not", "Equals", "Join", "Select", "Split"):
            return {f"Fn::{key}": _intrinsics(inner)}
    return {k: _intrinsics(v) for k, v in value.items()}


def standin_package(folder: Path) -> Path:
    """The part of infra/resources.yaml the stand-in can deploy, with its outputs, as a `carewire package` folder."""
    doc = yaml.load(INFRA_FILE.read_text(encoding="utf-8"), Loader=_CfnLoader)
    resources = {k: v for k, v in doc["Resources"].items() if v.get("Type") in STANDIN_TYPES}
    outputs = {
        k: v
        for k, v in doc["Outputs"].items()
        if isinstance(v["Value"], dict) and str(v["Value"].get("Ref", "")).split(".")[0] in resources
    }
    outputs["EndpointURL"] = {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com/api/"}
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": doc["Parameters"],
        "Conditions": doc["Conditions"],
        "Resources": resources,
        "Outputs": outputs,
    }
    cfn = folder / "cfn"
    cfn.mkdir(parents=True)
    (cfn / "sam.yaml").write_text(json.dumps(_intrinsics(template), indent=1), encoding="utf-8")
    (cfn / "deployment.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    return folder


@pytest.fixture
def stage(tmp_path: Path, aws_standin: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = "t" + uuid.uuid4().hex[:8]
    stages = tmp_path / "stages"
    stages.mkdir()
    (stages / f"{name}.yaml").write_text(
        "region: us-east-1\nprofile: null\nlog_level: INFO\nlog_retention_days: 7\nalarm_email: ops@example.com\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CAREWIRE_STAGES_DIR", str(stages))
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CAREWIRE_POLICIES_DIR", str(POLICIES))
    for key in [k for k in __import__("os").environ if k.startswith("CAREWIRE_") and k.endswith("_TABLE")]:
        monkeypatch.delenv(key)
    monkeypatch.delenv("CAREWIRE_INTAKE_QUEUE_URL", raising=False)
    yield name


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def store_other_secrets(stage: str) -> None:
    """Every channel secret of the stage but x-care's, straight into the stand-in's SSM."""
    from chalicelib.channels.config import load_channels
    from chalicelib.cli.secrets import required_parameters
    from chalicelib.cli.stages import load_stage, stages_dir

    required = required_parameters(load_stage(stage, stages_dir()), load_channels(POLICIES / "channels.yaml"))
    ssm = boto3.client("ssm")
    for name, (channel, _secret) in required.items():
        if channel != "x-care":
            ssm.put_parameter(Name=name, Value="v", Type="SecureString", Overwrite=True)


def test_deploy_refuses_without_secrets_then_records_outputs_every_command_reads(stage: str, tmp_path: Path) -> None:
    package = standin_package(tmp_path / "pkg")
    refused = run("deploy", "--stage", stage, "--from", str(package), "--yes")
    assert refused.exit_code == 3
    assert f"carewire --stage {stage} secrets set x-care consumer_secret" in refused.output
    assert f"carewire --stage {stage} secrets set community webhook_secret" in refused.output
    store_other_secrets(stage)
    assert "community webhook_secret" not in run("deploy", "--stage", stage, "--from", str(package)).output

    stored = run("--stage", stage, "secrets", "set", "x-care", "consumer_secret", stdin="s3cret-value\n")
    assert run("--stage", stage, "secrets", "set", "x-care", "access_token", stdin="token\n").exit_code == 0
    assert stored.exit_code == 0, stored.output
    ssm = boto3.client("ssm")
    parameter = ssm.get_parameter(Name=f"/carewire/{stage}/x-care/consumer_secret", WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "s3cret-value")
    listed = run("--stage", stage, "secrets", "list")
    assert f"/carewire/{stage}/x-care/consumer_secret" in listed.output and "changed" in listed.output
    assert "s3cret" not in listed.output

    deployed = run("deploy", "--stage", stage, "--from", str(package), "--yes")
    assert deployed.exit_code == 0, deployed.output
    assert "Add" in deployed.output and "DecisionsTable" in deployed.output
    assert "webhook x-care: https://abc123.execute-api.us-east-1.amazonaws.com/api/webhooks/x-care" in deployed.output

    outputs = json.loads((tmp_path / "home" / "stages" / f"{stage}.json").read_text(encoding="utf-8"))
    assert outputs["stack_name"] == f"carewire-{stage}"
    assert set(outputs["tables"]) >= {"decisions", "parked", "escalations", "notices"}
    assert outputs["tables"]["parked"] != f"carewire-{stage}-parked", "the stack names the tables"
    assert "dead_letters" in outputs["queues"] and "intake" in outputs["queues"]

    s3 = boto3.client("s3")
    [bucket] = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("carewire-artifacts-")]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    stack = boto3.client("cloudformation").describe_stacks(StackName=f"carewire-{stage}")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["AlarmEmail"] == "ops@example.com"

    # The tables exist "in AWS" — here DynamoDB Local, under the names the stack gave them.
    settings = Settings(stage=stage, policies_dir=POLICIES, table_names=outputs["tables"])
    create_tables(boto3.client("dynamodb"), settings)
    shown = run("--stage", stage, "parked", "list")
    assert shown.exit_code == 0, shown.output
    assert "0 parked event(s)" in shown.output

    destroyed = run("destroy", "--stage", stage, "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert "RETAINED" in destroyed.output and "DecisionsTable" in destroyed.output
    assert "IdempotencyTable" not in destroyed.output, "only tables with DeletionPolicy Retain are kept"
    assert "aws dynamodb delete-table" in destroyed.output
    assert not (tmp_path / "home" / "stages" / f"{stage}.json").exists()
    assert run("--stage", stage, "parked", "list").exit_code == 3


def _deployed(stage: str, tmp_path: Path) -> dict[str, Any]:
    store_other_secrets(stage)
    assert run("--stage", stage, "secrets", "set", "x-care", "consumer_secret", stdin="v1\n").exit_code == 0
    assert run("--stage", stage, "secrets", "set", "x-care", "access_token", stdin="t1\n").exit_code == 0
    done = run("deploy", "--stage", stage, "--from", str(standin_package(tmp_path / "pkg")), "--yes")
    assert done.exit_code == 0, done.output
    outputs: dict[str, Any] = json.loads((tmp_path / "home" / "stages" / f"{stage}.json").read_text(encoding="utf-8"))
    create_tables(boto3.client("dynamodb"), Settings(stage=stage, policies_dir=POLICIES, table_names=outputs["tables"]))
    return outputs


def test_parked_and_dead_letters_go_back_to_the_stage_intake_queue(stage: str, tmp_path: Path) -> None:
    outputs = _deployed(stage, tmp_path)
    from chalicelib.privacy import Retention
    from chalicelib.store.dynamo import Store

    settings = Settings(stage=stage, policies_dir=POLICIES, table_names=outputs["tables"])
    store = Store(boto3.client("dynamodb"), settings, retention=Retention.load(POLICIES))
    message = {"platform": "x", "channel": "x-care", "kind": "tweet_create", "payload": {"id": "1"}}
    park_id = store.park(message, "MalformedEvent: no text", datetime(2026, 11, 30, tzinfo=UTC))

    listed = run("--stage", stage, "parked", "list")
    assert park_id in listed.output and "MalformedEvent: no text" in listed.output
    shown = run("--stage", stage, "parked", "show", park_id)
    assert json.loads(shown.output)["message"] == message
    assert run("--stage", stage, "parked", "show", "nope").exit_code == 3

    replayed = run("--stage", stage, "parked", "replay", park_id)
    assert replayed.exit_code == 0, replayed.output
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=outputs["queues"]["intake"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in got] == [message]
    assert store.parked() == []
    assert run("--stage", stage, "parked", "replay", park_id).exit_code == 3, "a replayed event is gone"

    dead = outputs["queues"]["dead_letters"]
    for n in range(3):
        sqs.send_message(QueueUrl=dead, MessageBody=json.dumps({"n": n}))
    assert run("--stage", stage, "dlq", "list").output.count("received") == 3
    moved = run("--stage", stage, "dlq", "replay")
    assert "3 dead letter(s) moved back" in moved.output, moved.output
    depth = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["ApproximateNumberOfMessages"])
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"

    sqs.send_message(QueueUrl=dead, MessageBody="{}")
    assert run("--stage", stage, "dlq", "purge", "--yes").exit_code == 0

    status = run("--stage", stage, "status", "--json")
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["stack"]["status"] == "CREATE_COMPLETE"
    assert report["queues"]["intake"]["visible"] + report["queues"]["intake"]["in_flight"] >= 1
    assert report["parked"] == 0


def test_a_change_set_not_confirmed_is_not_executed(stage: str, tmp_path: Path) -> None:
    store_other_secrets(stage)
    assert run("--stage", stage, "secrets", "set", "x-care", "consumer_secret", stdin="v1\n").exit_code == 0
    assert run("--stage", stage, "secrets", "set", "x-care", "access_token", stdin="t1\n").exit_code == 0
    answer = run("deploy", "--stage", stage, "--from", str(standin_package(tmp_path / "pkg")), stdin="n\n")
    assert answer.exit_code == 0, answer.output
    assert "execute this change set?" in answer.output and "not deployed" in answer.output
    assert not (tmp_path / "home" / "stages" / f"{stage}.json").exists()
    stacks = boto3.client("cloudformation").list_stacks()["StackSummaries"]
    assert not [s for s in stacks if s["StackName"] == f"carewire-{stage}" and s["StackStatus"] == "CREATE_COMPLETE"]


def test_secrets_rotate_keeps_the_previous_value_for_a_window(stage: str) -> None:
    assert run("--stage", stage, "secrets", "rotate", "x-care", "consumer_secret", stdin="x\n").exit_code == 3
    assert run("--stage", stage, "secrets", "set", "x-care", "consumer_secret", stdin="old\n").exit_code == 0
    rotated = run("--stage", stage, "secrets", "rotate", "x-care", "consumer_secret", stdin="new\n")
    assert rotated.exit_code == 0, rotated.output
    ssm = boto3.client("ssm")
    base = f"/carewire/{stage}/x-care/consumer_secret"
    assert ssm.get_parameter(Name=base, WithDecryption=True)["Parameter"]["Value"] == "new"
    assert ssm.get_parameter(Name=f"{base}-previous", WithDecryption=True)["Parameter"]["Value"] == "old"
    assert "old" not in rotated.output and "new" not in rotated.output.replace("rotated", "")
    unknown = run("--stage", stage, "secrets", "set", "x-care", "password", stdin="v\n")
    assert unknown.exit_code == 3 and "its secrets: access_token, consumer_secret" in unknown.output


def test_the_deployed_resolver_reads_the_stage_secret_from_ssm(stage: str) -> None:
    from chalicelib.channels.config import SecretResolver, load_channels

    assert run("--stage", stage, "secrets", "set", "x-care", "consumer_secret", stdin="from-ssm\n").exit_code == 0
    channel = load_channels(POLICIES / "channels.yaml")["x-care"]
    resolver = SecretResolver(Settings(stage=stage), env={"CAREWIRE_SECRETS_PATH": f"/carewire/{stage}"})
    assert resolver.resolve(channel) == "from-ssm"
    assert SecretResolver(Settings(stage=stage), env={}).resolve(channel) is None

"""What a deployed stage gets, read from the merged template and the zip `carewire package` builds: the public
webhook's own narrow role, log retention, alarms, aliases, stage parameters, and a package without local tools."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.packaging import package
from chalicelib.store.tables import _CfnLoader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str], Path]:
    path = package(tmp_path_factory.mktemp("package"), stage="dev")
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    names = zipfile.ZipFile(path.parent / "deployment.zip").namelist()
    return doc, names, path.parent / "deployment.zip"


def _statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for p in resources[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _functions(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_the_webhook_role_can_only_enqueue_store_oversized_events_and_read_its_stage_secrets(
    built: tuple[Any, ...],
) -> None:
    resources = built[0]["Resources"]
    assert resources["Webhooks"]["Properties"]["Role"] == {"Fn::GetAtt": ["WebhooksRole", "Arn"]}
    allowed = {a for s in _statements(resources, "WebhooksRole") for a in _actions(s)}
    assert allowed == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "ssm:GetParameter",
        "s3:PutObject",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    by_sid = {s["Sid"]: s for s in _statements(resources, "WebhooksRole")}
    assert by_sid["IntakeSend"]["Resource"] == {"Fn::GetAtt": ["IntakeQueue", "Arn"]}
    assert by_sid["ChannelSecrets"]["Resource"]["Fn::Sub"].endswith(":parameter/carewire/${Stage}/*")
    assert by_sid["OversizedEvents"]["Resource"] == {"Fn::Sub": "${OversizedEventsBucket.Arn}/events/*"}
    assert "Table" not in repr(_statements(resources, "WebhooksRole"))
    # The agent/notices API keeps its tables and loses the queue and the secrets.
    api = [a for s in _statements(resources, "ApiHandlerRole") for a in _actions(s)]
    assert not [a for a in api if a.startswith(("sqs:", "ssm:"))]


def test_the_public_webhook_paths_invoke_the_webhook_function(built: tuple[Any, ...]) -> None:
    paths = built[0]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for method in ("get", "post"):
        uri = paths["/webhooks/{channel}"][method]["x-amazon-apigateway-integration"]["uri"]
        assert set(uri) == {"Fn::Sub"}, "one intrinsic, not a deep-merged pair"
        assert "${Webhooks.Arn}:live/invocations" in uri["Fn::Sub"]
    others = [
        op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path, ops in paths.items()
        if path != "/webhooks/{channel}"
        for op in ops.values()
        if isinstance(op, dict) and "x-amazon-apigateway-integration" in op
    ]
    assert others and all("${APIHandler.Arn}:live/invocations" in uri for uri in others)
    resources = built[0]["Resources"]
    assert resources["APIHandlerInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "APIHandler.Alias"}
    assert resources["WebhooksInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "Webhooks.Alias"}


def test_every_function_logs_to_a_group_with_the_stage_retention(built: tuple[Any, ...]) -> None:
    doc = built[0]
    for name, function in _functions(doc).items():
        group = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert group is not None, f"{name} logs to a group CloudFormation does not own (kept forever)"
        resource = doc["Resources"][group["Ref"]]
        assert resource["Type"] == "AWS::Logs::LogGroup"
        assert resource["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert function["Properties"].get("AutoPublishAlias") == "live", f"{name}: no alias to roll back"


def test_alarms_go_to_the_ops_topic_with_the_stage_email(built: tuple[Any, ...]) -> None:
    resources = built[0]["Resources"]
    alarms = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    metrics = {
        (a["Namespace"] if isinstance(a["Namespace"], str) else "Carewire", a["MetricName"]) for a in alarms.values()
    }
    assert metrics >= {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("Carewire", "EventsParked"),
        ("Carewire", "EscalationsBreached"),
    }
    assert all(a["AlarmActions"] == [{"Ref": "OpsAlarmsTopic"}] for a in alarms.values())
    subscription = resources["OpsAlarmsSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert resources["Dashboard"]["Type"] == "AWS::CloudWatch::Dashboard"


def test_stage_settings_reach_the_functions(built: tuple[Any, ...]) -> None:
    doc = built[0]
    from chalicelib.cli.stages import load_stage

    stage = load_stage("prod", Path(__file__).resolve().parents[2] / "stages")
    assert set(stage.parameters()) == set(doc["Parameters"]), "every template parameter comes from the stage file"
    variables = doc["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert variables["CAREWIRE_SECRETS_PATH"] == {"Fn::Sub": "/carewire/${Stage}"}
    for function in _functions(doc).values():  # a function-level value would override the stage's
        own = function["Properties"].get("Environment", {}).get("Variables", {})
        assert not {"POWERTOOLS_LOG_LEVEL", "CAREWIRE_STAGE", "POWERTOOLS_METRICS_NAMESPACE"} & set(own)
    processor = doc["Resources"]["ProcessIntake"]["Properties"]
    assert processor["MemorySize"] == {"Ref": "ProcessorMemory"}
    assert "Fn::If" in processor["ReservedConcurrentExecutions"]


def test_the_lambda_package_holds_only_what_runs_in_lambda(built: tuple[Any, ...]) -> None:
    names, zip_path = built[1], built[2]
    assert "app.py" in names and "chalicelib/policies/channels.yaml" in names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    tops = {n.split("/", 1)[0] for n in names}
    for left_out in ("botocore", "boto3", "s3transfer"):
        assert left_out not in tops, f"{left_out} comes with the Lambda runtime"
    for local_only in ("chalicelib/cli/", "chalicelib/local/", "chalicelib/packaging.py"):
        assert not any(n.startswith(local_only) for n in names), f"{local_only} is not for Lambda"
    # the weights go with the code; the corpus they were trained on, the benches and the tests do not
    assert "chalicelib/policies/model/care_model.json" in names
    assert not tops & {"corpus", "bench", "tests", "scripts"}
    # About 4.5 MB of dependencies plus the two models (4.0 MB zipped after corpus round 12, 8.5 MB in all, and they
    # grow with the corpus). botocore alone zips to about 17.5 MB, so this still catches a runtime library packed by
    # mistake; the cold start the size costs is measured as packaged by bench/classify_bench.py (budget 400 ms).
    assert zip_path.stat().st_size < 12_000_000


def test_no_function_is_left_with_the_deny_all_placeholder(built: tuple[Any, ...]) -> None:
    resources = built[0]["Resources"]
    for name, function in _functions(built[0]).items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = _statements(resources, role)
        assert statements, f"{name}'s role {role} has no permissions"
        assert all(s["Effect"] == "Allow" for s in statements), f"{name}'s role {role} still denies everything"
    storms = [a for s in _statements(resources, "ProcessIntakeRole") if "StormsTable" in repr(s) for a in _actions(s)]
    assert "dynamodb:UpdateItem" in storms, "the processor counts storms"


def test_every_function_runs_the_one_uploaded_package(built: tuple[Any, ...]) -> None:
    """`carewire deploy` points `CodeUri: ./deployment.zip` at the uploaded zip; a function with other code
    would be deployed without it."""
    assert {f["Properties"]["CodeUri"] for f in _functions(built[0]).values()} == {"./deployment.zip"}
    text = (built[2].parent / "sam.yaml").read_text(encoding="utf-8")
    assert text.count("CodeUri: ./deployment.zip") == len(_functions(built[0]))


def test_every_function_runs_on_arm64_with_arm64_native_code(built: tuple[Any, ...]) -> None:
    """Graviton is ~20% cheaper per GB-second; every native extension in the package must be built for it."""
    assert {tuple(f["Properties"]["Architectures"]) for f in _functions(built[0]).values()} == {("arm64",)}
    native = [n for n in built[1] if n.endswith(".so")]
    assert native, "regex, PyYAML, wrapt and rpds ship compiled code"
    assert all("aarch64" in n for n in native), [n for n in native if "aarch64" not in n]


def test_infra_names_each_resource_once() -> None:
    """YAML keeps the last of two equal keys: a second `Resources` entry would silently replace the first."""
    from chalicelib.store.tables import INFRA_FILE

    names = [
        line.split(":")[0].strip()
        for line in INFRA_FILE.read_text(encoding="utf-8").splitlines()
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":")
    ]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})

"""Shared fixtures. One DynamoDB Local per test session (in memory, on a free port); each test that
needs tables gets its own, created from the infra/ definition, so tests never see each other's data."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import runtime as runtime_module
from chalicelib.model import Event
from chalicelib.observability import COUNTERS
from chalicelib.runtime import Runtime
from chalicelib.settings import TABLES, Settings
from chalicelib.store.tables import create_tables

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
X_SECRET = "test-consumer-secret"
BRAND_ID = "1000000000000000001"

os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="WARNING",
    CAREWIRE_X_CARE_CONSUMER_SECRET=X_SECRET,
)
for _var in ("AWS_PROFILE", "CAREWIRE_INTAKE_QUEUE_URL", "CAREWIRE_STAGE"):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    from chalicelib.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as server:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
        yield server.endpoint
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


class RecordingQueue:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def send(self, events: Any) -> None:
        self.events.extend(events)


class FixedClock:
    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment or datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    prefix = "t" + uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "stage": "local",
        "policies_dir": POLICIES,
        "home": tmp_path / "home",
        "table_names": {t: f"{prefix}-{t}" for t in TABLES},
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(autouse=True)
def _reset_runtime() -> Iterator[None]:
    COUNTERS.tally.clear()
    yield
    runtime_module.use(None)


@pytest.fixture
def route_runtime(tmp_path: Path) -> Runtime:
    """A runtime for the webhook routes: real channels and signatures, a queue that records."""
    recording = RecordingQueue()
    rt = Runtime(make_settings(tmp_path), clock=FixedClock(), queue_factory=lambda _rt: recording)
    runtime_module.use(rt)
    return rt


@pytest.fixture
def ddb_runtime(tmp_path: Path, dynamodb_endpoint: str) -> Iterator[Runtime]:
    """A runtime on DynamoDB Local with fresh tables and the in-process queue."""
    yield from runtime_on_dynamodb(make_settings(tmp_path))


def runtime_on_dynamodb(settings: Settings) -> Iterator[Runtime]:
    """The body of `ddb_runtime` for other settings (e.g. another policies directory)."""
    rt = Runtime(settings, clock=FixedClock())
    create_tables(rt.dynamodb, rt.settings)
    runtime_module.use(rt)
    yield rt
    queue = rt.__dict__.get("queue")
    if queue is not None and hasattr(queue, "close"):
        queue.close()


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str) -> Iterator[Runtime]:
    """The CLI's own runtime (settings from the environment) on fresh tables of the session's DynamoDB Local."""
    from chalicelib.local.stack import local_stack

    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    prefix = "cli" + uuid.uuid4().hex[:8]
    for table in TABLES:
        monkeypatch.setenv(f"CAREWIRE_{table.upper()}_TABLE", f"{prefix}-{table}")
    with local_stack(Settings.from_env()) as runtime:
        yield runtime


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A copy of policies/ to change in a test."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    """moto's server (CloudFormation, S3, SSM, SQS, Logs, STS, Lambda) in this process on a free loopback port,
    stopped at the end of the session."""
    import socket

    from moto.cloudformation.models import ChangeSet
    from moto.server import ThreadedMotoServer

    # moto 5.2.5 gap: executing a change set creates the resources but leaves the stack's outputs as they were
    # at review time (none, on a first deploy). Real CloudFormation evaluates them; so does the stand-in now.
    apply = ChangeSet.apply

    def apply_with_outputs(change_set: Any) -> None:
        apply(change_set)
        change_set.stack.template = change_set.template
        change_set.stack._parse_template()
        change_set.stack.output_map = change_set.stack._create_output_map()

    ChangeSet.apply = apply_with_outputs  # type: ignore[method-assign,assignment]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        ChangeSet.apply = apply  # type: ignore[method-assign]


@pytest.fixture
def aws_standin(_moto_server: str, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """AWS for one test: every service on moto's server except DynamoDB, which stays DynamoDB Local
    (AWS_ENDPOINT_URL_DYNAMODB wins over AWS_ENDPOINT_URL). The environment is restored afterwards: a command
    run with `--stage` applies the stage's recorded outputs to it, as a CLI process should."""
    saved = dict(os.environ)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    yield _moto_server
    os.environ.clear()
    os.environ.update(saved)

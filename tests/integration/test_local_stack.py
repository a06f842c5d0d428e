"""The local runner keeps its data under its state directory: a restart keeps decisions and the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.local.stack import local_stack
from chalicelib.settings import TABLES
from tests.conftest import make_settings
from tests.integration.test_pipeline import OUTAGE, _event
from tests.support import mention_delivery


def test_data_survives_a_restart_of_the_local_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    settings = make_settings(tmp_path)
    with local_stack(settings) as runtime:
        assert runtime.processor.process(_event(runtime, mention_delivery("3001", OUTAGE))).status == "decided"
    assert not (settings.home / "dynamodb.json").exists()
    with local_stack(settings) as runtime:
        assert runtime.store.decision("x#3001") is not None
        assert len(runtime.store.escalations("network")) == 1
    assert (settings.home / "dynamodb").is_dir()


def test_a_stale_local_table_is_reported_not_used(tmp_path: Path, dynamodb_endpoint: str) -> None:
    import boto3

    from chalicelib.store.tables import TableDrift, create_tables

    settings = make_settings(tmp_path)
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    client.create_table(  # an escalations table from before the queue's indexes existed
        TableName=settings.table("escalations"),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "escalation_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "escalation_id", "KeyType": "HASH"}],
    )
    with pytest.raises(TableDrift, match=f"table {settings.table('escalations')} differs"):
        create_tables(client, settings)


def test_existing_tables_are_found_past_the_first_page_of_names(tmp_path: Path, dynamodb_endpoint: str) -> None:
    import boto3

    from chalicelib.store.tables import create_tables

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    for n in range(101):  # ListTables answers at most 100 names a page
        client.create_table(
            TableName=f"aaa-filler-{n:03d}",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
    settings = make_settings(tmp_path)
    assert len(create_tables(client, settings)) == len(TABLES)
    assert create_tables(client, settings) == []  # all found again, none re-created


def test_serve_stops_dynamodb_local_on_sigterm(tmp_path: Path) -> None:
    """kill, timeout and process supervisors send SIGTERM: the runner must stop its DynamoDB Local too."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from chalicelib.local.dynamodb_local import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL_DYNAMODB"}
    env["CAREWIRE_HOME"] = str(tmp_path / "home")
    serve = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    marker = tmp_path / "home" / "dynamodb.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/x-care?crc_token=t", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    ddb_port = json.loads(marker.read_text())["endpoint"].rsplit(":", 1)[1]
    serve.send_signal(signal.SIGTERM)
    output = serve.communicate(timeout=30)[0].decode()
    assert "stopping" in output
    assert not marker.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{ddb_port}", timeout=1)

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


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc/net (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


LOOPBACK_HEX = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_dynamodb_local_listens_on_loopback_only_and_keeps_its_files_private(tmp_path: Path) -> None:
    """Issue 9 #7: it listened on every interface without auth, and its data file was mode 644."""
    import boto3

    from chalicelib.local.dynamodb_local import DynamoDBLocal

    data = tmp_path / "dynamodb"
    with DynamoDBLocal(data_dir=data, log_path=tmp_path / "dynamodb.log") as server:
        addresses = _listening_addresses(server.port)
        assert addresses and addresses <= LOOPBACK_HEX, addresses
        client = boto3.client("dynamodb", endpoint_url=server.endpoint)
        client.create_table(
            TableName="private",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        client.put_item(TableName="private", Item={"k": {"S": "+63 917 555 0100"}})
    assert data.stat().st_mode & 0o777 == 0o700
    files = [p for p in data.iterdir() if p.is_file()]
    assert files and {p.name: p.stat().st_mode & 0o777 for p in files} == {p.name: 0o600 for p in files}
    assert (tmp_path / "dynamodb.log").stat().st_mode & 0o777 == 0o600


def test_a_killed_dynamodb_local_is_restarted_with_its_data(tmp_path: Path) -> None:
    import os
    import signal
    import time

    import boto3

    from chalicelib.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal(data_dir=tmp_path / "dynamodb") as server:
        server.supervise(interval=0.2)
        client = boto3.client("dynamodb", endpoint_url=server.endpoint)
        client.create_table(
            TableName="kept",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        client.put_item(TableName="kept", Item={"k": {"S": "before"}})
        first = server.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while server.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.restarts == 1 and server.pid != first
        assert client.get_item(TableName="kept", Key={"k": {"S": "before"}})["Item"]["k"]["S"] == "before"


def test_the_demo_decides_delivers_and_opens_a_storm_incident(tmp_path: Path) -> None:
    """What `make run` shows: every demo delivery decided, the replies delivered to the sandbox with their
    platform ids, and a small storm that opens one incident with its escalation and draft notice."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    from chalicelib.local.dynamodb_local import free_port

    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL_DYNAMODB"}
    env.update(CAREWIRE_HOME=str(tmp_path / "home"), POWERTOOLS_LOG_LEVEL="WARNING")
    serve = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli", "serve", "--demo", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert serve.stdout is not None
    while time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Carewire is serving"):
            break
    serve.send_signal(signal.SIGTERM)
    serve.communicate(timeout=30)
    output = "".join(lines)
    assert re.search(r"^9 decisions in", output, re.M), output[-3000:]  # 7 on X, a Facebook comment, a WhatsApp message
    delivered = re.search(r"Delivered to the platform sandbox: (\d+) of (\d+) outbox items", output)
    assert delivered and delivered.group(1) == delivered.group(2) != "0", output[-3000:]
    storm = re.search(r"^Storm: .* incident (inc-\w+) is open .* draft notice (draft-inc-\w+)", output, re.M)
    assert storm and storm.group(2) == "draft-" + storm.group(1), output[-3000:]

"""The local stack: DynamoDB Local (data kept under `.carewire/`, restarted if it dies), tables from
`infra/`, and a runtime with the durable local queue — the same code that runs in Lambda."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chalicelib.local.dynamodb_local import DynamoDBLocal
from chalicelib.runtime import Runtime, use
from chalicelib.settings import Settings
from chalicelib.store.tables import create_tables

LOCAL_AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def _running_endpoint(home: Path) -> str | None:
    """The endpoint of a `carewire serve` still running on this state directory, if any."""
    marker = home / "dynamodb.json"
    if not marker.exists():
        return None
    info = json.loads(marker.read_text(encoding="utf-8"))
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return str(info["endpoint"])


@contextmanager
def local_stack(settings: Settings | None = None, announce: bool = False) -> Iterator[Runtime]:
    """Yield a runtime on DynamoDB: the configured endpoint (AWS_ENDPOINT_URL_DYNAMODB), the one a running
    `carewire serve` uses, or a DynamoDB Local started here on `<home>/dynamodb` and stopped on exit."""
    for key, value in LOCAL_AWS_ENV.items():
        os.environ.setdefault(key, value)
    settings = settings or Settings.from_env()
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or _running_endpoint(settings.home)
    server: DynamoDBLocal | None = None
    marker = settings.home / "dynamodb.json"
    if endpoint is None:
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        server = DynamoDBLocal(data_dir=settings.home / "dynamodb", log_path=settings.home / "dynamodb.log").start()
        server.supervise()  # a killed DynamoDB Local comes back on the same port and data
        endpoint = server.endpoint
        marker.write_text(json.dumps({"endpoint": endpoint, "pid": os.getpid()}), encoding="utf-8")
        if announce:
            print(f"DynamoDB Local {endpoint} (data in {settings.home / 'dynamodb'})")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    runtime = Runtime(settings)
    try:
        create_tables(runtime.dynamodb, settings)
        use(runtime)
        yield runtime
    finally:
        use(None)
        queue = runtime.__dict__.get("queue")
        if queue is not None and hasattr(queue, "close"):
            queue.close()  # handlers in flight finish while DynamoDB Local still runs; the rest stays queued
        if server is not None:
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
            marker.unlink(missing_ok=True)
            server.stop()

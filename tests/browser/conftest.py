"""A real `carewire serve --demo` on the session's DynamoDB Local (its own tables and home) and one headless
Chromium for the console's browser tests. Skipped, saying how to get it, where chromium is missing;
`make test` installs it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.local.dynamodb_local import free_port
from chalicelib.runtime import Runtime
from chalicelib.settings import TABLES, Settings
from tests.browser.cdp import Browser, find_chromium

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str
    passwords: dict[str, str]
    runtime: Runtime
    """Reads the same tables the server writes."""
    output: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dynamodb_endpoint: str) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("serve-home")
    prefix = "ui" + uuid.uuid4().hex[:8]
    names = {t: f"{prefix}-{t}" for t in TABLES}
    port = free_port()
    env = {
        **os.environ,
        "CAREWIRE_HOME": str(home),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "PORT": str(port),
        **{f"CAREWIRE_{t.upper()}_TABLE": name for t, name in names.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.cli", "serve", "--demo"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Carewire is serving"):
            break
    output = "".join(lines)
    if process.poll() is not None or "Carewire is serving" not in output:
        process.kill()
        pytest.fail(f"carewire serve did not start:\n{output[-3000:]}")
    # Keep draining the server's output so it never blocks on a full pipe.
    import threading

    threading.Thread(target=lambda: [None for _ in process.stdout or []], daemon=True).start()
    settings = Settings(stage="local", home=home, table_names=names)
    try:
        yield Server(
            url=f"http://127.0.0.1:{port}",
            passwords=dict(re.findall(r"user (\w+)\s+password (\S+)", output)),
            runtime=Runtime(settings),
            output=output,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if find_chromium() is None:
        pytest.skip("chromium is not installed: `make test` installs it (as root: apt-get install -y chromium)")
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"), height=1100)
    try:
        yield chromium
    finally:
        chromium.close()

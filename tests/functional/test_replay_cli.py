"""`carewire replay` against a real local HTTP server, and the published JSON Schema of the generic channel."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.config import Config
from chalice.local import create_local_server
from click.testing import CliRunner

from app import app
from chalicelib.channels.standard_webhooks import SCHEMA
from chalicelib.cli import cli
from chalicelib.local.dynamodb_local import free_port
from chalicelib.runtime import Runtime
from tests.support import FIXTURES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(route_runtime: Runtime) -> Iterator[str]:
    port = free_port()
    local = create_local_server(
        app, Config.create(chalice_stage="local", app_name="carewire", chalice_app=app), "127.0.0.1", port
    )
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    local.shutdown()


def test_replay_signs_each_recorded_delivery_with_the_channels_secret(
    server: str, route_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREWIRE_HOME", str(route_runtime.settings.home))
    comment = json.loads((FIXTURES / "samples/meta_page_feed_comment_add.json").read_text())
    comment["entry"][0]["id"] = "104857600000001"
    comment["entry"][0]["changes"][0]["value"]["from"] = {"id": "555", "name": "Maria"}
    recorded = tmp_path / "deliveries.jsonl"
    lines = [json.dumps(comment), (FIXTURES / "samples/meta_page_feed_reaction_add.json").read_text().replace("\n", "")]
    recorded.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["replay", str(recorded), "--channel", "fb-page", "--to", server, "--json"])
    assert result.exit_code == 0, result.output
    rows, _ = json.JSONDecoder().raw_decode(result.output)  # the server thread prints its metrics after
    assert [r["http"] for r in rows] == [200, 200]
    assert rows[0]["answer"]["accepted"] == 1
    assert rows[1]["answer"] == {"accepted": 0, "skipped": {"reaction": 1}, "invalid": 0}
    [event] = route_runtime.queue.events  # type: ignore[attr-defined]
    assert event.kind == "feed"


def test_replay_of_an_unknown_channel_exits_2(tmp_path: Path) -> None:
    body = tmp_path / "one.json"
    body.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["replay", str(body), "--channel", "nope"])
    assert result.exit_code == 2
    assert "no channel 'nope'" in result.output


def test_the_published_schema_is_the_one_the_channel_checks() -> None:
    published = json.loads((REPO / "schemas" / "carewire-post.v1.schema.json").read_text(encoding="utf-8"))
    assert published == SCHEMA
    result = CliRunner().invoke(cli, ["channels", "schema"])
    assert json.loads(result.output) == SCHEMA

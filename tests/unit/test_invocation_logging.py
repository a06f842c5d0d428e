"""Every log line of a Lambda invocation names the function, the request and whether it was a cold start."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from chalicelib import observability
from chalicelib.observability import bind_invocation, logger


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the (process-wide, cached) logger writes during the test."""
    stream = io.StringIO()
    [handler] = logger().handlers
    monkeypatch.setattr(handler, "stream", stream)
    return stream


def _lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_the_first_invocation_is_the_cold_start(written: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_cold_start", [True])
    context = SimpleNamespace(function_name="carewire-dev-ProcessIntake-x1", aws_request_id="req-1")
    try:
        bind_invocation(context)
        logger().warning("first")
        bind_invocation(SimpleNamespace(function_name=context.function_name, aws_request_id="req-2"))
        logger().warning("second")
    finally:
        logger().clear_state()
    first, second = _lines(written.getvalue())
    assert (first["cold_start"], first["function_request_id"]) == (True, "req-1")
    assert (second["cold_start"], second["function_request_id"]) == (False, "req-2")
    assert first["function_name"] == "carewire-dev-ProcessIntake-x1"


def test_no_context_adds_nothing(written: io.StringIO) -> None:
    bind_invocation(None)
    logger().warning("local")
    [line] = _lines(written.getvalue())
    assert "cold_start" not in line and "function_request_id" not in line

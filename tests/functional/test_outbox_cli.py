"""Agents answer through the outbox (API and CLI), and ops work it: `carewire outbox list|show|retry|cancel|resume`,
`carewire channels list --health` — through click's runner and chalice.test.Client, on DynamoDB Local."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from chalice.test import Client
from click.testing import CliRunner

from app import app
from chalicelib.cli import cli
from chalicelib.local.delivery import aim_at_sandbox
from chalicelib.local.sandbox import Sandbox
from chalicelib.runtime import Runtime
from tests.conftest import BRAND_ID
from tests.functional.test_agent_api import _post
from tests.integration.test_escalation_queue import seed

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox({"tok": BRAND_ID}) as box:
        yield box


def test_an_agents_cli_answer_is_delivered_once_and_marks_the_escalation_answered(
    stack: Runtime,
    sandbox: Sandbox,
) -> None:
    runner = CliRunner()
    eid = seed(stack, "1", now=stack.clock())["escalation_id"]
    stack.escalations.claim_next("network", "ana", stack.clock())
    text = "Sorry Maria, the site in Cubao is back within the hour."
    queued = runner.invoke(cli, ["escalations", "reply", eid, text, "--agent", "ana"])
    assert queued.exit_code == 0, queued.output
    assert queued.output.startswith("queued agent-reply-") and "(public agent_reply)" in queued.output
    again = runner.invoke(cli, ["escalations", "reply", eid, text, "--agent", "ana"])
    assert "already queued" in again.output
    [pending] = json.loads(runner.invoke(cli, ["outbox", "list", "--status", "pending", "--json"]).output)
    assert (pending["author"], pending["escalation_id"], pending["in_reply_to_post_id"]) == ("ana", eid, "1")

    sender = aim_at_sandbox(stack, sandbox, {"x-care": "tok"})
    sender.sweep()
    [tweet] = sandbox.received(kind="tweet")
    assert (tweet["text"], tweet["in_reply_to"]) == (text, "1")
    shown = json.loads(runner.invoke(cli, ["outbox", "show", pending["reply_id"]]).output)
    assert (shown["status"], shown["platform_id"]) == ("sent", tweet["id"])
    answered = stack.escalations.get(eid)
    assert answered["last_delivered"]["platform_id"] == tweet["id"] and answered["answered_at"]
    refused = runner.invoke(cli, ["outbox", "cancel", pending["reply_id"]])
    assert refused.exit_code == 2 and "is sent" in refused.output
    wrong = runner.invoke(cli, ["escalations", "reply", eid, "call me on 0917 123 4567", "--agent", "ana"])
    assert wrong.exit_code == 2 and "personal data" in wrong.output


def test_ops_see_an_unhealthy_channel_resume_it_and_retry_what_failed(
    stack: Runtime,
    sandbox: Sandbox,
) -> None:
    runner = CliRunner()
    eid = seed(stack, "2", now=stack.clock())["escalation_id"]
    stack.escalations.claim_next("network", "ana", stack.clock())
    reply_id = stack.escalations.reply(eid, "ana", "We are on it.", stack.clock())["reply_id"]
    sandbox.revoke()
    sender = aim_at_sandbox(stack, sandbox, {"x-care": "tok"})
    sender.sweep()
    rows = json.loads(runner.invoke(cli, ["channels", "list", "--health", "--json"]).output)
    [row] = [r for r in rows if r["id"] == "x-care"]
    assert row["delivery"]["healthy"] is False and "401" in row["delivery"]["reason"]
    text = runner.invoke(cli, ["channels", "list", "--health"]).output
    assert "UNHEALTHY" in text and "tok" not in text
    listed = runner.invoke(cli, ["outbox", "list"]).output
    assert reply_id in listed and "pending" in listed

    sandbox.restore()
    assert runner.invoke(cli, ["outbox", "resume", "x-care"]).output.strip() == "x-care: resumed"
    sender.config = replace(sender.config, state_cache_s=0.0)  # see the resume at once
    sandbox.delete_post("2")
    sender.sweep()
    failed = json.loads(runner.invoke(cli, ["outbox", "show", reply_id]).output)
    assert failed["status"] == "failed" and "deleted" in failed["error"]
    assert runner.invoke(cli, ["outbox", "retry", reply_id]).output.strip() == f"{reply_id}: pending again"
    assert runner.invoke(cli, ["outbox", "cancel", reply_id]).output.strip() == f"{reply_id}: cancelled"
    assert runner.invoke(cli, ["outbox", "retry", "nope"]).exit_code == 2


def test_the_agent_api_answer_twice_is_one_item(ddb_runtime: Runtime) -> None:
    eid = seed(ddb_runtime, "3")["escalation_id"]
    with Client(app) as client:
        assert _post(client, ddb_runtime, "/agent/queues/network/claim").status_code == 200
        first = _post(client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": "On it", "private": True})
        again = _post(client, ddb_runtime, f"/agent/escalations/{eid}/reply", body={"text": "On it", "private": True})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json_body["reply"]["reply_id"] == again.json_body["reply"]["reply_id"]
    assert again.json_body["reply"]["duplicate"] is True
    assert [o["kind"] for o in ddb_runtime.store.outbox()] == ["agent_reply"]
    assert ddb_runtime.store.outbox()[0]["recipient_id"] == "42"
    assert len(ddb_runtime.escalations.get(eid)["replies"]) == 1

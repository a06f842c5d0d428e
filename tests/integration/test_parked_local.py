"""`carewire parked` in the local stage: replay runs the processor on DynamoDB Local, discard deletes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.model import Event
from chalicelib.runtime import Runtime
from tests.conftest import BRAND_ID

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _tweet_event(post_id: str, channel: str) -> dict[str, object]:
    tweet = {
        "id_str": post_id,
        "text": "@bayanitelcares no signal in Quezon City since 6am",
        "timestamp_ms": "1795424400000",
        "user": {"id_str": "42", "screen_name": "maria_qc", "name": "Maria Santos"},
        "entities": {"user_mentions": [{"screen_name": "bayanitelcares", "id_str": BRAND_ID, "indices": [0, 15]}]},
    }
    event = Event(channel, "x", "tweet", {"for_user_id": BRAND_ID, "event": tweet, "users": {}}, AT.isoformat())
    return event.to_message()


def test_a_replayed_event_is_decided_and_one_still_unprocessable_is_parked_again(stack: Runtime) -> None:
    fixed = stack.store.park(_tweet_event("7001", "x-care"), "QueueUnavailable: throttled", AT)
    broken = stack.store.park(_tweet_event("7002", "x-gone"), "MalformedEvent: no x channel 'x-gone'", AT)
    runner = CliRunner()
    listed = runner.invoke(cli, ["parked", "list", "--json"])
    assert {row["park_id"] for row in json.loads(listed.output)} == {fixed, broken}

    replayed = runner.invoke(cli, ["parked", "replay", "--all"])
    assert replayed.exit_code == 0, replayed.output
    assert f"{fixed}: decided" in replayed.output
    assert f"{broken}: parked" in replayed.output
    assert stack.store.decision("x#7001") is not None
    [again] = stack.store.parked()
    assert again["park_id"] not in (fixed, broken) and "x-gone" in again["reason"]

    status = runner.invoke(cli, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["parked"] == 1
    assert set(json.loads(status.output)["open_escalations"]) == set(stack.policy.queues)

    discarded = runner.invoke(cli, ["parked", "discard", again["park_id"], "--yes"])
    assert discarded.exit_code == 0 and "discarded" in discarded.output
    assert stack.store.parked() == []
    assert runner.invoke(cli, ["parked", "discard", again["park_id"], "--yes"]).exit_code == 3

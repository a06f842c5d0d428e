"""The dashboard's volumes on DynamoDB Local: ended hours are counted once and kept, the running hour and the
period's partial first hour are always counted from the decisions, and the totals are the decisions' own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.console import views
from chalicelib.console.volumes import GRACE, hour_of, volume_key
from chalicelib.runtime import Runtime
from chalicelib.store.dynamo import to_item

NOW = datetime.now(UTC).replace(microsecond=0)  # near real time: DynamoDB Local expires TTL rows in real time


def _decide(rt: Runtime, post_id: str, at: datetime, topic: str = "outage", kind: str = "escalate") -> str:
    key = f"x#{post_id}"
    rt.dynamodb.put_item(
        TableName=rt.settings.table("decisions"),
        Item=to_item(
            {
                "post_key": key,
                "channel": "x-care",
                "decided_at": iso(at),
                "action": kind,
                "actions": [{"type": kind}],
                "classification": {"topic": topic, "sentiment": {"label": "negative"}},
            }
        ),
    )
    return key


def _kept(rt: Runtime, channel: str, hour: datetime) -> dict[str, Any] | None:
    got = rt.dynamodb.get_item(TableName=rt.settings.table("activity"), Key={"pk": {"S": volume_key(channel, hour)}})
    item: dict[str, Any] | None = got.get("Item")
    return item


def test_ended_hours_are_counted_once_and_kept_while_the_running_hour_stays_live(ddb_runtime: Runtime) -> None:
    rt = ddb_runtime
    ended = hour_of(NOW) - timedelta(hours=5)
    old = [_decide(rt, f"e{n}", ended + timedelta(minutes=10 + n)) for n in range(3)]
    _decide(rt, "b1", ended + timedelta(minutes=20), topic="billing", kind="reply")
    _decide(rt, "now1", max(hour_of(NOW), NOW - timedelta(seconds=30)))
    _decide(rt, "gone", NOW - timedelta(hours=30))  # outside the period

    board = views.dashboard(rt, NOW, 24)
    assert board["total"] == 5
    assert board["by"]["topic"] == {"outage": 4, "billing": 1}
    assert (board["auto_answered"], board["escalated"]) == (1, 4)
    assert {s["hour"][:13]: s["total"] for s in board["series"]} == {iso(ended)[:13]: 4, iso(hour_of(NOW))[:13]: 1}
    kept = _kept(rt, "x-care", ended)
    assert kept is not None and '"outage":3' in kept["counts"]["S"]
    assert _kept(rt, "x-care", hour_of(NOW)) is None  # the running hour is never kept

    # The ended hour is read back from its kept counts: removing its decisions underneath does not change it...
    for key in old:
        rt.dynamodb.delete_item(TableName=rt.settings.table("decisions"), Key={"post_key": {"S": key}})
    _decide(rt, "now2", max(hour_of(NOW), NOW - timedelta(seconds=10)))  # ...while the running hour is counted live
    again = views.dashboard(rt, NOW, 24)
    assert again["total"] == 6 and again["by"]["topic"] == {"outage": 5, "billing": 1}

    # ...and without the kept item it is counted again from what is stored.
    rt.dynamodb.delete_item(TableName=rt.settings.table("activity"), Key={"pk": {"S": volume_key("x-care", ended)}})
    recounted = views.dashboard(rt, NOW, 24)
    assert recounted["total"] == 3 and recounted["by"]["topic"] == {"outage": 2, "billing": 1}


def test_the_partial_first_hour_and_an_hour_just_ended_are_counted_from_the_decisions(ddb_runtime: Runtime) -> None:
    rt = ddb_runtime
    now = hour_of(NOW) + GRACE / 2  # the hour before ended less than GRACE ago: posts may still be landing
    since = now - timedelta(hours=3)  # mid-hour: that hour is only partly in the period
    _decide(rt, "before", since - timedelta(seconds=1))
    _decide(rt, "after", since + timedelta(seconds=1))
    just_ended = hour_of(now) - timedelta(hours=1)
    _decide(rt, "late", just_ended + timedelta(minutes=59, seconds=59))

    board = views.dashboard(rt, now, 3)
    assert board["total"] == 2  # "before" is outside the period although its hour is not
    assert _kept(rt, "x-care", hour_of(since)) is None  # a partial hour is never kept
    assert _kept(rt, "x-care", just_ended) is None  # nor one still within its grace
    _decide(rt, "later", just_ended + timedelta(minutes=59, seconds=59, milliseconds=500))
    assert views.dashboard(rt, now, 3)["total"] == 3

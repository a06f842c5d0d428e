"""The sender through the real HTTP clients against the platform sandbox, on DynamoDB Local: delivered once,
in order, through 429s, 500s, timeouts, revoked tokens, deleted posts and a sender that dies mid-send."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.clock import iso, utcnow
from chalicelib.delivery.clients import PlatformClient
from chalicelib.delivery.sender import Budget, Sender, SenderConfig
from chalicelib.delivery.text import WindowRule
from chalicelib.delivery.tokens import Tokens
from chalicelib.delivery.wiring import build_sender, clients
from chalicelib.escalations.sweep import LogAlerts
from chalicelib.local.sandbox import Sandbox
from chalicelib.outbox import OutboxItem, outbox_item
from chalicelib.runtime import Runtime
from tests.conftest import BRAND_ID

TOKEN = "sandbox-token-x"
FB_TOKEN = "sandbox-token-fb"
FB_PAGE = "104000000000001"
FAST = SenderConfig(
    lease=timedelta(seconds=1),
    max_attempts=4,
    backoff_base=0.02,
    reconcile_after=0.2,
    max_inline_wait=2.0,
    state_cache_s=0.0,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox({TOKEN: BRAND_ID, FB_TOKEN: FB_PAGE}, seed=7) as box:
        box.faults.reset_seconds = 0
        box.faults.slow_seconds = 0.6
        yield box


def make_sender(rt: Runtime, box: Sandbox, config: SenderConfig = FAST, **overrides: Any) -> Sender:
    sender = build_sender(
        rt,
        overrides.pop("platform_clients", None) or clients(box.apis, timeout=0.3),
        Tokens(rt.channels, None, fixed={"x-care": TOKEN, "fb-care": FB_TOKEN}),
        config,
        clock=utcnow,
        alerts=overrides.pop("alerts", LogAlerts()),
    )
    return sender


def item(n: int, conversation: str = "c1", kind: str = "reply", minute: int = 0, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": kind,
        "key": (f"x#{n}",),
        "channel": "x-care",
        "platform": "x",
        "created_at": iso(datetime.now(UTC) + timedelta(milliseconds=minute)),
        "text": f"reply number {n} in {conversation}",
        "in_reply_to_post_id": str(n),
        "conversation_id": conversation,
        "recipient_id": "42",
    }
    values.update(extra)
    return outbox_item(**values)


def queue(rt: Runtime, *docs: dict[str, Any]) -> list[str]:
    for doc in docs:
        assert rt.outbox.put(doc)
    return [d["reply_id"] for d in docs]


def settle(rt: Runtime, sender: Sender, rounds: int = 200) -> None:
    """Sweep as the schedule does (every 50 ms here) until nothing is pending, in flight or unknown."""
    for _ in range(rounds):
        sender.sweep(workers=4)
        if not any(rt.outbox.by_status(s, 1) for s in ("pending", "sending", "unknown")):
            return
        time.sleep(0.05)
    raise AssertionError("the outbox did not settle")


def got(rt: Runtime, reply_id: str) -> OutboxItem:
    found = rt.outbox.get(reply_id)
    assert found is not None
    return found


def test_replies_dms_hides_and_brand_posts_reach_x_in_order(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    ids = queue(
        ddb_runtime,
        item(1, minute=0),
        item(2, minute=1),
        item(3, kind="dm", conversation="dm:42-" + BRAND_ID, minute=2),
        item(4, kind="hide", minute=3, text=""),
        item(5, kind="brand_post", key=("notice-1", "x-care"), in_reply_to_post_id="", minute=4),
    )
    sender = make_sender(ddb_runtime, sandbox)
    settle(ddb_runtime, sender)
    done = [got(ddb_runtime, i) for i in ids]
    assert [d.status for d in done] == ["sent"] * 5
    assert [m["kind"] for m in sandbox.messages if m["kind"] != "tweet"] == ["dm", "hide"]
    tweets = sandbox.received(kind="tweet")
    assert [t["in_reply_to"] for t in tweets if t["in_reply_to"]] == ["1", "2"]  # order within the conversation
    assert {d.platform_id for d in done[:2]} == {t["id"] for t in tweets if t["in_reply_to"]}
    assert sandbox.received(kind="dm")[0]["to"] == "42"
    assert done[3].platform_id == "4"
    assert all(m["account"] == BRAND_ID for m in sandbox.messages)


def test_a_429_pauses_the_channel_until_reset_and_costs_no_attempt(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    [rid] = queue(ddb_runtime, item(1))
    sandbox.faults.next.extend(["429", "429"])
    settle(ddb_runtime, make_sender(ddb_runtime, sandbox))
    done = got(ddb_runtime, rid)
    assert (done.status, done.attempts, done.throttled) == ("sent", 0, 2)
    assert len(sandbox.received(kind="tweet")) == 1
    assert "paused_until" in ddb_runtime.outbox.channel_state("x-care")


def test_5xx_backs_off_then_gives_up_with_the_platforms_error(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    retried, doomed = queue(ddb_runtime, item(1), item(2, conversation="c2"))
    sandbox.faults.next.extend(["500"])  # the first call (either item) fails once
    sender = make_sender(ddb_runtime, sandbox)
    sender.deliver_lane("x-care#c1")
    assert got(ddb_runtime, retried).status == "sent" and got(ddb_runtime, retried).attempts == 1
    sandbox.faults.next.extend(["500"] * 4)
    settle(ddb_runtime, sender)
    failed = got(ddb_runtime, doomed)
    assert (failed.status, failed.attempts, failed.lane) == ("failed", 4, None)
    assert failed.error is not None and "x 500" in failed.error


def test_a_timeout_after_the_request_left_is_reconciled_not_resent(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    [rid] = queue(ddb_runtime, item(1))
    sandbox.faults.next.append("slow")  # recorded by the platform, answered after the client gave up
    sender = make_sender(ddb_runtime, sandbox)
    sender.deliver_lane("x-care#c1", deadline=None)
    first = got(ddb_runtime, rid)
    assert first.status in ("unknown", "sent")
    settle(ddb_runtime, sender)
    done = got(ddb_runtime, rid)
    [tweet] = sandbox.received(kind="tweet")
    assert (done.status, done.platform_id) == ("sent", tweet["id"])


def test_a_sender_that_dies_mid_send_is_reconciled_after_its_lease(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    class Dies(Exception):
        pass

    class DiesAfterSending:
        platform = "x"

        def __init__(self, real: PlatformClient) -> None:
            self.real = real

        def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
            self.real.send(item, account_id, token, rule)
            raise Dies

        def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
            return self.real.find_sent(item, account_id, token)

    real = clients(sandbox.apis, timeout=0.3)
    [rid] = queue(ddb_runtime, item(1))
    doomed = make_sender(ddb_runtime, sandbox, platform_clients={"x": DiesAfterSending(real["x"])})
    with pytest.raises(Dies):
        doomed.deliver_lane("x-care#c1")
    claimed = got(ddb_runtime, rid)
    assert claimed.status == "sending" and claimed.lease_until
    survivor = make_sender(ddb_runtime, sandbox)
    settle(ddb_runtime, survivor)
    done = got(ddb_runtime, rid)
    assert done.status == "sent" and len(sandbox.received(kind="tweet")) == 1
    assert done.sent_at is not None and done.sent_at >= claimed.lease_until  # nobody touched it while it ran


def test_a_revoked_token_pauses_the_channel_alerts_once_and_drops_nothing(
    ddb_runtime: Runtime, sandbox: Sandbox
) -> None:
    ids = queue(ddb_runtime, item(1), item(2, conversation="c2"))
    sandbox.revoke()
    alerts = LogAlerts()
    sender = make_sender(ddb_runtime, sandbox, alerts=alerts)
    sender.sweep()
    sender.sweep()
    assert [got(ddb_runtime, i).status for i in ids] == ["pending", "pending"]
    assert [got(ddb_runtime, i).attempts for i in ids] == [0, 0]
    assert len(alerts.sent) == 1 and "x-care" in alerts.sent[0][0]
    assert TOKEN not in repr(alerts.sent)
    assert ddb_runtime.outbox.channel_state("x-care")["health"] == "unhealthy"
    sandbox.restore()
    sender.sweep()
    assert sandbox.received(kind="tweet") == []  # still paused until someone resumes it
    ddb_runtime.outbox.set_health("x-care", True, "resumed by ops", datetime.now(UTC))
    settle(ddb_runtime, sender)
    assert [got(ddb_runtime, i).status for i in ids] == ["sent", "sent"]


def test_a_reply_to_a_deleted_post_fails_with_that_reason(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    [rid] = queue(ddb_runtime, item(1))
    sandbox.delete_post("1")
    settle(ddb_runtime, make_sender(ddb_runtime, sandbox))
    failed = got(ddb_runtime, rid)
    assert failed.status == "failed" and failed.error is not None and "deleted" in failed.error


def test_x_text_over_280_as_x_counts_fails_and_a_long_url_does_not(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    url = "https://status.bayanitel.example/" + "a" * 300
    fits, too_long = queue(ddb_runtime, item(1, text="see " + url), item(2, conversation="c2", text="日" * 141))
    settle(ddb_runtime, make_sender(ddb_runtime, sandbox))
    assert got(ddb_runtime, fits).status == "sent"
    assert got(ddb_runtime, too_long).status == "failed"
    assert "282 characters" in (got(ddb_runtime, too_long).error or "")


def test_meta_windows_human_agent_tag_and_held_messages(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    old = iso(datetime.now(UTC) - timedelta(hours=30))
    fb: dict[str, Any] = {"channel": "fb-care", "platform": "facebook", "account_id": FB_PAGE, "customer_at": old}
    comment, agent_dm, bot_dm = queue(
        ddb_runtime,
        item(1, **fb, conversation="t1", in_reply_to_post_id="555_1"),
        item(2, **fb, kind="agent_reply", private=True, conversation="t2", key=("esc-1", "facebook#2", "hi")),
        item(3, **fb, kind="dm", conversation="t3"),
    )
    settle(ddb_runtime, make_sender(ddb_runtime, sandbox))
    assert got(ddb_runtime, comment).status == "sent"
    assert sandbox.received(kind="comment")[0]["in_reply_to"] == "555_1"
    assert got(ddb_runtime, agent_dm).status == "sent"
    assert sandbox.received(kind="message")[0]["tag"] == "HUMAN_AGENT"
    held = got(ddb_runtime, bot_dm)
    assert held.status == "held" and "24-hour" in (held.error or "")
    assert len(sandbox.received(kind="message")) == 1


def test_small_fault_run_delivers_each_exactly_once_in_order(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    """The bench's fault test at a smaller size (bench/delivery_bench.py has the full one)."""
    rng = random.Random(3)
    docs = [item(n, conversation=f"c{rng.randrange(10)}", minute=n) for n in range(120)]
    queue(ddb_runtime, *docs)
    sandbox.set_faults({"429": 0.10, "500": 0.05, "slow": 0.02})
    big = SenderConfig(**{**FAST.__dict__, "max_attempts": 10, "budgets": {"x": Budget(10_000, 900)}})
    settle(ddb_runtime, make_sender(ddb_runtime, sandbox, big), rounds=600)
    tweets = sandbox.received(kind="tweet")
    assert sorted(t["in_reply_to"] for t in tweets) == sorted(d["in_reply_to_post_id"] for d in docs)  # once each
    for conversation in {d["conversation_id"] for d in docs}:
        expected = [d["in_reply_to_post_id"] for d in docs if d["conversation_id"] == conversation]
        assert [t["in_reply_to"] for t in tweets if t["in_reply_to"] in expected] == expected
    assert all(got(ddb_runtime, d["reply_id"]).status == "sent" for d in docs)
    assert sandbox.requests > len(docs) + 10  # the faults happened: retries, lookups


def _record(sequence: str, doc: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.store.dynamo import to_item

    return {
        "eventID": sequence,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"reply_id": {"S": doc["reply_id"]}},
            "NewImage": to_item(doc),
            "SequenceNumber": sequence,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def test_the_stream_handler_delivers_each_lane_and_fails_only_its_broken_record(
    ddb_runtime: Runtime, sandbox: Sandbox
) -> None:
    from chalicelib.delivery.sender import LaneReport, process_stream_batch

    class Breaks(Sender):
        def deliver_lane(self, lane: str, deadline: float | None = None, limit: int | None = None) -> LaneReport:
            if lane.endswith("#boom"):
                raise RuntimeError("DynamoDB throttled this read")
            return super().deliver_lane(lane, deadline, limit)

    good, second, broken = item(1), item(2, minute=1), item(3, conversation="boom")
    queue(ddb_runtime, good, second, broken)
    sender = make_sender(ddb_runtime, sandbox)
    sender.__class__ = Breaks
    event = {"Records": [_record("100", good), _record("101", second), _record("102", broken)]}
    answer = process_stream_batch(sender, event, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert [t["in_reply_to"] for t in sandbox.received(kind="tweet")] == ["1", "2"]
    assert got(ddb_runtime, broken["reply_id"]).status == "pending"


def test_reconciliation_reads_back_past_a_busy_timeline(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    """Our timed-out reply is found even when over a page of newer posts came after it (no second send)."""
    [rid] = queue(ddb_runtime, item(1))
    sandbox.faults.next.append("slow")
    sender = make_sender(ddb_runtime, sandbox, replace(FAST, max_inline_wait=0.0))
    sender.deliver_lane("x-care#c1")
    assert got(ddb_runtime, rid).status == "unknown"
    auth = {"authorization": f"Bearer {TOKEN}"}
    for n in range(150):  # other conversations go on meanwhile
        sandbox.handle("POST", "/2/tweets", auth, {"text": f"other {n}", "reply": {"in_reply_to_tweet_id": f"9{n}"}})
    settle(ddb_runtime, sender)
    [ours] = [t for t in sandbox.received(kind="tweet") if t["in_reply_to"] == "1"]
    assert (got(ddb_runtime, rid).status, got(ddb_runtime, rid).platform_id) == ("sent", ours["id"])


def test_graph_rate_limits_revoked_tokens_and_whatsapp_templates(ddb_runtime: Runtime, sandbox: Sandbox) -> None:
    old = iso(datetime.now(UTC) - timedelta(hours=30))
    wa: dict[str, Any] = {"channel": "fb-care", "platform": "whatsapp", "account_id": FB_PAGE, "customer_at": old}
    fb: dict[str, Any] = {"channel": "fb-care", "platform": "facebook", "account_id": FB_PAGE}
    comment, template = queue(
        ddb_runtime,
        item(1, **fb, conversation="t1", in_reply_to_post_id="555_1"),
        item(2, **wa, kind="dm", conversation="w1", recipient_id="63917", wa_template="service_restored"),
    )
    sandbox.faults.next.extend(["429"])  # Meta: HTTP 400, code 4, X-Business-Use-Case-Usage regain time
    sandbox.faults.reset_seconds = 0.3
    sender = make_sender(ddb_runtime, sandbox)
    settle(ddb_runtime, sender)
    assert got(ddb_runtime, comment).status == "sent"
    assert got(ddb_runtime, comment).throttled + got(ddb_runtime, template).throttled == 1  # whichever went first
    assert got(ddb_runtime, template).platform_id == "wamid." + sandbox.received(kind="whatsapp")[0]["id"]
    assert sandbox.received(kind="whatsapp")[0]["text"] == "template:service_restored"

    [later] = queue(ddb_runtime, item(3, **fb, conversation="t3", in_reply_to_post_id="555_3"))
    sandbox.revoke()
    sender.sweep()
    state = ddb_runtime.outbox.channel_state("fb-care")
    assert state["health"] == "unhealthy" and "code 190" in state["health_reason"]
    assert got(ddb_runtime, later).status == "pending"

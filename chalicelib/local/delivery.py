"""Local delivery: the platform sandbox, a sender aimed at it, and a polling loop that calls the same
sender the outbox stream and the schedule call in AWS (DynamoDB Local's streams are not read locally)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chalicelib.local.sandbox import Sandbox
from chalicelib.observability import COUNTERS, logger
from chalicelib.outbox.item import STATES, OutboxItem

if TYPE_CHECKING:
    from chalicelib.delivery.sender import Sender
    from chalicelib.runtime import Runtime

INTERVAL = 0.2
SWEEP_SECONDS = 2.0
"""A pass stops starting lanes after this: passes stay short, so a claim whose lease ran out (a sender died)
or a retry that came due is looked at within seconds. Each pass starts from the oldest pending items."""


class OutboxLoop:
    """Every `interval` seconds, one sweep: each lane with something due is delivered."""

    def __init__(self, sender: Sender, interval: float = INTERVAL, workers: int = 4) -> None:
        self._sender = sender
        self._interval = interval
        self._workers = workers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-loop", daemon=True)

    def start(self) -> OutboxLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sender.sweep(workers=self._workers, deadline=time.monotonic() + SWEEP_SECONDS)
            except Exception:  # noqa: BLE001 - the loop outlives one bad pass (DynamoDB Local restarting…)
                logger().exception("outbox sweep failed")
            COUNTERS.flush()
            self._stop.wait(self._interval)


def aim_at_sandbox(runtime: Runtime, sandbox: Sandbox, tokens: dict[str, str], timeout: float = 2.0) -> Sender:
    """Replace the runtime's sender with one that talks to `sandbox` with `tokens` (channel → token)."""
    from chalicelib.delivery.sender import SenderConfig
    from chalicelib.delivery.tokens import Tokens
    from chalicelib.delivery.wiring import build_sender, clients

    sender = build_sender(
        runtime,
        clients(sandbox.apis, timeout),
        Tokens(runtime.channels, runtime.secrets, fixed=tokens),
        SenderConfig(reconcile_after=1.0),
    )
    runtime.__dict__["sender"] = sender
    return sender


@contextmanager
def local_delivery(runtime: Runtime, announce: bool = False) -> Iterator[Sandbox]:
    """The sandbox (on a free port) with a fresh random token per channel, and the delivery loop."""
    tokens = {c.id: secrets.token_urlsafe(24) for c in runtime.channels.values()}
    accounts = {tokens[c.id]: (c.brand_ids[0] if c.brand_ids else c.id) for c in runtime.channels.values()}
    with Sandbox(accounts) as sandbox:
        loop = OutboxLoop(aim_at_sandbox(runtime, sandbox, tokens)).start()
        if announce:
            print(f"Platform sandbox {sandbox.url} (X API v2 and Graph API subset; control at /_sandbox/…)")
        try:
            yield sandbox
        finally:
            loop.stop()


def settled_outbox(runtime: Runtime, timeout: float = 15.0) -> list[OutboxItem]:
    """Every outbox item, once none is pending or being sent (or `timeout` passed), oldest first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not runtime.outbox.by_status("pending", 1) and not runtime.outbox.by_status("sending", 1):
            break
        time.sleep(0.1)
    items = [i for status in STATES for i in runtime.outbox.by_status(status, 1000)]
    return sorted(items, key=lambda i: (i.created_at, i.reply_id))


def format_deliveries(items: list[OutboxItem]) -> str:
    lines = [f"{'kind':<17} {'status':<9} {'answers':<22} {'platform id':<22} text"]
    for item in items:
        text = item.text if len(item.text) <= 48 else item.text[:47] + "…"
        if item.status not in ("sent",):
            text = f"{text}  [{item.error or item.status}]"
        answers = item.in_reply_to_post_id or "(brand post)"
        lines.append(f"{item.kind:<17} {item.status:<9} {answers:<22} {item.platform_id or '-':<22} {text}")
    return "\n".join(lines)

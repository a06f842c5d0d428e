"""The sender: empties the outbox onto the platforms, once, in order, through failures.

It works by lane (one conversation of one channel): only a lane's oldest open item is ever in flight, so
a conversation hears us in the order we decided, and the next item goes as soon as the previous settles.
Any trigger just names lanes — a DynamoDB stream record (AWS), the scheduled sweep, or the local polling
loop — and `deliver_lane` does the rest, so two triggers for one lane are harmless: the claim
(pending → sending, a conditional write with a lease token) lets exactly one sender send each item.

    sent                 the platform's id recorded; agents' answers mark their escalation answered
    429 / Meta limits    the whole channel pauses until the platform's reset; the item waits (not an attempt)
    5xx, never-left      back off with full jitter; after `max_attempts` → failed with the platform's error
    timeout after send   unknown → after `reconcile_after`, look for our own post on the platform: found →
                         sent; not there → pending again; no lookup on that platform → held for a person
    lease ran out        a sender died mid-send: unknown, reconciled the same way — never re-sent blindly
    401 / 403            the channel is marked unhealthy (alert once); its items wait until `outbox resume`
    deleted post, 4xx    failed with the reason
    24-hour window       held for an agent with the reason (or sent with HUMAN_AGENT / a WhatsApp template)
    shared budget        each send takes one unit of the channel's window budget (DynamoDB, all senders)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock, iso, parse, utcnow
from chalicelib.delivery.errors import (
    ChannelUnauthorized,
    DeliveryError,
    LookupUnsupported,
    OutcomeUnknown,
    OutsideWindow,
    RateLimited,
    Rejected,
    Retryable,
)
from chalicelib.delivery.text import limit, text_length, window_rule
from chalicelib.observability import COUNTERS, logger
from chalicelib.outbox.item import HELD, PENDING, SENDING, UNKNOWN, OutboxItem

if TYPE_CHECKING:
    from chalicelib.delivery.clients import PlatformClient
    from chalicelib.delivery.tokens import Tokens
    from chalicelib.escalations.sweep import Alerts
    from chalicelib.store.outbox import OutboxStore


@dataclass(frozen=True)
class Budget:
    limit: int
    window_s: int


def registered_budgets() -> dict[str, Budget]:
    """Sends per channel per window, shared by every sender, as each platform declares (`Outbound.budget`)."""
    from chalicelib.channels import registry

    return {
        name: Budget(p.outbound.budget, p.outbound.budget_window_s)
        for name, p in registry.platforms().items()
        if p.outbound is not None
    }


@dataclass(frozen=True)
class SenderConfig:
    lease: timedelta = timedelta(seconds=30)
    """Longer than a send with its timeout; a claim older than this is treated as a sender that died."""
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    reconcile_after: float = 5.0
    """Seconds after an unknown outcome before looking for our post (let the platform's read side catch up)."""
    max_inline_wait: float = 2.0
    """A lane waits in-process this long at most (a short 429 reset, a first retry); longer, the sweep returns."""
    budgets: Mapping[str, Budget] = field(default_factory=registered_budgets)
    state_cache_s: float = 1.0
    lane_batch: int = 10
    """Items one sweep settles per lane before moving on: sweeps stay short, so a dead sender's claims and
    retries that came due are picked up soon, and one busy conversation cannot hold the others back."""


DONE, WAIT, BLOCKED, REREAD = "done", "wait", "blocked", "reread"


@dataclass(frozen=True)
class Step:
    kind: str
    until: datetime | None = None


@dataclass
class LaneReport:
    lane: str
    sent: int = 0
    settled: int = 0
    waiting: str = ""


OnSent = Callable[[OutboxItem], None]


class Sender:
    def __init__(
        self,
        outbox: OutboxStore,
        clients: Mapping[str, PlatformClient],
        tokens: Tokens,
        accounts: Mapping[str, str],
        alerts: Alerts,
        clock: Clock = utcnow,
        on_sent: OnSent | None = None,
        config: SenderConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`accounts`: channel → the brand's own account id on its platform (X user id, Page id, phone id)."""
        self._outbox = outbox
        self._clients = clients
        self._tokens = tokens
        self._accounts = accounts
        self._alerts = alerts
        self._clock = clock
        self._on_sent = on_sent
        self.config = config or SenderConfig()
        self._sleep = sleep
        self._states: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ lanes

    def deliver_lane(self, lane: str, deadline: float | None = None, limit: int | None = None) -> LaneReport:
        """Send the lane's open items in order until it is empty, its head has to wait, or `limit` settled."""
        report = LaneReport(lane)
        while deadline is None or time.monotonic() < deadline:
            if limit is not None and report.settled >= limit:
                report.waiting = "batch done"
                return report
            items = self._outbox.lane(lane)
            if not items:
                return report
            progress = False
            for item in items:
                step = self._step(item)
                if step.kind == REREAD:
                    fresh = self._outbox.get(item.reply_id)
                    step = Step(DONE) if fresh is None or not fresh.is_open else self._step(fresh)
                    if step.kind == REREAD:
                        step = Step(WAIT, self._clock() + timedelta(seconds=0.2))
                if step.kind == DONE:
                    report.settled += 1
                    progress = True
                    continue
                if step.kind == WAIT and step.until is not None:
                    pause = (step.until - self._clock()).total_seconds()
                    fits = deadline is None or time.monotonic() + pause < deadline
                    if pause <= self.config.max_inline_wait and fits:
                        self._sleep(max(pause, 0.0))
                        progress = True
                        break
                report.waiting = f"{step.kind} at {item.reply_id} ({item.status})"
                return report
            if not progress:
                return report
        report.waiting = "deadline"
        return report

    def lanes_due(self, limit: int = 500) -> list[str]:
        """Lanes with something to do, most urgent first: claims whose lease ran out (or runs out within
        `max_inline_wait`: a sender died holding them), unknowns to reconcile, then pending items."""
        soon = iso(self._clock() + timedelta(seconds=self.config.max_inline_wait))
        found: list[str] = []
        for status in (SENDING, UNKNOWN, PENDING):
            for item in self._outbox.by_status(status, limit):
                if status == SENDING and (item.lease_until or "") > soon:
                    continue
                if item.lane:
                    found.append(item.lane)
        return list(dict.fromkeys(found))

    def deliver(self, lanes: Iterable[str], workers: int = 4, deadline: float | None = None) -> list[LaneReport]:
        lanes = list(dict.fromkeys(lanes))
        batch = self.config.lane_batch
        if workers <= 1 or len(lanes) <= 1:
            return [self.deliver_lane(lane, deadline, batch) for lane in lanes]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sender") as pool:
            return list(pool.map(lambda lane: self.deliver_lane(lane, deadline, batch), lanes))

    def sweep(self, workers: int = 4, deadline: float | None = None) -> list[LaneReport]:
        """The schedule's (and the local loop's) pass: every lane that has something due."""
        return self.deliver(self.lanes_due(), workers, deadline)

    # ------------------------------------------------------------------------------------------- steps

    def _step(self, item: OutboxItem) -> Step:
        now = self._clock()
        if item.status == HELD:
            return Step(BLOCKED)
        if item.status == SENDING:
            if item.lease_until and parse(item.lease_until) > now:
                return Step(WAIT, parse(item.lease_until))
            expired = self._outbox.expire_lease(item, now)
            if expired is None:
                return Step(REREAD)
            COUNTERS.count("OutboxLeasesExpired")
            item = expired
        if item.status == UNKNOWN:
            return self._reconcile(item, now)
        if item.status != PENDING:
            return Step(DONE)
        if item.not_before and parse(item.not_before) > now:
            return Step(WAIT, parse(item.not_before))
        blocked = self._channel_blocked(item.channel, now)
        if blocked is not None:
            return blocked
        claimed = self._outbox.claim(item, now, self.config.lease)
        if claimed is None:
            return Step(REREAD)
        return self._send(claimed)

    def _send(self, item: OutboxItem) -> Step:
        now = self._clock()
        client = self._clients.get(item.platform)
        if client is None:
            return self._failed(item, f"no client for platform {item.platform!r}", now)
        rule = window_rule(
            item.platform, item.private, item.kind == "agent_reply", item.customer_at, item.wa_template, now
        )
        if rule.mode == "hold":
            self._outbox.hold(item, rule.reason, now)
            COUNTERS.count("OutboxHeld")
            return Step(BLOCKED)
        allowed = limit(item.platform, item.private) if item.kind != "hide" else None
        if allowed is not None and (length := text_length(item.text, item.platform)) > allowed:
            return self._failed(item, f"{length} characters as {item.platform} counts them; it allows {allowed}", now)
        if not self._take_budget(item.channel, item.platform, now):
            until = self._budget_reset(item.platform, now)
            self._pause(item.channel, until)
            self._outbox.again(item, until, "the channel's send budget is spent", now, counted=False)
            return Step(WAIT, until)
        try:
            token = self._tokens.get(item.channel)
        except Retryable as exc:
            until = self._clock() + timedelta(seconds=self._backoff(item.attempts) + 1)
            self._outbox.again(item, until, exc.reason, now, counted=False)
            return Step(WAIT, until)
        if not token:
            return self._unauthorized(item, "no token configured for the channel (its outbound secret)", now)
        account = item.account_id or self._accounts.get(item.channel, "")
        try:
            platform_id = client.send(item, account, token, rule)
        except RateLimited as exc:
            until = datetime.fromtimestamp(max(exc.reset_at, time.time() + 0.05), UTC)
            self._pause(item.channel, until)
            self._outbox.again(item, until, exc.reason, now, counted=False)
            COUNTERS.count("OutboxRateLimited")
            return Step(WAIT, until)
        except Retryable as exc:
            if item.attempts + 1 >= self.config.max_attempts:
                return self._failed(item, exc.reason, now, attempt=True)
            until = self._clock() + timedelta(seconds=self._backoff(item.attempts))
            self._outbox.again(item, until, exc.reason, now, counted=True)
            COUNTERS.count("OutboxRetries")
            return Step(WAIT, until)
        except OutcomeUnknown as exc:
            self._outbox.unknown(item, exc.reason, self._clock())
            COUNTERS.count("OutboxUnknown")
            return Step(WAIT, self._clock() + timedelta(seconds=self.config.reconcile_after))
        except ChannelUnauthorized as exc:
            return self._unauthorized(item, exc.reason, now)
        except OutsideWindow as exc:
            self._outbox.hold(item, exc.reason, now)
            return Step(BLOCKED)
        except Rejected as exc:
            return self._failed(item, exc.reason, now, attempt=True)
        return self._delivered(item, platform_id)

    def _reconcile(self, item: OutboxItem, now: datetime) -> Step:
        settle = parse(item.updated_at) + timedelta(seconds=self.config.reconcile_after)
        if settle > now:
            return Step(WAIT, settle)
        blocked = self._channel_blocked(item.channel, now)
        if blocked is not None:
            return blocked
        client = self._clients.get(item.platform)
        try:
            token = self._tokens.get(item.channel)
        except Retryable:
            return Step(WAIT, now + timedelta(seconds=self._backoff(item.attempts) + 1))
        if client is None or not token:
            return Step(BLOCKED)
        account = item.account_id or self._accounts.get(item.channel, "")
        try:
            found = client.find_sent(item, account, token)
        except LookupUnsupported as exc:
            self._outbox.hold(
                item, f"may have been sent ({item.error}); {exc.reason}: check, then retry or cancel", now
            )
            return Step(BLOCKED)
        except RateLimited as exc:
            until = datetime.fromtimestamp(max(exc.reset_at, time.time() + 0.05), UTC)
            self._pause(item.channel, until)
            return Step(WAIT, until)
        except DeliveryError:
            return Step(WAIT, now + timedelta(seconds=self._backoff(item.attempts)))
        COUNTERS.count("OutboxReconciled")
        if found:
            return self._delivered(item, found)
        if item.attempts >= self.config.max_attempts:
            return self._failed(item, f"not on the platform after {item.attempts} attempts: {item.error}", now)
        again = self._outbox.again(item, now, f"not on the platform after: {item.error}", now, counted=False)
        return Step(REREAD) if again is None else self._step(again)

    # --------------------------------------------------------------------------------------- outcomes

    def _delivered(self, item: OutboxItem, platform_id: str) -> Step:
        sent = self._outbox.sent(item, platform_id, self._clock())
        if sent is None:
            logger().warning("outbox item settled by another sender meanwhile", extra={"reply_id": item.reply_id})
            return Step(REREAD)
        COUNTERS.count("OutboxSent")
        logger().info(
            "delivered",
            extra={"reply_id": item.reply_id, "kind": item.kind, "channel": item.channel, "platform_id": platform_id},
        )
        if self._on_sent is not None:
            try:
                self._on_sent(sent)
            except Exception:  # noqa: BLE001 - delivered is delivered; the hook's failure is logged
                logger().exception("after-send hook failed", extra={"reply_id": item.reply_id})
        return Step(DONE)

    def _failed(self, item: OutboxItem, reason: str, now: datetime, attempt: bool = False) -> Step:
        self._outbox.failed(item, reason, now, attempt=attempt)
        COUNTERS.count("OutboxFailed")
        logger().warning("outbox item failed", extra={"reply_id": item.reply_id, "reason": reason})
        return Step(DONE)

    def _unauthorized(self, item: OutboxItem, reason: str, now: datetime) -> Step:
        self._outbox.again(item, now, reason, now, counted=False)
        if self._outbox.set_health(item.channel, False, reason, now):
            COUNTERS.count("ChannelsUnhealthy")
            self._alerts.notify(
                f"Carewire channel {item.channel} cannot send: its outbox is paused",
                {"channel": item.channel, "platform": item.platform, "reason": reason, "since": iso(now)},
            )
        with self._lock:
            self._states.pop(item.channel, None)
        return Step(BLOCKED)

    # ---------------------------------------------------------------------------------- channel state

    def _channel_blocked(self, channel: str, now: datetime) -> Step | None:
        with self._lock:
            cached = self._states.get(channel)
        if cached is None or time.monotonic() - cached[0] > self.config.state_cache_s:
            state = self._outbox.channel_state(channel)
            with self._lock:
                self._states[channel] = (time.monotonic(), state)
        else:
            state = cached[1]
        if state.get("health") == "unhealthy":
            return Step(BLOCKED)
        paused = state.get("paused_until")
        if paused and parse(paused) > now:
            return Step(WAIT, parse(paused))
        return None

    def _pause(self, channel: str, until: datetime) -> None:
        self._outbox.pause(channel, until)
        with self._lock:
            cached = self._states.get(channel, (time.monotonic(), {}))[1]
            if iso(until) > cached.get("paused_until", ""):
                self._states[channel] = (time.monotonic(), {**cached, "paused_until": iso(until)})

    def _take_budget(self, channel: str, platform: str, now: datetime) -> bool:
        budget = self.config.budgets.get(platform)
        if budget is None:
            return True
        window = int(now.timestamp()) // budget.window_s
        return self._outbox.take_budget(
            channel, f"{budget.window_s}s#{window}", budget.limit, (window + 2) * budget.window_s
        )

    def _budget_reset(self, platform: str, now: datetime) -> datetime:
        budget = self.config.budgets[platform]
        window = int(now.timestamp()) // budget.window_s
        return datetime.fromtimestamp((window + 1) * budget.window_s, UTC)

    def _backoff(self, attempts: int) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^attempts)] — retries of many items spread out."""
        return random.uniform(0, min(self.config.backoff_cap, self.config.backoff_base * 2**attempts))


def process_stream_batch(sender: Sender, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The outbox stream's handler: each record names a lane (new items only, by the event filter); each
    lane is delivered once per batch. Powertools reports the records whose handling raised, alone."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    remaining = getattr(context, "get_remaining_time_in_millis", lambda: 60_000)()
    deadline = time.monotonic() + max(remaining / 1000 - 5, 1)
    done: set[str] = set()

    def record_handler(record: DynamoDBRecord) -> None:
        image = record.dynamodb.new_image if record.dynamodb else {}
        lane = image.get("lane")
        if isinstance(lane, str) and lane not in done:
            sender.deliver_lane(lane, deadline)
            done.add(lane)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )

"""Replay the bundled demo stream through real HTTP with real signatures, and report what was decided."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from chalicelib.channels.base import Platform
from chalicelib.channels.config import ChannelConfig
from chalicelib.clock import parse
from chalicelib.store.dynamo import Store

DEMO_FILE = Path(__file__).with_name("demo_posts.yaml")
EXAMPLE_NOTICE = (
    Path(__file__).resolve().parents[2] / "policies" / "notices" / "examples" / "qc-mobile-data-outage.yaml"
)
_BASE_AGO_MS = 10 * 60 * 1000
"""Demo posts are ten minutes old: older than a day, the engine would not answer them (post-age guardrail)."""


@dataclass(frozen=True)
class Delivery:
    label: str
    body: bytes
    post_key: str | None
    """The post this delivery should end in a decision for (None when nothing should be decided)."""


def _user(user_id: str, handle: str) -> dict[str, Any]:
    return {"id": int(user_id), "id_str": user_id, "screen_name": handle, "name": handle.replace("_", " ").title()}


def _user_id(handle: str) -> str:
    return str(2_000_000_000 + sum(ord(c) * 31**i for i, c in enumerate(handle)) % 1_000_000_000)


def build_deliveries(path: Path = DEMO_FILE) -> list[Delivery]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    brand_id, brand = doc["brand"]["id"], doc["brand"]["handle"]
    sent: dict[str, Delivery] = {}
    deliveries = []
    base_ms = int(time.time() * 1000) - _BASE_AGO_MS
    for n, item in enumerate(doc["deliveries"]):
        kind, post_id = item["kind"], item["id"]
        ms = str(base_ms + n * 1000)
        body: dict[str, Any] = {"for_user_id": brand_id}
        key: str | None = f"x#{post_id}"
        if kind == "redeliver":
            original = sent[post_id]
            deliveries.append(Delivery(f"redelivery of {post_id}", original.body, None))
            continue
        if kind in ("mention", "reply_to_other", "own"):
            author = brand if kind == "own" else item["author"]
            author_id = brand_id if kind == "own" else _user_id(author)
            text = item["text"]
            mentions = [
                {
                    "screen_name": h,
                    "id_str": brand_id if h == brand else _user_id(h),
                    "indices": [text.index("@" + h), text.index("@" + h) + len(h) + 1],
                }
                for h in (w[1:] for w in text.split() if w.startswith("@"))
            ]
            tweet: dict[str, Any] = {
                "id_str": post_id,
                "text": text,
                "timestamp_ms": ms,
                "user": _user(author_id, author),
                "entities": {"user_mentions": mentions},
            }
            if kind == "reply_to_other":
                other = item["reply_to"]
                tweet.update(
                    {
                        "in_reply_to_status_id_str": str(int(post_id) - 100),
                        "in_reply_to_user_id_str": _user_id(other),
                        "in_reply_to_screen_name": other,
                        "display_text_range": [len(f"@{other} @{brand} "), len(text)],
                    }
                )
            body["tweet_create_events"] = [tweet]
            key = None if kind == "own" else key
        elif kind == "dm":
            sender = _user_id(item["author"])
            body["direct_message_events"] = [
                {
                    "type": "message_create",
                    "id": post_id,
                    "created_timestamp": ms,
                    "message_create": {
                        "target": {"recipient_id": brand_id},
                        "sender_id": sender,
                        "message_data": {"text": item["text"], "entities": {}},
                    },
                }
            ]
            body["users"] = {
                sender: {"id": sender, "screen_name": item["author"], "name": item["author"]},
                brand_id: {"id": brand_id, "screen_name": brand, "name": brand},
            }
        elif kind == "favorite":
            body["favorite_events"] = [
                {"id": post_id, "timestamp_ms": ms, "user": _user(_user_id(item["author"]), item["author"])}
            ]
            key = None
        delivery = Delivery(f"{kind} {post_id}", json.dumps(body).encode("utf-8"), key)
        sent[post_id] = delivery
        deliveries.append(delivery)
    return deliveries


def publish_demo_notice(notices: Any, now: datetime) -> Any:
    """The bundled example outage notice, live: the one an earlier run published (its window moved on from
    `now`, as the file's relative times say), or a new one when that one was resolved or expired — under
    an id no other run can take."""
    from chalicelib.notices.errors import InvalidTransition

    try:
        return notices.publish_file(EXAMPLE_NOTICE, author="demo")
    except InvalidTransition:  # the example's own id is final: a live copy, or a new one under a unique id
        pass
    fields = dict(yaml.safe_load(EXAMPLE_NOTICE.read_text(encoding="utf-8")))
    for notice in notices.live(now):
        if notice.id.startswith(f"{fields['id']}-") and (notice.ends_at is None or parse(notice.ends_at) > now):
            return notice
    fields["id"] = f"{fields['id']}-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    notice = notices.create(fields, author="demo")
    return notices.publish(notice.id, notice.version, author="demo")


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def replay(
    base_url: str, channel: ChannelConfig, platform: Platform, secret: str, store: Store, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Send every demo delivery, wait for the decisions, and return one row per delivery."""
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for delivery in build_deliveries():
        status, answer = post(f"{base_url}{channel.webhook_path}", delivery.body, platform.sign(delivery.body, secret))
        rows.append({"delivery": delivery.label, "http": status, "answer": answer, "post_key": delivery.post_key})
    deadline = time.monotonic() + timeout
    for row in rows:
        key = row["post_key"]
        while key and store.decision(key) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        row["decision"] = store.decision(key) if key else None
    elapsed = time.perf_counter() - started
    for row in rows:
        row["elapsed_s"] = round(elapsed, 3)
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'delivery':<34} {'http':<5} {'topic':<18} {'sentiment':<10} {'rule: actions'}"]
    for row in rows:
        decision = row["decision"]
        if decision is None:
            skipped = ", ".join(row["answer"].get("skipped", {})) or "no new post"
            outcome = f"{'-':<18} {'-':<10} acknowledged ({skipped})"
            if row["post_key"] is None and row["answer"].get("accepted"):
                outcome = f"{'-':<18} {'-':<10} acknowledged, no new decision (own post or redelivery)"
        else:
            c = decision["classification"]
            acts = " + ".join(
                f"{a['type']}({a.get('notice_id') or a.get('queue') or a.get('template') or a.get('reason', '')})"
                for a in decision.get("actions", [])
            )
            outcome = f"{c['topic']:<18} {c['sentiment']['label']:<10} {decision['rule'] or '(no rule)'}: {acts}"
        lines.append(f"{row['delivery']:<34} {row['http']:<5} {outcome}")
    return "\n".join(lines)

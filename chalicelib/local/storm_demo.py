"""The demo's small storm: a burst of outage posts from one region, enough to open an incident."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from chalicelib.clock import iso
from chalicelib.local.demo import post

REGION = "Makati"
TEXTS = (
    "no signal here in Makati since an hour ago, what's happening?",
    "internet down in Makati!! I work from home, please fix",
    "walang signal dito sa Makati, ano na?",
    "is there an outage in Makati? no data at all",
    "my fiber is dead, Makati area. anyone else?",
    "calls keep dropping and no mobile data in Makati",
)


def warm(runtime: Any, brand: str, topic: str = "outage") -> None:
    """Storms need a baseline: a brand's posts on a topic must have been seen for `warmup_minutes` before any
    incident opens. A fresh demo stack has no history, so it records a first sighting a day ago (demo only;
    a stack that has seen the brand keeps its own record). Call it before the demo's first post."""
    client = runtime.dynamodb
    try:
        client.put_item(
            TableName=runtime.settings.table("storms"),
            Item={
                "pk": {"S": f"first#{brand}#{topic}"},
                "sk": {"S": "first"},
                "at": {"S": iso(runtime.clock() - timedelta(days=1))},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return


def storm(runtime: Any, base_url: str, posts: int = 24, timeout: float = 30.0) -> dict[str, Any] | None:
    """Send `posts` signed outage mentions from different customers in one region; the incident they opened
    (with its escalation and draft notice), or None."""
    channel = runtime.channels["x-care"]
    platform = runtime.platforms[channel.platform]
    secret = runtime.secrets.resolve(channel)
    brand_id = channel.brand_ids[0]
    handle = channel.brand_handles[0]
    base = 1_870_000_000_000_000_000 + time.time_ns() // 1_000 % 10**12
    now_ms = int(time.time() * 1000)
    keys = []
    for n in range(posts):
        post_id = str(base + n)
        text = f"@{handle} {TEXTS[n % len(TEXTS)]}"
        user = {"id_str": str(3_000_000_000 + base % 10**6 + n), "screen_name": f"makati_{n}", "name": "Customer"}
        tweet = {
            "id_str": post_id,
            "text": text,
            "timestamp_ms": str(now_ms + n),
            "user": user,
            "entities": {
                "user_mentions": [{"screen_name": handle, "id_str": brand_id, "indices": [0, len(handle) + 1]}]
            },
        }
        body = json.dumps({"for_user_id": brand_id, "tweet_create_events": [tweet]}).encode()
        post(f"{base_url}{channel.webhook_path}", body, platform.sign(body, secret))
        keys.append(f"x#{post_id}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and runtime.store.decision(keys[-1]) is None:
        time.sleep(0.1)
    opened = [i for i in runtime.storms.incidents(20, "open") if i.get("region") == REGION]
    return opened[0] if opened else None

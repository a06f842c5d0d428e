"""The demo's other channels: a Facebook comment and a WhatsApp message, signed with each channel's
(development) secret and sent through real HTTP, beside the X stream in demo.py. (No forum post: the
delivery stage has no Discourse client yet, so its reply could not be delivered.)"""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.channels import registry
from chalicelib.local.demo import post

PAGE = "104857600000001"
WHATSAPP_NUMBER = "106540352242922"


def deliveries(now: float) -> list[tuple[str, str, bytes, dict[str, str], str]]:
    """(label, channel id, body, extra headers, post key) per delivery."""
    ts = int(now) - 300
    comment = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": ts,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": f"{PAGE}_7001_501",
                            "post_id": f"{PAGE}_7001",
                            "parent_id": f"{PAGE}_7001",
                            "from": {"id": "610000000000042", "name": "Liza Reyes"},
                            "created_time": ts,
                            "message": "No signal in Quezon City since this morning, I can't even call my mother",
                        },
                    }
                ],
            }
        ],
    }
    wamid = f"wamid.DEMO{ts}"
    whatsapp = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_NUMBER},
                            "contacts": [{"profile": {"name": "Jun Santos"}, "wa_id": "639170000042"}],
                            "messages": [
                                {
                                    "from": "639170000042",
                                    "id": wamid,
                                    "timestamp": str(ts),
                                    "type": "text",
                                    "text": {"body": "I was charged twice for my postpaid bill this month"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return [
        ("facebook comment", "fb-page", _bytes(comment), {}, f"facebook#{PAGE}_7001_501"),
        ("whatsapp message", "whatsapp-care", _bytes(whatsapp), {}, f"whatsapp#{wamid}"),
    ]


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def replay(base_url: str, runtime: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Send each delivery whose channel is configured; rows shaped like demo.replay's."""
    rows: list[dict[str, Any]] = []
    for label, channel_id, body, extra, key in deliveries(time.time()):
        channel = runtime.channels.get(channel_id)
        if channel is None:
            continue
        secret = runtime.secrets.resolve(channel)
        headers = {**extra, **registry.get(channel.platform).sign(body, secret)}
        status, answer = post(f"{base_url}{channel.webhook_path}", body, headers)
        rows.append({"delivery": label, "http": status, "answer": answer, "post_key": key})
    deadline = time.monotonic() + timeout
    for row in rows:
        while runtime.store.decision(row["post_key"]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        row["decision"] = runtime.store.decision(row["post_key"])
    return rows

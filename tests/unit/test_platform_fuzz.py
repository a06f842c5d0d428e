"""No input gives a 500: every node of every issue-12 sample, replaced by hostile values, either splits
(each event normalising or parked with a reason) or is refused as a malformed delivery."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from chalicelib.channels import registry
from chalicelib.channels.base import INVALID_KIND
from chalicelib.channels.config import ChannelConfig
from chalicelib.channels.errors import MalformedDelivery, MalformedEvent
from tests.support import FIXTURES, json_paths, load_event, replace_at

HOSTILE: list[Any] = [None, True, 0, -1, 10**40, 1.5, "", " ", "x" * 300, [], {}, [None], {"id": {}}, "💥"]
IDS = ("1234567890321", "12345654332", "0", "106540352242922", "10634295353625", "REDACTED")
SAMPLES = sorted(p.name for p in (FIXTURES / "samples").iterdir())
HEADERS = {
    "discourse_post_created_body.json": {"X-Discourse-Event": "post_created"},
    "discourse_topic_created_body.json": {"X-Discourse-Event": "topic_created"},
}
GENERIC = {"type": "post.created", "data": {"id": "r1", "text": "t", "author": {"id": "a"}}}


def platform_for(name: str) -> str:
    if name.startswith("meta_instagram"):
        return "instagram"
    if name.startswith("meta_whatsapp"):
        return "whatsapp"
    if name.startswith("meta_"):
        return "facebook"
    return {"discourse": "discourse", "telegram": "telegram", "standardwebhooks": "webhook"}[name.split("_")[0]]


def check(platform_name: str, body: Any, headers: dict[str, str]) -> None:
    platform = registry.get(platform_name)
    channel = ChannelConfig("fuzz", platform_name, ("user1",), IDS)
    try:
        split = platform.split(body, channel, "2026-11-30T09:00:00.000Z", headers)
    except MalformedDelivery:
        return
    for event in split.events:
        json.dumps(event.to_message())  # every accepted event can travel on the queue
        if event.kind == INVALID_KIND:
            assert event.payload["reason"]
            with pytest.raises(MalformedEvent):
                platform.normalize(event, channel)
        elif event.kind in platform.report_kinds:
            platform.report(event, channel)
        else:
            platform.normalize(event, channel)


@pytest.mark.parametrize("name", [*SAMPLES, "generic"])
def test_every_node_replaced_by_hostile_values(name: str) -> None:
    original = GENERIC if name == "generic" else load_event(f"samples/{name}")
    platform_name = "webhook" if name == "generic" else platform_for(name)
    headers = HEADERS.get(name, {})
    paths = [path for path, _ in json_paths(original)]
    for path in paths:
        for value in HOSTILE:
            check(platform_name, replace_at(copy.deepcopy(original), path, value), headers)

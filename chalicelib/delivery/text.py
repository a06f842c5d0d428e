"""Platform text rules: how long a text is the way each platform counts, and the messaging windows.

Which platform counts how, allows how much and keeps which window is its module's declaration
(`Platform.text_limit`, `Platform.outbound`: chalicelib/channels/); the rules themselves live here. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.clock import parse

if TYPE_CHECKING:
    from chalicelib.channels.base import Outbound

X_URL_LENGTH = 23
"""X wraps every link in t.co: a URL counts 23 whatever its length."""
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""Code point ranges X weighs 1 (Latin, Greek, Cyrillic, Hebrew, Arabic, general punctuation…); the rest 2."""
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)

WINDOW = timedelta(hours=24)
"""Windowed platforms: ordinary messages only within 24 h of the customer's last message."""
HUMAN_AGENT_WINDOW = timedelta(days=7)
"""`messaging` windows (Messenger, Instagram): a person may answer for 7 days with the HUMAN_AGENT tag."""
MESSAGING, TEMPLATE = "messaging", "template"


def _outbound(platform: str) -> Outbound | None:
    from chalicelib.channels import registry

    return registry.get(platform).outbound if platform in registry.names() else None


def _limits() -> Mapping[str, int]:
    from chalicelib.channels.registry import TEXT_LIMITS

    return TEXT_LIMITS


def limit(platform: str, private: bool = False) -> int | None:
    """The longest text `platform` takes, in its own count: a public reply, or a private message."""
    if not private:
        return _limits().get(platform)
    outbound = _outbound(platform)
    return outbound.private_limit if outbound is not None else None


def windowed(platform: str) -> bool:
    outbound = _outbound(platform)
    return outbound is not None and bool(outbound.window)


def x_length(text: str) -> int:
    """The length X counts (twitter-text v3): NFC, URLs 23, light code points 1, everything else 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    last = 0
    for match in _URL.finditer(text):
        total += _x_weight(text[last : match.start()]) + X_URL_LENGTH
        last = match.end()
    return total + _x_weight(text[last:])


def without_urls(text: str) -> str:
    return _URL.sub(" ", text)


def _x_weight(text: str) -> int:
    if text.isascii():  # every ASCII code point is light: the common case, without a test per character
        return len(text)
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _X_LIGHT) else 2 for ch in text)


def text_length(text: str, platform: str) -> int:
    """`text`'s length as `platform` counts it (its `Outbound.count`; characters when it declares none)."""
    outbound = _outbound(platform)
    return outbound.count(text) if outbound is not None else len(text)


def fit(text: str, platform: str, limit: int) -> str:
    """`text` cut to `limit` as `platform` counts it, ending in "…" when cut."""
    if text_length(text, platform) <= limit:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_length(text[:middle].rstrip() + "…", platform) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


@dataclass(frozen=True)
class WindowRule:
    """How a private message may go: `send` (ordinary), `tag` (Messenger/Instagram HUMAN_AGENT),
    `template` (WhatsApp approved template), or `hold` for a person, with the reason."""

    mode: str
    reason: str = ""


def window_rule(
    platform: str, private: bool, by_agent: bool, customer_at: str, wa_template: str | None, now: datetime
) -> WindowRule:
    outbound = _outbound(platform)
    window = outbound.window if outbound is not None else ""
    if not window or not private:
        return WindowRule("send")
    if not customer_at:
        return WindowRule("hold", "no time of the customer's last message: the 24-hour window cannot be checked")
    since = now - parse(customer_at)
    if since <= WINDOW:
        return WindowRule("send")
    if window == TEMPLATE:
        if wa_template:
            return WindowRule("template")
        return WindowRule("hold", f"outside {platform}'s 24-hour window and no approved template: an agent decides")
    if by_agent and since <= HUMAN_AGENT_WINDOW:
        return WindowRule("tag")
    return WindowRule("hold", f"outside {platform}'s 24-hour window since the customer's last message")

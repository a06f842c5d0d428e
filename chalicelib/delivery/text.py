"""Platform text rules: how long a text is the way each platform counts, and the Meta messaging windows. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.clock import parse

X_LIMIT = 280
X_URL_LENGTH = 23
"""X wraps every link in t.co: a URL counts 23 whatever its length."""
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""Code point ranges X weighs 1 (Latin, Greek, Cyrillic, Hebrew, Arabic, general punctuation…); the rest 2."""
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)

LIMITS = {"x": X_LIMIT, "facebook": 8000, "instagram": 2200, "whatsapp": 4096}
"""Public reply limits, in each platform's own count."""
WINDOW = timedelta(hours=24)
"""Messenger, Instagram and WhatsApp: ordinary messages only within 24 h of the customer's last message."""
HUMAN_AGENT_WINDOW = timedelta(days=7)
"""Messenger and Instagram: a person may answer for 7 days with the HUMAN_AGENT tag."""
WINDOWED = ("facebook", "instagram", "whatsapp")


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
    return sum(1 if any(lo <= ord(ch) <= hi for lo, hi in _X_LIGHT) else 2 for ch in text)


def text_length(text: str, platform: str) -> int:
    return x_length(text) if platform == "x" else len(text)


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
    if platform not in WINDOWED or not private:
        return WindowRule("send")
    if not customer_at:
        return WindowRule("hold", "no time of the customer's last message: the 24-hour window cannot be checked")
    since = now - parse(customer_at)
    if since <= WINDOW:
        return WindowRule("send")
    if platform == "whatsapp":
        if wa_template:
            return WindowRule("template")
        return WindowRule("hold", "outside WhatsApp's 24-hour window and no approved template: an agent decides")
    if by_agent and since <= HUMAN_AGENT_WINDOW:
        return WindowRule("tag")
    return WindowRule("hold", f"outside {platform}'s 24-hour window since the customer's last message")

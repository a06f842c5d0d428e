"""The text Carewire sends, fitted to its platform: the platforms' limits, a text cut with its link kept
whole, and the one function that words a reply pointing at a service notice (production's, and what
`decide` and the tests show)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.channels.registry import TEXT_LIMITS
from chalicelib.delivery.text import fit, text_length
from chalicelib.pii import mask

PLATFORM_TEXT_LIMITS = TEXT_LIMITS
"""Platform → longest public reply, as each platform module declares it (chalicelib/channels/registry.py)."""

Keep = Callable[[str, str], bool]
"""(personal-data type, value) → leave it unmasked (the operator's own contact points)."""


def fit_text(text: str, link: str, platform: str, keep: Keep | None = None) -> str:
    """Masked `text` (`keep`: see `pii.mask`; None masks every span), then ` link`, within the platform's
    limit as the platform counts (on X a link is 23): the text is cut, never the link."""
    text = mask(" ".join(text.split()), keep)
    limit = PLATFORM_TEXT_LIMITS.get(platform)
    tail = f" {link}" if link else ""
    if limit and text_length(tail, platform) > limit // 2:
        tail = ""
    if limit and text_length(text + tail, platform) > limit:
        text = fit(text, platform, limit - text_length(tail, platform))
    return text + tail


def notice_reply_text(notice: Mapping[str, Any], platform: str, keep: Keep | None = None, wording: str = "") -> str:
    """The reply that points a customer at `notice` (a context document: title and body already in the
    post's language, and the link): `wording` (a template rendered around it, its values masked), or
    `Title: body`; then the link, whole, within the platform's limit."""
    if not wording:
        title, body = str(notice.get("title", "")).strip(), str(notice.get("body", "")).strip()
        wording = f"{title}{'' if title.endswith(('.', '!', '?', ':')) else ':'} {body}" if body else title
    return fit_text(wording, str(notice.get("link", "")), platform, keep)

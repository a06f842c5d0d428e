"""Notice text as it goes out: in the reader's language (falling back to the notice's own), masked for
personal data, cut to the platform's limit with the link kept whole."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.model import Classification, Notice, Post
from chalicelib.pii import mask


def pick_language(notice: Notice, language: str) -> str:
    """`language` if the notice has it, else the notice's own language."""
    return language if language in notice.title and language in notice.body else notice.language


def fit_text(text: str, link: str, platform: str, keep: Callable[[str, str], bool] | None = None) -> str:
    """Masked `text` (`keep`: see `pii.mask`; None masks every span), then ` link`, within the platform's
    limit: the text is cut, never the link."""
    from chalicelib.actions import PLATFORM_TEXT_LIMITS  # here: actions.py may import this module

    text = mask(" ".join(text.split()), keep)
    limit = PLATFORM_TEXT_LIMITS.get(platform)
    tail = f" {link}" if link else ""
    if limit and len(tail) > limit // 2:
        tail = ""
    if limit and len(text) + len(tail) > limit:
        text = text[: limit - len(tail) - 1].rstrip() + "…"
    return text + tail


def notice_text(notice: Notice, language: str) -> str:
    language = pick_language(notice, language)
    title, body = notice.title[language].strip(), notice.body[language].strip()
    separator = " " if title.endswith((".", "!", "?", ":")) else ": "
    return f"{title}{separator}{body}"


def render_notice_reply(notice: Notice, post: Post, classification: Classification) -> str:
    """The reply that points a customer at `notice`: title and body in the post's language, plus the link."""
    return fit_text(notice_text(notice, classification.language), notice.link, post.platform)


def render_follow_up(notice: Notice, language: str, platform: str) -> str:
    """The "service restored" reply for someone who was told about `notice`."""
    chosen = language if language in notice.follow_up else notice.language
    return fit_text(notice.follow_up[chosen], notice.link, platform)


def render_announcement(notice: Notice, platform: str) -> str:
    """The brand post that announces `notice` on a channel, in the notice's language."""
    return fit_text(notice_text(notice, notice.language), notice.link, platform)

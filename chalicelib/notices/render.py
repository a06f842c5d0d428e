"""Notice text as it goes out after publishing: the announcement and the "service restored" follow-up, in
the reader's language (falling back to the notice's own), masked, fitted to the platform with the link
whole. The reply that cites a notice is `reply_text.notice_reply_text`, which the `notice` action uses."""

from __future__ import annotations

from chalicelib.model import Notice
from chalicelib.reply_text import Keep, fit_text, notice_reply_text


def pick_language(notice: Notice, language: str) -> str:
    """`language` if the notice has it, else the notice's own language."""
    return language if language in notice.title and language in notice.body else notice.language


def render_follow_up(notice: Notice, language: str, platform: str, keep: Keep | None = None) -> str:
    """The "service restored" reply for someone who was told about `notice` (`keep`: the brand's own
    contact points, left unmasked)."""
    chosen = language if language in notice.follow_up else notice.language
    return fit_text(notice.follow_up[chosen], notice.link, platform, keep)


def render_announcement(notice: Notice, platform: str, keep: Keep | None = None) -> str:
    """The brand post that announces `notice` on a channel, in the notice's language."""
    language = notice.language
    doc = {"title": notice.title[language], "body": notice.body[language], "link": notice.link}
    return notice_reply_text(doc, platform, keep)

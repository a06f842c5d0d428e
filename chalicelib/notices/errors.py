"""The notices family of errors; app.py's HTTP_STATUS maps each to its status (400, 404, 409)."""

from __future__ import annotations

from collections.abc import Sequence


class NoticeError(Exception):
    """Base of every notices error."""


class NoticeInvalid(NoticeError):
    """A notice (or a request about one) fails validation: every problem as (field, reason)."""

    def __init__(self, errors: Sequence[tuple[str, str]], source: str = "") -> None:
        self.errors = list(errors)
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(
            "; ".join(prefix + (f"{field}: {reason}" if field else reason) for field, reason in self.errors)
        )


class NoticeNotFound(NoticeError):
    pass


class NoticeExists(NoticeError):
    """Create with an id that is taken."""


class StaleVersion(NoticeError):
    """The caller's `version` is not the stored one: someone else changed the notice first."""


class InvalidTransition(NoticeError):
    """The change is not allowed in the notice's status (e.g. resolving a draft, editing an expired one)."""

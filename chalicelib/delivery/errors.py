"""What a platform call can end in, besides a platform id. The sender maps each to one outbox transition."""

from __future__ import annotations


class DeliveryError(Exception):
    """Base of the family; `reason` is the platform's own error text (never a token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryError):
    """429 (or Meta's rate-limit codes): the channel waits until `reset_at` (epoch seconds)."""

    def __init__(self, reason: str, reset_at: float) -> None:
        super().__init__(reason)
        self.reset_at = reset_at


class Retryable(DeliveryError):
    """5xx, or the request never left (connection refused): try again later, a counted attempt."""


class OutcomeUnknown(DeliveryError):
    """A timeout after the request left: the platform may have acted. Reconcile, never re-send blindly."""


class ChannelUnauthorized(DeliveryError):
    """401/403 on the channel's token (expired, revoked, permission removed): the channel is paused."""


class Rejected(DeliveryError):
    """The platform refused this item for good (the post was deleted, text invalid): the item fails."""


class OutsideWindow(DeliveryError):
    """The platform says the messaging window is closed: the item is held for an agent."""


class LookupUnsupported(DeliveryError):
    """The platform offers no way to find what we sent (Messenger, WhatsApp): a person reconciles."""

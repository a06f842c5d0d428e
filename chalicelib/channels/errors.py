"""Errors of the channel stage. `app.py` maps each to its HTTP status, in one table."""

from __future__ import annotations


class ChannelError(Exception):
    """Base of every error a webhook delivery can raise at intake."""


class UnknownChannel(ChannelError):
    pass


class SignatureRejected(ChannelError):
    """Missing or wrong signature, or no secret configured (intake fails closed)."""


class MalformedDelivery(ChannelError):
    pass


class DeliveryTooLarge(ChannelError):
    pass


class ChallengeRejected(ChannelError):
    pass


class ChallengeRateLimited(ChannelError):
    """Too many challenge requests for one channel in this process (see `intake.ChallengeLimiter`)."""


class MalformedEvent(ValueError):
    """An event on the intake queue that can never be normalised: parked, not retried."""


class MethodNotAllowed(ChannelError):
    """A GET to a channel whose platform has no handshake."""


class SecretUnavailable(ChannelError):
    """A secret could not be looked up right now (SSM throttled or down): 503, so the platform retries."""

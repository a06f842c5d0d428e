"""The one table from error to HTTP status, and the error response every route returns."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib.auth import Forbidden, Unauthenticated
from chalicelib.channels.errors import (
    ChallengeRateLimited,
    ChallengeRejected,
    DeliveryTooLarge,
    MalformedDelivery,
    SignatureRejected,
    UnknownChannel,
)
from chalicelib.escalations.errors import EscalationConflict, EscalationNotFound, InvalidRequest
from chalicelib.intake_queue import QueueUnavailable
from chalicelib.notices.errors import InvalidTransition, NoticeExists, NoticeInvalid, NoticeNotFound, StaleVersion

HTTP_STATUS: dict[type[Exception], tuple[int, str]] = {
    UnknownChannel: (404, "unknown_channel"),
    SignatureRejected: (401, "bad_signature"),
    MalformedDelivery: (400, "malformed_body"),
    ChallengeRejected: (400, "bad_challenge"),
    ChallengeRateLimited: (429, "too_many_challenges"),
    DeliveryTooLarge: (413, "body_too_large"),
    QueueUnavailable: (503, "try_again"),
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    InvalidRequest: (400, "bad_request"),
    EscalationNotFound: (404, "not_found"),
    EscalationConflict: (409, "conflict"),
    NoticeInvalid: (400, "invalid_notice"),
    NoticeNotFound: (404, "not_found"),
    NoticeExists: (409, "notice_exists"),
    StaleVersion: (409, "stale_version"),
    InvalidTransition: (409, "invalid_transition"),
}
KNOWN_ERRORS: tuple[type[Exception], ...] = tuple(HTTP_STATUS)


def error_response(exc: Exception) -> Response:
    """`{error, message}` with the status of the nearest class in the table (plus the field(s) at fault)."""
    status, code = next(HTTP_STATUS[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUS)
    body: dict[str, Any] = {"error": code, "message": str(exc)}
    if isinstance(exc, InvalidRequest):
        body["field"] = exc.field
    if isinstance(exc, NoticeInvalid):
        body["errors"] = [{"field": field, "reason": reason} for field, reason in exc.errors]
    return Response(body=body, status_code=status)

"""The one table from error to HTTP status, the error response every route returns, and the checks every
API route applies to raw input before any service sees it (so no input can surface as a 500)."""

from __future__ import annotations

from typing import Any

from chalice.app import Request, Response

from chalicelib.auth import Forbidden, IdentityUnavailable, Unauthenticated
from chalicelib.channels.errors import (
    ChallengeRateLimited,
    ChallengeRejected,
    DeliveryTooLarge,
    MalformedDelivery,
    MethodNotAllowed,
    SecretUnavailable,
    SignatureRejected,
    UnknownChannel,
)
from chalicelib.escalations.errors import EscalationConflict, EscalationNotFound, InvalidRequest
from chalicelib.intake_queue import QueueUnavailable
from chalicelib.json_input import JsonRejected, NestedTooDeeply, nested_deeper_than, parse
from chalicelib.notices.errors import InvalidTransition, NoticeExists, NoticeInvalid, NoticeNotFound, StaleVersion
from chalicelib.policy.errors import VersionNotFound

MAX_PATH_PARAM_BYTES = 256
"""Ids and queue names are short; DynamoDB refuses keys over 2 KB (1 KB for sort keys) with an error."""
RETRY_AFTER_SECONDS = 60
"""What a 429 tells the caller to wait (the challenge budget refills fully within a minute)."""
MAX_BODY_DEPTH = 32
"""DynamoDB's own limit on nested attributes; no API body needs more than a few levels."""


class InputRejected(ValueError):
    """Input refused at the HTTP edge: a path parameter or body no route can use."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def check_path_params(request: Request) -> None:
    """InputRejected for a path parameter over MAX_PATH_PARAM_BYTES or holding control characters."""
    for name, value in (request.uri_params or {}).items():
        if not isinstance(value, str) or len(value.encode("utf-8", "surrogatepass")) > MAX_PATH_PARAM_BYTES:
            raise InputRejected(name, f"longer than {MAX_PATH_PARAM_BYTES} bytes")
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise InputRejected(name, "contains control characters")


def json_body(request: Request) -> Any:
    """The request body as JSON (None when empty). InputRejected for anything unusable: not JSON, not
    UTF-8, numbers beyond the parser's limits, nesting deeper than MAX_BODY_DEPTH."""
    raw = request.raw_body
    if not raw:
        return None
    try:
        body = parse(raw)
    except JsonRejected as exc:
        reason = f"nested deeper than {MAX_BODY_DEPTH} levels" if isinstance(exc, NestedTooDeeply) else "not JSON"
        raise InputRejected("body", reason) from None
    if nested_deeper_than(body, MAX_BODY_DEPTH):
        raise InputRejected("body", f"nested deeper than {MAX_BODY_DEPTH} levels")
    return body


HTTP_STATUS: dict[type[Exception], tuple[int, str]] = {
    UnknownChannel: (404, "unknown_channel"),
    SignatureRejected: (401, "bad_signature"),
    MalformedDelivery: (400, "malformed_body"),
    ChallengeRejected: (400, "bad_challenge"),
    ChallengeRateLimited: (429, "too_many_challenges"),
    DeliveryTooLarge: (413, "body_too_large"),
    QueueUnavailable: (503, "try_again"),
    MethodNotAllowed: (405, "method_not_allowed"),
    SecretUnavailable: (503, "try_again"),
    InputRejected: (400, "bad_request"),
    Unauthenticated: (401, "unauthenticated"),
    Forbidden: (403, "forbidden"),
    IdentityUnavailable: (503, "try_again"),
    InvalidRequest: (400, "bad_request"),
    EscalationNotFound: (404, "not_found"),
    EscalationConflict: (409, "conflict"),
    NoticeInvalid: (400, "invalid_notice"),
    NoticeNotFound: (404, "not_found"),
    NoticeExists: (409, "notice_exists"),
    StaleVersion: (409, "stale_version"),
    InvalidTransition: (409, "invalid_transition"),
    VersionNotFound: (404, "not_found"),
}
KNOWN_ERRORS: tuple[type[Exception], ...] = tuple(HTTP_STATUS)


def error_response(exc: Exception) -> Response:
    """`{error, message}` with the status of the nearest class in the table (plus the field(s) at fault)."""
    status, code = next(HTTP_STATUS[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUS)
    body: dict[str, Any] = {"error": code, "message": str(exc)}
    if isinstance(exc, InvalidRequest | InputRejected):
        body["field"] = exc.field
    if isinstance(exc, NoticeInvalid):
        body["errors"] = [{"field": field, "reason": reason} for field, reason in exc.errors]
    headers: dict[str, str | list[str]] | None = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 429 else None
    return Response(body=body, status_code=status, headers=headers)

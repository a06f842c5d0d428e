"""The agent API: work the escalation queue (issue 6). Roles `agent` and `supervisor` (admin implied);
a supervisor may act on items held by someone else.

    GET  /agent/queues/{queue}[?status=open|claimed&limit=N]  the queue, most urgent first   200 {escalations}
    POST /agent/queues/{queue}/claim                          take the next item with a lease 200 {escalation} | 204
    GET  /agent/mine                                          what the caller holds            200 {escalations}
    GET  /agent/escalations/{id}                              one item                         200 {escalation}
    POST /agent/escalations/{id}/renew                        extend the lease                 200 {escalation}
    POST /agent/escalations/{id}/requeue                      give it back                     200 {escalation}
    POST /agent/escalations/{id}/resolve    {outcome}                                          200 {escalation}
    POST /agent/escalations/{id}/transfer   {queue, note?}                                     200 {escalation}
    POST /agent/escalations/{id}/notes      {text}                                             200 {escalation}
    POST /agent/escalations/{id}/reply      {text, private?}  pending in the outbox           201 {reply}
                                            the same text again: the same item (200, duplicate) — the
                                            escalation records `answered_at` once the platform has it
    GET  /agent/stats[?days=N]              open by queue and priority, oldest wait, SLA compliance

Errors are `{error, message}` (a 400 adds `field`) with the status from app.py's HTTP_STATUS: 401 without
an identity, 403 without the role, 400 bad input, 404 unknown id, 409 when the item is not yours or not in
a state for that (claim lost, lease expired and taken back, already resolved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, IAMAuthorizer, Response

from chalicelib import runtime
from chalicelib.api.http import InputRejected, check_path_params, error_response, json_body
from chalicelib.auth import Forbidden, Principal, Unauthenticated, authorize
from chalicelib.escalations.errors import EscalationError, InvalidRequest

if TYPE_CHECKING:
    from chalicelib.escalations.queue import EscalationQueue
    from chalicelib.runtime import Runtime

agents = Blueprint(__name__)
_iam = IAMAuthorizer()
"""In AWS API Gateway verifies SigV4 first; locally Chalice admits the request and `authorize` checks the token."""

ROLES = ("agent", "supervisor")


Work = Callable[["Runtime", "EscalationQueue", Principal, bool], tuple[int, dict[str, Any] | None]]


def _handle(work: Work) -> Response:
    """Authorise, run `work(runtime, queue, principal, is_supervisor)`, and turn known errors into statuses."""
    try:
        rt = runtime.current()
        principal = authorize(agents.current_request, rt.settings, *ROLES)
        check_path_params(agents.current_request)
        supervisor = bool(principal.roles & {"supervisor", "admin"})
        status, body = work(rt, rt.escalations, principal, supervisor)
    except (EscalationError, InputRejected, Unauthenticated, Forbidden) as exc:
        return error_response(exc)
    return Response(body=body if body is not None else "", status_code=status)


def _body() -> dict[str, Any]:
    body = json_body(agents.current_request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidRequest("body", "expected a JSON object")
    return body


def _string(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(name, "required: a non-empty string")
    return value


def _param(name: str) -> str | None:
    params: dict[str, str] = dict(agents.current_request.query_params or {})
    return params.get(name)


def _int_param(name: str, default: int) -> int:
    raw = _param(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest(name, f"{raw!r} is not an integer") from None


@agents.route("/queues/{queue}", methods=["GET"], authorizer=_iam)
def list_queue(queue: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any]]:
        status = _param("status") or "open"
        return 200, {"escalations": q.list_queue(queue, status=status, limit=_int_param("limit", 50))}

    return _handle(work)


@agents.route("/queues/{queue}/claim", methods=["POST"], authorizer=_iam)
def claim_next(queue: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any] | None]:
        claimed = q.claim_next(queue, who.id, rt.clock())
        return (200, {"escalation": claimed}) if claimed else (204, None)

    return _handle(work)


@agents.route("/mine", methods=["GET"], authorizer=_iam)
def mine() -> Response:
    return _handle(lambda rt, q, who, sup: (200, {"escalations": q.held_by(who.id)}))


@agents.route("/escalations/{escalation_id}", methods=["GET"], authorizer=_iam)
def get_escalation(escalation_id: str) -> Response:
    return _handle(lambda rt, q, who, sup: (200, {"escalation": q.get(escalation_id)}))


@agents.route("/escalations/{escalation_id}/renew", methods=["POST"], authorizer=_iam)
def renew(escalation_id: str) -> Response:
    return _handle(lambda rt, q, who, sup: (200, {"escalation": q.renew(escalation_id, who.id, rt.clock())}))


@agents.route("/escalations/{escalation_id}/requeue", methods=["POST"], authorizer=_iam)
def requeue(escalation_id: str) -> Response:
    return _handle(
        lambda rt, q, who, sup: (200, {"escalation": q.requeue(escalation_id, who.id, rt.clock(), force=sup)})
    )


@agents.route("/escalations/{escalation_id}/resolve", methods=["POST"], authorizer=_iam)
def resolve(escalation_id: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any]]:
        outcome = _string(_body(), "outcome")
        return 200, {"escalation": q.resolve(escalation_id, who.id, outcome, rt.clock(), force=sup)}

    return _handle(work)


@agents.route("/escalations/{escalation_id}/transfer", methods=["POST"], authorizer=_iam)
def transfer(escalation_id: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any]]:
        body = _body()
        to_queue, note = _string(body, "queue"), _string(body, "note", required=False)
        return 200, {"escalation": q.transfer(escalation_id, to_queue, who.id, rt.clock(), note=note, force=sup)}

    return _handle(work)


@agents.route("/escalations/{escalation_id}/notes", methods=["POST"], authorizer=_iam)
def add_note(escalation_id: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any]]:
        return 200, {"escalation": q.note(escalation_id, who.id, _string(_body(), "text"), rt.clock())}

    return _handle(work)


@agents.route("/escalations/{escalation_id}/reply", methods=["POST"], authorizer=_iam)
def reply(escalation_id: str) -> Response:
    def work(rt: Runtime, q: EscalationQueue, who: Principal, sup: bool) -> tuple[int, dict[str, Any]]:
        body = _body()
        private = body.get("private")
        if private is not None and not isinstance(private, bool):
            raise InvalidRequest("private", "must be true or false")
        text = _string(body, "text")
        queued = q.reply(escalation_id, who.id, text, rt.clock(), private=private, force=sup)
        return (200 if queued.get("duplicate") else 201), {"reply": queued}

    return _handle(work)


@agents.route("/stats", methods=["GET"], authorizer=_iam)
def stats() -> Response:
    return _handle(lambda rt, q, who, sup: (200, q.stats(rt.clock(), days=_int_param("days", 1))))

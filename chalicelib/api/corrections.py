"""Agents correct the classifier (issue 10): one route beside the agent API, same roles and errors.

    POST /agent/escalations/{id}/corrections  {topic?, intent?, sentiment?, churn_risk?, needs_human?, spam?,
                                               abuse?, note?}                              200 {correction}

The correction is kept on the escalation item (`chalicelib/escalations/corrections.py`) and becomes a training
row with `carewire train --export-corrections`. Any agent may correct an item they can see; it does not
change the item's state (claim, resolve and correct in any order).
"""

from __future__ import annotations

from typing import Any

from chalice.app import BadRequestError, Blueprint, IAMAuthorizer, Response

from chalicelib import runtime
from chalicelib.api.http import error_response
from chalicelib.auth import Forbidden, Unauthenticated, authorize
from chalicelib.escalations.corrections import Corrections, parse_correction
from chalicelib.escalations.errors import EscalationError, InvalidRequest

corrections = Blueprint(__name__)
_iam = IAMAuthorizer()


def _body() -> dict[str, Any]:
    try:
        body = corrections.current_request.json_body
    except BadRequestError as exc:
        raise InvalidRequest("body", "not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("body", "expected a JSON object")
    return body


@corrections.route("/escalations/{escalation_id}/corrections", methods=["POST"], authorizer=_iam)
def correct(escalation_id: str) -> Response:
    try:
        rt = runtime.current()
        principal = authorize(corrections.current_request, rt.settings, "agent", "supervisor")
        correction = parse_correction(_body())
        store = Corrections(rt.dynamodb, rt.settings.table("escalations"))
        recorded = store.record(escalation_id, correction, principal.id, rt.clock())
    except (EscalationError, Unauthenticated, Forbidden) as exc:
        return error_response(exc)
    return Response(body={"correction": {"escalation_id": escalation_id, **recorded}}, status_code=200)

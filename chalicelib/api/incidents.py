"""The incidents API: storms for supervisors (and agents, to read).

GET  /incidents[?status=open|closed&limit=N]   newest first                              200 {incidents}
GET  /incidents/{id}                           one incident with up to 5 example posts   200 {incident, examples}
POST /incidents/{id}/resolve                   close it (supervisor)                     200 {incident}
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, IAMAuthorizer, Response

from chalicelib import runtime
from chalicelib.api.http import error_response
from chalicelib.auth import Forbidden, Unauthenticated, authorize

incidents = Blueprint(__name__)
_iam = IAMAuthorizer()
MAX_ID = 64


def _bad(field: str, message: str) -> Response:
    return Response(body={"error": "invalid", "field": field, "message": message}, status_code=400)


@incidents.route("/", methods=["GET"], authorizer=_iam)
def list_incidents() -> Response:
    try:
        rt = runtime.current()
        authorize(incidents.current_request, rt.settings, "agent", "supervisor")
    except (Unauthenticated, Forbidden) as exc:
        return error_response(exc)
    params = dict(incidents.current_request.query_params or {})
    status = params.get("status")
    if status not in (None, "open", "closed"):
        return _bad("status", "one of open, closed")
    raw = params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        return _bad("limit", "a whole number from 1 to 200")
    return Response(body={"incidents": rt.storms.incidents(int(raw), status)}, status_code=200)


def _found(incident_id: str) -> tuple[Any, dict[str, Any] | None, Response | None]:
    try:
        rt = runtime.current()
        authorize(incidents.current_request, rt.settings, "agent", "supervisor")
    except (Unauthenticated, Forbidden) as exc:
        return None, None, error_response(exc)
    if len(incident_id) > MAX_ID:
        return rt, None, _bad("id", f"at most {MAX_ID} characters")
    incident = rt.storms.get(incident_id)
    if incident is None:
        return (
            rt,
            None,
            Response(body={"error": "not_found", "message": f"no incident {incident_id!r}"}, status_code=404),
        )
    return rt, incident, None


@incidents.route("/{incident_id}", methods=["GET"], authorizer=_iam)
def get_incident(incident_id: str) -> Response:
    rt, incident, problem = _found(incident_id)
    if problem is not None:
        return problem
    return Response(body={"incident": incident, "examples": rt.storms.examples(incident_id)}, status_code=200)


@incidents.route("/{incident_id}/resolve", methods=["POST"], authorizer=_iam)
def resolve_incident(incident_id: str) -> Response:
    rt, _incident, problem = _found(incident_id)
    if problem is not None:
        return problem
    try:
        who = authorize(incidents.current_request, rt.settings, "supervisor")
    except (Unauthenticated, Forbidden) as exc:
        return error_response(exc)
    closed = rt.storms.close(incident_id, rt.clock(), f"resolved by {who.id}")
    return Response(body={"incident": closed}, status_code=200)

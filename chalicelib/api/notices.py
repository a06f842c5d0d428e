"""The notices API: marketers publish service notices (issue 5). Role `marketer` (admin implied).

    POST  /notices                    create a draft                      201 {notice}
    GET   /notices[?status=S]         list, newest change first           200 {notices: [...]}
    GET   /notices/{id}               one notice with its history         200 {notice}
    PATCH /notices/{id}               {version, ...fields} change fields  200 {notice}
    POST  /notices/{id}/publish       {version}                           200 {notice}
    POST  /notices/{id}/resolve       {version}                           200 {notice, follow_ups}
    POST  /notices/{id}/expire        {version}                           200 {notice}

`version` is the one the caller last read: a stale one gets 409, so two marketers never overwrite each
other. Errors are `{error, message}` with the status from app.py's HTTP_STATUS; a 400 also lists
`errors: [{field, reason}]`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, IAMAuthorizer, Request, Response

from chalicelib import runtime
from chalicelib.api.http import InputRejected, check_path_params, error_response, json_body
from chalicelib.auth import Forbidden, Unauthenticated, authorize
from chalicelib.model import Notice
from chalicelib.notices.errors import NoticeError, NoticeInvalid

if TYPE_CHECKING:  # the service (and its DynamoDB code) loads on the first notices request, not at cold start
    from chalicelib.notices.service import Notices

notices = Blueprint(__name__)
_iam = IAMAuthorizer()
"""In AWS API Gateway verifies SigV4 first; locally Chalice admits the request and `authorize` checks the token."""

ROLE = "marketer"


def _handle(work: Callable[[Request, Notices, str], tuple[int, dict[str, Any]]]) -> Response:
    """Authorise, run `work(request, notices, author)`, and turn known errors into their status."""
    request = notices.current_request
    try:
        rt = runtime.current()
        principal = authorize(request, rt.settings, ROLE)
        check_path_params(request)
        status, body = work(request, rt.notices, principal.id)
    except (NoticeError, InputRejected, Unauthenticated, Forbidden) as exc:
        return error_response(exc)
    return Response(body=body, status_code=status)


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json_body(request)
    except InputRejected as exc:
        raise NoticeInvalid([("", f"the body is {str(exc).removeprefix('body: ')}")]) from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise NoticeInvalid([("", "expected a JSON object")])
    return body


def _version(body: dict[str, Any]) -> int:
    version = body.pop("version", None)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise NoticeInvalid([("version", "required: the version you last read, a positive integer")])
    return int(version)


def _doc(notice: Notice) -> dict[str, Any]:
    return notice.to_doc()


@notices.route("/", methods=["POST"], authorizer=_iam)
def create_notice() -> Response:
    return _handle(lambda request, service, author: (201, {"notice": _doc(service.create(_body(request), author))}))


@notices.route("/", methods=["GET"], authorizer=_iam)
def list_notices() -> Response:
    def work(request: Request, service: Notices, author: str) -> tuple[int, dict[str, Any]]:
        status = request.query_params.get("status") if request.query_params else None
        return 200, {"notices": [_doc(n) for n in service.find(status)]}

    return _handle(work)


@notices.route("/{notice_id}", methods=["GET"], authorizer=_iam)
def get_notice(notice_id: str) -> Response:
    return _handle(lambda request, service, author: (200, {"notice": _doc(service.get(notice_id))}))


@notices.route("/{notice_id}", methods=["PATCH"], authorizer=_iam)
def update_notice(notice_id: str) -> Response:
    def work(request: Request, service: Notices, author: str) -> tuple[int, dict[str, Any]]:
        body = _body(request)
        version = _version(body)
        return 200, {"notice": _doc(service.update(notice_id, body, version, author))}

    return _handle(work)


@notices.route("/{notice_id}/publish", methods=["POST"], authorizer=_iam)
def publish_notice(notice_id: str) -> Response:
    return _handle(
        lambda request, service, author: (
            200,
            {"notice": _doc(service.publish(notice_id, _version(_body(request)), author))},
        )
    )


@notices.route("/{notice_id}/resolve", methods=["POST"], authorizer=_iam)
def resolve_notice(notice_id: str) -> Response:
    def work(request: Request, service: Notices, author: str) -> tuple[int, dict[str, Any]]:
        resolution = service.resolve(notice_id, _version(_body(request)), author)
        return 200, {"notice": _doc(resolution.notice), "follow_ups": resolution.follow_ups}

    return _handle(work)


@notices.route("/{notice_id}/expire", methods=["POST"], authorizer=_iam)
def expire_notice(notice_id: str) -> Response:
    return _handle(
        lambda request, service, author: (
            200,
            {"notice": _doc(service.expire(notice_id, _version(_body(request)), author))},
        )
    )

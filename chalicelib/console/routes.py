"""The console's HTTP surface under /console: the app shell, its static assets, and a backend-for-frontend
API authenticated by a session cookie (never by the machine clients' bearer tokens or IAM).

    GET    /console                         the app (one HTML shell; screens by #hash)
    GET    /console/static/{name}           assets, immutable under their content hash
    POST   /console/api/session             {username, password} → Set-Cookie          200 {me} | 401
                                            (AWS: 202 {challenge, session, username, needs} — Cognito's next step)
    POST   /console/api/session/challenge   {challenge, session, username, new_password|code}   200 | 202 | 401
    DELETE /console/api/session             sign out
    GET    /console/api/me                  {username, roles, zone, csrf}
    GET    /console/api/inbox               queues, counts, SLA states, mine           agent, supervisor
    POST   /console/api/inbox/next          {queue?} claim the most urgent             200 | 204
    GET    /console/api/escalations/{id}    the item as an agent works it
    POST   /console/api/escalations/{id}/{reply|preview|notes|resolve|requeue|renew|transfer}
    GET    /console/api/notices; POST /console/api/notices; POST /console/api/notices/preview   marketer
    PATCH  /console/api/notices/{id};  POST /console/api/notices/{id}/{publish|resolve|expire}
    GET    /console/api/dashboard?hours=N;  POST /console/api/try {text, channel?, is_dm?}   care_lead, supervisor
    GET    /console/api/policies/{digest}   one policy version and its diff (text)     care_lead, supervisor

Every unsafe request needs the session's CSRF token in X-CSRF-Token (and a same-origin Origin when sent);
the cookie is SameSite=Strict and HttpOnly. Every change is recorded as `user:<name>`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Request, Response

from chalicelib import runtime
from chalicelib.api.http import KNOWN_ERRORS, InputRejected, check_path_params, error_response, json_body
from chalicelib.auth import Forbidden, Principal, Unauthenticated
from chalicelib.escalations.errors import InvalidRequest
from chalicelib.identity import sessions

if TYPE_CHECKING:
    from chalicelib.identity.cognito import Challenge, Claims
    from chalicelib.runtime import Runtime

console = Blueprint(__name__)
STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: dict[str, str | list[str]] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
ASSET = re.compile(r"^[a-z0-9-]+\.(js|css|svg)$")
AGENT_ROLES = ("agent", "supervisor")
LEAD_ROLES = ("care_lead", "supervisor")
MARKETER_ROLES = ("marketer",)


class Me:
    """The signed-in person for one request."""

    def __init__(self, username: str, roles: frozenset[str], zone: str, session: sessions.Session) -> None:
        self.username = username
        self.roles = roles
        self.zone = zone
        self.session = session
        self.principal = Principal(id=f"user:{username}", roles=roles)

    def doc(self) -> dict[str, Any]:
        return {"username": self.username, "roles": sorted(self.roles), "zone": self.zone, "csrf": self.session.csrf}


def _request() -> Request:
    request = console.current_request
    if request is None:
        raise RuntimeError("no current request")
    return request


def signed_in(rt: Runtime, request: Request, roles: tuple[str, ...]) -> Me:
    """The caller if they hold one of `roles` (admin holds all; `()` = any role): a session cookie (plus its
    CSRF token on unsafe requests), or in AWS stages a Cognito ID token as `Authorization: Bearer` (a program:
    no cookie, so no CSRF token)."""
    value = sessions.cookie_value(request.headers)
    bearer = str(request.headers.get("authorization") or "")
    if value:
        me = _from_cookie(rt, value)
        try:
            sessions.check_csrf(request.headers, request.method, me.session)
        except sessions.CsrfRejected as exc:
            raise Forbidden(str(exc)) from None
    elif bearer.startswith("Bearer ") and not rt.settings.is_local:
        me = _from_cognito_token(rt, bearer[len("Bearer ") :])
    else:
        raise Unauthenticated("sign in first")
    if roles and not me.roles & {*roles, "admin"}:
        raise Forbidden(f"{me.principal.id} needs one of the roles {sorted(roles)}")
    return me


def _from_cookie(rt: Runtime, value: str) -> Me:
    """Local accounts are read on every request, so a reset or disable ends their sessions at once; Cognito
    sessions ask the pool about their access token at most once a minute."""
    from chalicelib.identity.accounts import Accounts

    try:
        session = sessions.read(sessions.session_secret(rt.settings), value, rt.clock())
    except sessions.SessionRejected as exc:
        raise Unauthenticated(str(exc)) from None
    if session.via != "local":
        from chalicelib.identity.cognito import CognitoSignIn

        if not CognitoSignIn.from_env().still_signed_in(session.token):
            raise Unauthenticated("this session has ended; sign in again")
        return Me(session.username, frozenset(session.roles), session.zone or "UTC", session)
    account = Accounts(rt.dynamodb, rt.settings.table("users")).get(session.username)
    if account is None or account.disabled or account.session_epoch != session.epoch:
        raise Unauthenticated("this session has ended; sign in again")
    return Me(account.username, account.roles, account.zone, session)


def _from_cognito_token(rt: Runtime, token: str) -> Me:
    from chalicelib.identity.cognito import CognitoSignIn

    now = rt.clock()
    who = CognitoSignIn.from_env().verify(token, now)
    session = sessions.new_session(who.username, 0, now, via="cognito", roles=tuple(sorted(who.roles)))
    return Me(who.username, who.roles, who.zone, session)


Work = Callable[["Runtime", Me], tuple[int, Any]]


def _api(roles: tuple[str, ...], work: Work) -> Response:
    """Authenticate, authorise, check input, run `work`, map known errors to their status."""
    try:
        rt = runtime.current()
        request = _request()
        me = signed_in(rt, request, roles)
        check_path_params(request)
        status, body = work(rt, me)
    except KNOWN_ERRORS as exc:
        return error_response(exc)
    return Response(body=body if body is not None else "", status_code=status, headers={"Cache-Control": "no-store"})


def _query(name: str, default: str | None = None) -> str | None:
    params: dict[str, str] = dict(_request().query_params or {})
    return params.get(name, default)


def _body() -> dict[str, Any]:
    body = json_body(_request())
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InputRejected("body", "expected a JSON object")
    return body


# ------------------------------------------------------------------------------------------ the app shell


@lru_cache(maxsize=32)
def _asset(name: str) -> tuple[str, str]:
    """(text, content hash) of a static file."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=4)
def _shell(prefix: str) -> str:
    """index.html with every asset reference under `prefix` and pinned to its content hash, so assets cache
    for a year."""
    html, _ = _asset("index.html")
    return re.sub(
        r"/console/static/([a-z0-9-]+\.(?:js|css))",
        lambda m: f"{prefix}/console/static/{m.group(1)}?v={_asset(m.group(1))[1]}",
        html,
    )


def _prefix(request: Request) -> str:
    """What precedes /console in the address the browser used: API Gateway's stage (`/api`) or nothing."""
    context = request.context or {}
    path = str(context.get("path") or "").strip("/").split("/")
    resource = str(context.get("resourcePath") or "").strip("/").split("/")
    return "/" + "/".join(path[: len(path) - len(resource)]) if len(path) > len(resource) else ""


@console.route("/", methods=["GET"])
def app_shell() -> Response:
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-cache",
    }
    return Response(body=_shell(_prefix(_request())), status_code=200, headers=headers)


@console.route("/static/{name}", methods=["GET"])
def static_asset(name: str) -> Response:
    if not ASSET.match(name) or not (STATIC / name).is_file():
        return Response(body={"error": "not_found", "message": "no such asset"}, status_code=404)
    text, digest = _asset(name)
    etag = f'"{digest}"'
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": TYPES[Path(name).suffix],
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if _query("v") == digest else "public, max-age=300",
    }
    if _request().headers.get("if-none-match") == etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=200, headers=headers)


# ----------------------------------------------------------------------------------------------- session


@console.route("/api/session", methods=["POST"], content_types=["application/json"])
def sign_in() -> Response:
    from chalicelib.identity.accounts import Accounts

    try:
        rt = runtime.current()
        request = _request()
        body = _body()
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise InputRejected("username", "user name and password are required")
        _same_origin(request)
        now = rt.clock()
        if rt.settings.is_local:
            accounts = Accounts(rt.dynamodb, rt.settings.table("users"))
            account = accounts.sign_in(username.strip().lower(), password, now)
            if account is None:
                raise Unauthenticated("unknown user name or wrong password (5 wrong in a row: wait 5 minutes)")
            session = sessions.new_session(account.username, account.session_epoch, now)
            me = {"username": account.username, "roles": sorted(account.roles), "zone": account.zone}
        else:
            from chalicelib.identity.cognito import CognitoSignIn

            return _cognito_step(rt, request, CognitoSignIn.from_env().sign_in(username.strip(), password, now))
    except KNOWN_ERRORS as exc:
        return error_response(exc)
    return _signed_in(rt, request, session, me)


@console.route("/api/session/challenge", methods=["POST"], content_types=["application/json"])
def sign_in_challenge() -> Response:
    """The next step of a Cognito sign-in: {challenge, session, username} as the sign-in answered, plus
    `new_password` (NEW_PASSWORD_REQUIRED) or `code` (an MFA code)."""
    from chalicelib.identity.cognito import CODE_CHALLENGES, NEW_PASSWORD, Challenge, CognitoSignIn

    try:
        rt = runtime.current()
        request = _request()
        if rt.settings.is_local:
            raise InputRejected("challenge", "local accounts have no sign-in challenges")
        _same_origin(request)
        body = _body()
        fields = {name: body.get(name) for name in ("challenge", "session", "username")}
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise InputRejected(name, "required: as the sign-in answered it")
        if fields["challenge"] != NEW_PASSWORD and fields["challenge"] not in CODE_CHALLENGES:
            raise InputRejected("challenge", f"one of {sorted([NEW_PASSWORD, *CODE_CHALLENGES])}")
        challenge = Challenge(str(fields["challenge"]), str(fields["session"]), str(fields["username"]))
        answer = body.get(challenge.needs)
        if not isinstance(answer, str) or not answer:
            raise InputRejected(challenge.needs, "required")
        if challenge.needs == "code" and not re.fullmatch(r"[0-9]{6,8}", answer.strip()):
            raise InputRejected("code", "the 6-digit code from your authenticator app or message")
        answer = answer.strip() if challenge.needs == "code" else answer
        step = CognitoSignIn.from_env().answer(challenge, answer, rt.clock())
        return _cognito_step(rt, request, step)
    except KNOWN_ERRORS as exc:
        return error_response(exc)


def _same_origin(request: Request) -> None:
    origin, host = request.headers.get("origin"), request.headers.get("host")
    if origin and host and origin.split("://", 1)[-1] != host:
        raise Forbidden(f"cross-origin sign-in from {origin}")


def _cognito_step(rt: Runtime, request: Request, step: Claims | Challenge) -> Response:
    """Signed in (200 + cookie), or 202 with the challenge the person must answer next (no cookie yet)."""
    from chalicelib.identity.cognito import Challenge

    if isinstance(step, Challenge):
        return Response(body=step.doc(), status_code=202, headers={"Cache-Control": "no-store"})
    now = rt.clock()
    roles = tuple(sorted(step.roles))
    session = sessions.new_session(
        step.username, 0, now, via="cognito", roles=roles, zone=step.zone, token=step.access_token
    )
    return _signed_in(rt, request, session, {"username": step.username, "roles": sorted(step.roles), "zone": step.zone})


def _signed_in(rt: Runtime, request: Request, session: sessions.Session, me: dict[str, Any]) -> Response:
    cookie = sessions.set_cookie(
        sessions.issue(sessions.session_secret(rt.settings), session),
        not rt.settings.is_local,
        path=_prefix(request) + "/console",
    )
    return Response(
        body={**me, "csrf": session.csrf}, status_code=200, headers={"Set-Cookie": cookie, "Cache-Control": "no-store"}
    )


@console.route("/api/session", methods=["DELETE"])
def sign_out() -> Response:
    rt = runtime.current()
    cookie = sessions.set_cookie("", not rt.settings.is_local, max_age=0, path=_prefix(_request()) + "/console")
    return Response(body="", status_code=204, headers={"Set-Cookie": cookie})


@console.route("/api/me", methods=["GET"])
def me() -> Response:
    return _api((), lambda rt, me: (200, me.doc()))


# ------------------------------------------------------------------------------------------------ agents


@console.route("/api/inbox", methods=["GET"])
def inbox() -> Response:
    from chalicelib.console import views

    return _api(AGENT_ROLES, lambda rt, me: (200, views.inbox(rt, me.principal.id)))


@console.route("/api/inbox/next", methods=["POST"], content_types=["application/json"])
def next_item() -> Response:
    from chalicelib.console import views

    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        queue = _body().get("queue") or None
        claimed = views.claim_next(rt, me.principal.id, queue)
        return (200, {"escalation": views.summary(claimed)}) if claimed else (204, None)

    return _api(AGENT_ROLES, work)


@console.route("/api/escalations/{escalation_id}", methods=["GET"])
def escalation(escalation_id: str) -> Response:
    from chalicelib.console import views

    return _api(AGENT_ROLES, lambda rt, me: (200, views.item_detail(rt, escalation_id)))


def _private(body: dict[str, Any]) -> bool | None:
    private = body.get("private")
    if private is not None and not isinstance(private, bool):
        raise InvalidRequest("private", "must be true or false")
    return private


def _text(body: dict[str, Any], name: str = "text") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(name, "required: a non-empty string")
    return value


@console.route("/api/escalations/{escalation_id}/{action}", methods=["POST"], content_types=["application/json"])
def escalation_action(escalation_id: str, action: str) -> Response:
    from chalicelib.console import views

    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        q, who, now, body = rt.escalations, me.principal.id, rt.clock(), _body()
        force = bool(me.roles & {"supervisor", "admin"})
        if action == "preview":
            return 200, views.reply_preview(rt, escalation_id, str(body.get("text") or ""), _private(body))
        if action == "reply":
            return 201, {"reply": q.reply(escalation_id, who, _text(body), now, private=_private(body), force=force)}
        if action == "notes":
            return 200, {"escalation": views.summary(q.note(escalation_id, who, _text(body), now))}
        if action == "resolve":
            return 200, views.resolve(rt, escalation_id, who, body.get("outcome"), body.get("corrections"), force)
        if action == "requeue":
            return 200, {"escalation": views.summary(q.requeue(escalation_id, who, now, force=force))}
        if action == "renew":
            return 200, {"escalation": views.summary(q.renew(escalation_id, who, now))}
        if action == "transfer":
            moved = q.transfer(
                escalation_id, _text(body, "queue"), who, now, note=str(body.get("note") or ""), force=force
            )
            return 200, {"escalation": views.summary(moved)}
        raise InputRejected("action", "one of preview, reply, notes, resolve, requeue, renew, transfer")

    return _api(AGENT_ROLES, work)


# ---------------------------------------------------------------------------------------------- notices


@console.route("/api/notices", methods=["GET"])
def notices_list() -> Response:
    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        status = _query("status")
        return 200, {"notices": [n.to_doc() for n in rt.notices.find(status)]}

    return _api(MARKETER_ROLES, work)


@console.route("/api/notices", methods=["POST"], content_types=["application/json"])
def notices_create() -> Response:
    return _api(MARKETER_ROLES, lambda rt, me: (201, {"notice": rt.notices.create(_body(), me.principal.id).to_doc()}))


@console.route("/api/notices/preview", methods=["POST"], content_types=["application/json"])
def notices_preview() -> Response:
    from chalicelib.console import views

    return _api(MARKETER_ROLES, lambda rt, me: (200, views.notice_preview(rt, _body())))


def _version(body: dict[str, Any]) -> int:
    from chalicelib.notices.errors import NoticeInvalid

    version = body.pop("version", None)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise NoticeInvalid([("version", "required: the version you last read, a positive integer")])
    return int(version)


@console.route("/api/notices/{notice_id}", methods=["PATCH"], content_types=["application/json"])
def notices_update(notice_id: str) -> Response:
    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        body = _body()
        version = _version(body)
        return 200, {"notice": rt.notices.update(notice_id, body, version, me.principal.id).to_doc()}

    return _api(MARKETER_ROLES, work)


@console.route("/api/notices/{notice_id}/{action}", methods=["POST"], content_types=["application/json"])
def notices_action(notice_id: str, action: str) -> Response:
    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        version, who = _version(_body()), me.principal.id
        if action == "publish":
            return 200, {"notice": rt.notices.publish(notice_id, version, who).to_doc()}
        if action == "resolve":
            resolution = rt.notices.resolve(notice_id, version, who)
            return 200, {"notice": resolution.notice.to_doc(), "follow_ups": resolution.follow_ups}
        if action == "expire":
            return 200, {"notice": rt.notices.expire(notice_id, version, who).to_doc()}
        raise InputRejected("action", "one of publish, resolve, expire")

    return _api(MARKETER_ROLES, work)


# ------------------------------------------------------------------------------------------- care leads


@console.route("/api/dashboard", methods=["GET"])
def dashboard() -> Response:
    from chalicelib.console import views

    def work(rt: Runtime, me: Me) -> tuple[int, Any]:
        raw = _query("hours") or "24"
        if not raw.isdigit():
            raise InvalidRequest("hours", "a whole number of hours")
        return 200, views.dashboard(rt, rt.clock(), int(raw))

    return _api(LEAD_ROLES, work)


@console.route("/api/policies/{digest}", methods=["GET"])
def policy_version(digest: str) -> Response:
    from chalicelib.console import views

    return _api(LEAD_ROLES, lambda rt, me: (200, views.policy_version(rt, digest)))


@console.route("/api/try", methods=["POST"], content_types=["application/json"])
def try_post() -> Response:
    from chalicelib.console import views

    return _api((*LEAD_ROLES, "marketer"), lambda rt, me: (200, views.try_post(rt, _body())))

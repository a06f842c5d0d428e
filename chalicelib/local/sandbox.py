"""A local platform sandbox: the subset of the X API v2 and the Graph API that the sender calls, on a
threaded stdlib HTTP server. It checks the bearer token, records every message it accepts, lets the sender
look up its own posts (reconciliation), and can be told to fail: 429 with a reset, 500, a slow answer
(the message is recorded, the answer comes late: the sender's timeout fires after the request left), a
revoked token (401), a deleted post.

Control it in-process (`Sandbox.faults`, `revoke`, `delete_post`) or over HTTP, e.g. with curl:

    POST /_sandbox/faults   {"429": 0.1, "500": 0.05, "slow": 0.02, "slow_seconds": 6, "next": ["429", "401"]}
    POST /_sandbox/revoke   {}            every token answers 401 (Graph: code 190) until /_sandbox/restore
    POST /_sandbox/deleted  {"post_id": "…"}
    GET  /_sandbox/messages               what it received, oldest first
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.clock import iso, parse

_GRAPH = re.compile(r"^/v\d+\.\d+(/.*)$")


@dataclass
class Faults:
    """Probabilities per request (drawn in this order), scripted faults first, and their timings."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 6.0
    reset_seconds: float = 1.0
    next: deque[str] = field(default_factory=deque)
    """Scripted faults for the next requests: "429", "500", "slow", "401"."""

    def draw(self, rng: random.Random) -> str | None:
        if self.next:
            return self.next.popleft()
        roll = rng.random()
        for name, rate in (("429", self.rate_429), ("500", self.rate_500), ("slow", self.rate_slow)):
            if roll < rate:
                return name
            roll -= rate
        return None


class Sandbox:
    def __init__(self, tokens: Mapping[str, str], seed: int | None = None, host: str = "127.0.0.1", port: int = 0):
        """`tokens`: bearer token → the brand account it acts as (X user id, Page id, phone number id)."""
        self.tokens = dict(tokens)
        self.revoked: set[str] = set()
        self.faults = Faults()
        self.deleted: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        """Every message accepted (posts, replies, DMs, hides), oldest first."""
        self.requests = 0
        self.injected: Counter[str] = Counter()
        """Faults served, by kind."""
        self._rng = random.Random(seed)
        self._ids = itertools.count(1_900_000_000_000_000_001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def graph_url(self) -> str:
        return self.url + "/v21.0"

    @property
    def apis(self) -> dict[str, str]:
        """The base URL of each API it speaks, by `Outbound.api` (for `delivery.wiring.clients`)."""
        return {"x": self.url, "graph": self.graph_url}

    def start(self) -> Sandbox:
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------ control

    def revoke(self, token: str | None = None) -> None:
        with self._lock:
            self.revoked |= {token} if token else set(self.tokens)

    def restore(self) -> None:
        with self._lock:
            self.revoked.clear()

    def delete_post(self, post_id: str) -> None:
        with self._lock:
            self.deleted.add(post_id)

    def set_faults(self, doc: Mapping[str, Any]) -> None:
        with self._lock:
            self.faults.rate_429 = float(doc.get("429", self.faults.rate_429))
            self.faults.rate_500 = float(doc.get("500", self.faults.rate_500))
            self.faults.rate_slow = float(doc.get("slow", self.faults.rate_slow))
            self.faults.slow_seconds = float(doc.get("slow_seconds", self.faults.slow_seconds))
            self.faults.reset_seconds = float(doc.get("reset_seconds", self.faults.reset_seconds))
            self.faults.next.extend(str(n) for n in doc.get("next", []))

    def received(self, **match: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if all(m.get(k) == v for k, v in match.items())]

    # ------------------------------------------------------------------------------------------ serving

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: dict[str, Any]) -> _Answer:
        split = urlsplit(target)
        path, query = split.path, {k: v[0] for k, v in parse_qs(split.query).items()}
        if path.startswith("/_sandbox/"):
            return self._control(method, path, body)
        graph = _GRAPH.match(path)
        api = "graph" if graph else "x"
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        with self._lock:
            self.requests += 1
            account = self.tokens.get(token)
            revoked = token in self.revoked
            fault = self.faults.draw(self._rng)
            if fault is not None:
                self.injected[fault] += 1
            reset, slow = self.faults.reset_seconds, self.faults.slow_seconds
        if account is None or revoked or fault == "401":
            return _unauthorized(api)
        if fault == "429":
            return _rate_limited(api, reset)
        if fault == "500":
            return _Answer(500, {"error": {"message": "internal error", "code": 2}} if graph else {"title": "oops"})
        answer = (
            self._graph(method, graph.group(1), account, body, query)
            if graph
            else self._x(method, path, account, body, query)
        )
        if fault == "slow":
            time.sleep(slow)
        return answer

    def _record(self, **message: Any) -> str:
        with self._lock:
            message.setdefault("id", str(next(self._ids)))
            message["at"] = time.time()
            message["created_at"] = iso(datetime.now(UTC))
            self.messages.append(message)
            return str(message["id"])

    def _x(self, method: str, path: str, account: str, body: dict[str, Any], query: Mapping[str, str]) -> _Answer:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/2/tweets":
            reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
            if reply_to in self.deleted:
                return _x_deleted()
            text = str(body.get("text", ""))
            post_id = self._record(api="x", kind="tweet", account=account, text=text, in_reply_to=reply_to)
            return _Answer(201, {"data": {"id": post_id, "text": text}})
        if method == "POST" and parts[:3] == ["2", "dm_conversations", "with"] and parts[-1] == "messages":
            text = str(body.get("text", ""))
            event = self._record(api="x", kind="dm", account=account, text=text, to=parts[3])
            return _Answer(201, {"data": {"dm_conversation_id": f"{account}-{parts[3]}", "dm_event_id": event}})
        if method == "PUT" and parts[:2] == ["2", "tweets"] and parts[-1] == "hidden":
            if parts[2] in self.deleted:
                return _x_deleted()
            self._record(api="x", kind="hide", account=account, target=parts[2], id=f"hide-{parts[2]}")
            return _Answer(200, {"data": {"hidden": bool(body.get("hidden"))}})
        if method == "GET" and parts[:2] == ["2", "users"] and parts[-1] == "tweets":
            since = _from_x_time(query.get("start_time"))
            mine = [m for m in self.received(api="x", kind="tweet", account=parts[2]) if m["created_at"] >= since]
            return _page(mine[::-1], query, _tweet_view)
        if method == "GET" and parts[:3] == ["2", "dm_conversations", "with"] and parts[-1] == "dm_events":
            sent = self.received(api="x", kind="dm", account=account, to=parts[3])[::-1]
            return _page(sent, query, lambda m: {**_tweet_view(m), "sender_id": account, "event_type": "MessageCreate"})
        return _Answer(404, {"title": "Not Found", "detail": f"the sandbox has no {method} {path}"})

    def _graph(self, method: str, path: str, account: str, body: dict[str, Any], query: Mapping[str, str]) -> _Answer:
        parts = path.strip("/").split("/")
        target = parts[0]
        if target in self.deleted:
            return _Answer(
                400,
                {"error": {"message": f"Object with ID '{target}' does not exist", "code": 100, "error_subcode": 33}},
            )
        if method == "POST" and len(parts) == 2 and parts[1] in ("comments", "replies", "feed"):
            message = str(body.get("message", ""))
            kind = "post" if parts[1] == "feed" else "comment"
            new_id = self._record(api="graph", kind=kind, account=account, text=message, in_reply_to=target)
            return _Answer(200, {"id": new_id})
        if method == "POST" and len(parts) == 2 and parts[1] == "messages":
            if body.get("messaging_product") == "whatsapp":
                text = (body.get("text") or {}).get("body") or f"template:{(body.get('template') or {}).get('name')}"
                wamid = self._record(api="graph", kind="whatsapp", account=account, text=text, to=body.get("to"))
                return _Answer(200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{wamid}"}]})
            to = str((body.get("recipient") or {}).get("id") or "")
            text = str((body.get("message") or {}).get("text") or "")
            mid = self._record(api="graph", kind="message", account=account, text=text, to=to, tag=body.get("tag"))
            return _Answer(200, {"recipient_id": to, "message_id": f"m_{mid}"})
        if method == "POST" and len(parts) == 1:
            self._record(api="graph", kind="hide", account=account, target=target, id=f"hide-{target}")
            return _Answer(200, {"success": True})
        if method == "GET" and len(parts) == 2 and parts[1] in ("comments", "replies"):
            found = self.received(api="graph", kind="comment", in_reply_to=target)
            data = [{"id": m["id"], "message": m["text"], "from": {"id": m["account"]}} for m in found]
            return _Answer(200, {"data": data})
        return _Answer(400, {"error": {"message": f"the sandbox has no {method} {path}", "code": 100}})

    def _control(self, method: str, path: str, body: dict[str, Any]) -> _Answer:
        if method == "GET" and path == "/_sandbox/messages":
            with self._lock:
                return _Answer(200, {"messages": list(self.messages), "requests": self.requests})
        if method == "POST" and path == "/_sandbox/faults":
            self.set_faults(body)
            return _Answer(200, {"ok": True})
        if method == "POST" and path == "/_sandbox/revoke":
            self.revoke(body.get("token"))
            return _Answer(200, {"ok": True})
        if method == "POST" and path == "/_sandbox/restore":
            self.restore()
            return _Answer(200, {"ok": True})
        if method == "POST" and path == "/_sandbox/deleted":
            self.delete_post(str(body.get("post_id", "")))
            return _Answer(200, {"ok": True})
        return _Answer(404, {"error": f"no control {method} {path}"})


@dataclass(frozen=True)
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _tweet_view(m: dict[str, Any]) -> dict[str, Any]:
    view = {"id": m["id"], "text": m["text"], "created_at": m["created_at"]}
    if m.get("in_reply_to"):
        view["referenced_tweets"] = [{"type": "replied_to", "id": m["in_reply_to"]}]
    return view


def _page(newest_first: list[dict[str, Any]], query: Mapping[str, str], view: Any) -> _Answer:
    """One page of `max_results` (default 10, at most 100), `pagination_token` = the offset, as X pages."""
    size = max(1, min(100, int(query.get("max_results") or 10)))
    start = int(query.get("pagination_token") or 0)
    chunk = newest_first[start : start + size]
    meta: dict[str, Any] = {"result_count": len(chunk)}
    if start + size < len(newest_first):
        meta["next_token"] = str(start + size)
    return _Answer(200, {"data": [view(m) for m in chunk], "meta": meta})


def _from_x_time(value: str | None) -> str:
    """X's `start_time` (`2026-11-30T08:47:51Z`) as our ISO text, for comparing with `created_at`."""
    return iso(parse(value)) if value else ""


def _unauthorized(api: str) -> _Answer:
    if api == "graph":
        error = {"message": "Error validating access token: the session has been invalidated", "code": 190}
        return _Answer(401, {"error": {**error, "type": "OAuthException"}})
    return _Answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})


def _rate_limited(api: str, reset_seconds: float) -> _Answer:
    if api == "graph":
        usage = {
            "sandbox": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": reset_seconds / 60}]
        }
        body = {"error": {"message": "Application request limit reached", "code": 4}}
        return _Answer(400, body, {"X-Business-Use-Case-Usage": json.dumps(usage)})
    reset = str(int(time.time() + reset_seconds))
    headers = {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    return _Answer(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}, headers)


def _x_deleted() -> _Answer:
    detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
    return _Answer(403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": detail})


def _handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = sandbox.handle(self.command, self.path, headers, body if isinstance(body, dict) else {})
            data = json.dumps(answer.body).encode("utf-8")
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a slow answer): what it sent is recorded all the same

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler

"""JSON over HTTPS with the standard library (no requests in the Lambda package), with timeouts, and the
failure modes the sender tells apart: the request never left, or it left and the answer was lost."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.delivery.errors import OutcomeUnknown, Retryable


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None, timeout: float = 5.0) -> Answer:
    """One request; any HTTP status comes back as an Answer. Raises Retryable when the request cannot have
    reached the platform (refused, unresolvable) and OutcomeUnknown on a timeout (it may have)."""
    data = json.dumps(body).encode("utf-8") if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "User-Agent": "carewire"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _headers(response.headers), _json(response.read()))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _headers(exc.headers), _json(exc.read()))
    except TimeoutError as exc:
        raise OutcomeUnknown(f"{method} {_path(url)}: no answer within {timeout} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise OutcomeUnknown(f"{method} {_path(url)}: no answer within {timeout} s") from exc
        raise Retryable(f"{method} {_path(url)}: {exc.reason}") from exc
    except (ConnectionError, http.client.HTTPException) as exc:
        raise OutcomeUnknown(f"{method} {_path(url)}: connection lost ({type(exc).__name__})") from exc


def _headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers.items() if headers is not None else [])}


def _json(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return {"raw": raw[:200].decode("utf-8", "replace")}
    return doc if isinstance(doc, dict) else {"data": doc}


def _path(url: str) -> str:
    """The URL without its query (which never holds a token here, but may hold ids)."""
    return url.split("?", 1)[0]

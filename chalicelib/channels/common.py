"""Helpers every platform module shares: ids, times, HMAC headers and `invalid` events for what can
never become a post. Untrusted JSON stays untrusted here: nothing assumes a type it has not checked."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import INVALID_KIND
from chalicelib.channels.errors import MalformedEvent
from chalicelib.clock import iso
from chalicelib.json_input import nested_deeper_than
from chalicelib.model import Event

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

MAX_ID_CHARS = 128
"""Platform ids are short (Meta's wamids ~60, X's 20 digits); anything longer would break storage keys."""
MAX_EVENT_DEPTH = 48
"""Nesting no real event reaches; deeper entries travel as JSON text and are parked."""
_ID_INT_BOUND = 10**MAX_ID_CHARS


def as_id(value: Any, max_chars: int = MAX_ID_CHARS) -> str | None:
    """An id as a string (ids arrive as strings or integers); None for anything else or blank;
    MalformedEvent for one longer than `max_chars` (a platform with shorter ids passes its own)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # no str() of a huge int: its length is known from its size
        text = str(value) if abs(value) < _ID_INT_BOUND else "x" * (MAX_ID_CHARS + 1)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if len(text) > max_chars:
        raise MalformedEvent(f"an id is longer than {max_chars} characters")
    return text or None


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def from_unix(value: Any) -> str | None:
    """ISO time from unix seconds or milliseconds (told apart by size), given as a number or a string."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # milliseconds: seconds this large are thousands of years away
        number /= 1000
    try:
        return iso(datetime.fromtimestamp(number, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def received(event: Event) -> str:
    found = from_iso(event.received_at)
    if found is None:
        raise MalformedEvent("event has no usable timestamp")
    return found


def hmac_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same(expected: str, received_value: Any) -> bool:
    """Constant-time comparison of a header value with what it should be; False for anything not a string."""
    if not isinstance(received_value, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), received_value.strip().encode("utf-8", "replace"))


def keepable(value: Any) -> Any:
    """`value` itself when the queue can carry it, else `{"json_text": <its JSON>}` (see x.py)."""
    if not nested_deeper_than(value, MAX_EVENT_DEPTH):
        return value
    try:
        return {"json_text": json.dumps(value, separators=(",", ":"))}
    except (RecursionError, ValueError):
        return {"json_text": None, "lost": "nested too deeply to encode"}


def invalid(platform: str, channel: ChannelConfig, where: str, reason: str, item: Any, received_at: str) -> Event:
    """The queue event for an item that can never become a post: the processor parks it with `reason`."""
    payload = {"reason": reason, "where": where, "event": keepable(item)}
    return Event(channel.id, platform, INVALID_KIND, payload, received_at)


def checked(
    platform: str,
    channel: ChannelConfig,
    where: str,
    event: Event,
    normalize: Callable[[Event, ChannelConfig], Any],
    item: Any,
) -> Event:
    """`event` when it normalises (the processor's own check, run now: cheap and pure), else an `invalid`
    event that carries the reason and the original item — one bad item never sinks its delivery."""
    if nested_deeper_than(event.payload, MAX_EVENT_DEPTH):
        return invalid(
            platform, channel, where, f"{where} is nested deeper than {MAX_EVENT_DEPTH} levels", item, event.received_at
        )
    try:
        normalize(event, channel)
    except Exception as exc:  # noqa: BLE001 - parked with its reason, never a 500
        reason = f"{where}: {exc}" if isinstance(exc, MalformedEvent) else f"{where}: {type(exc).__name__}"
        return invalid(platform, channel, where, reason, item, event.received_at)
    return event


def rejected_at_intake(event: Event) -> MalformedEvent:
    return MalformedEvent(f"rejected at intake: {text(event.payload.get('reason')) or 'no reason given'}")

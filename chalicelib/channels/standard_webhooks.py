"""The generic channel: any tool (social listening, app-store review feeds, a CRM) pushes posts to
Carewire as Standard Webhooks (standardwebhooks.com, spec v1.0.0) in the JSON shape documented here and
published as JSON Schema (`schemas/carewire-post.v1.schema.json`, `carewire channels schema`).

Verification: `webhook-id`, `webhook-timestamp` (unix seconds, within ±5 minutes of now) and
`webhook-signature` — a space-separated list of `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`;
any one matching entry is enough (senders rotate keys by signing with both). The secret is `whsec_` +
base64 of the key. Only `type: "post.created"` is acted on; other types are acknowledged and counted.

Dedupe: `webhook#<channel>#<data.id>` — the sender's own post id, scoped to the channel (a retry also
repeats `webhook-id`, which travels with the event for tracing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
import time
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.channels.base import INVALID_KIND, UNKNOWN_KIND, Platform, Skipped, Split, header
from chalicelib.channels.common import as_id, checked, from_iso, obj, received, rejected_at_intake, text
from chalicelib.channels.errors import MalformedDelivery, MalformedEvent
from chalicelib.model import Author, Event, Post

if TYPE_CHECKING:
    from chalicelib.channels.config import ChannelConfig

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"
ACTED_ON = "post.created"
_MSG_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://carewire.example/schemas/carewire-post.v1.schema.json",
    "title": "Carewire post (Standard Webhooks payload)",
    "description": (
        "A customer post pushed to a Carewire `webhook` channel. Sign it as Standard Webhooks v1 with the "
        "channel's whsec_ secret. Only type post.created is acted on; other types are acknowledged."
    ),
    "type": "object",
    "required": ["type", "data"],
    "properties": {
        "type": {"type": "string", "description": "post.created", "maxLength": 64},
        "timestamp": {"type": "string", "description": "ISO 8601: when the sender produced the event"},
        "data": {
            "type": "object",
            "required": ["id", "text", "author"],
            "additionalProperties": False,
            "properties": {
                "id": {
                    "type": "string",
                    "pattern": "\\S",
                    "maxLength": 128,
                    "description": "the sender's post id (unique within the channel)",
                },
                "text": {"type": "string", "maxLength": 20000},
                "author": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string", "pattern": "\\S", "maxLength": 128},
                        "handle": {"type": "string", "maxLength": 128},
                        "name": {"type": "string", "maxLength": 256},
                    },
                },
                "conversation_id": {
                    "type": "string",
                    "pattern": "\\S",
                    "maxLength": 128,
                    "description": "posts of one thread share it (default: the post id)",
                },
                "in_reply_to": {"type": "string", "minLength": 1, "maxLength": 128},
                "created_at": {"type": "string", "description": "ISO 8601 (default: when Carewire received it)"},
                "private": {"type": "boolean", "description": "a direct/private message to the brand"},
                "by_brand": {"type": "boolean", "description": "the brand's own post: acknowledged, never decided"},
                "addressed_to_brand": {"type": "boolean", "default": True},
                "language": {"type": "string", "maxLength": 16},
                "source": {"type": "string", "maxLength": 64, "description": "e.g. appstore, trustpilot"},
                "url": {"type": "string", "maxLength": 2048},
            },
        },
    },
}


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SCHEMA)


def schema_problem(body: Any) -> str | None:
    """Why `body` does not fit SCHEMA (naming the field, never quoting its value), or None."""
    error = next(iter(_validator().iter_errors(body)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "body"
    if error.validator in ("required", "additionalProperties"):
        return f"{where}: {error.message}"
    return f"{where}: must satisfy {error.validator} {error.validator_value!r}"


def secret_key(secret: str) -> bytes | None:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def signature(key: bytes, msg_id: str, timestamp: str, raw_body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + raw_body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class StandardWebhooksPlatform(Platform):
    name = "webhook"
    signature_header = "webhook-signature"
    secret_names = ("signing_secret",)
    signing_secret = "signing_secret"
    own_posts = "the sender marks them: data.by_brand"
    dedupe = "webhook#<channel>#<data.id>"

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        msg_id = header(headers, "webhook-id")
        stamp = header(headers, "webhook-timestamp")
        signatures = header(headers, self.signature_header)
        key = secret_key(secret) if secret else None
        if key is None or not all(isinstance(v, str) for v in (msg_id, stamp, signatures)):
            return False
        if not isinstance(raw_body, bytes | bytearray) or not _MSG_ID.fullmatch(msg_id):
            return False
        stamp = stamp.strip()
        if not stamp.isdigit() or len(stamp) > 12 or abs(self._now() - int(stamp)) > TOLERANCE_SECONDS:
            return False
        expected = signature(key, msg_id, stamp, bytes(raw_body)).encode("ascii")
        matched = False
        for entry in signatures.split(" ")[:16]:  # senders list a few (rotation); never an unbounded loop
            if entry.startswith("v1,"):
                matched = hmac.compare_digest(expected, entry.encode("utf-8", "replace")) or matched
        return matched

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        key = secret_key(secret)
        if key is None:
            raise ValueError("a Standard Webhooks secret is whsec_ followed by base64")
        msg_id = "msg_" + _secrets.token_urlsafe(16)
        stamp = str(int(self._now()))
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": signature(key, msg_id, stamp, raw_body),
        }

    def generate_secret(self, name: str) -> str:
        return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode("ascii")

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        if not isinstance(body, dict):
            raise MalformedDelivery("a webhook delivery must be a JSON object")
        kind = body.get("type")
        if kind != ACTED_ON:
            label = f"type:{kind}"[:64] if isinstance(kind, str) else "type:?"
            return Split([], [Skipped(label, UNKNOWN_KIND, known=False)])
        msg_id = header(headers or {}, "webhook-id")
        payload = {"webhook_id": msg_id if isinstance(msg_id, str) else None, "body": body}
        event = Event(channel.id, self.name, "post", payload, received_at)
        return Split([checked(self.name, channel, "post", event, self.normalize, body)], [])

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind == INVALID_KIND:
            raise rejected_at_intake(event)
        if event.kind != "post":
            raise MalformedEvent(f"webhook event kind {event.kind!r} cannot be normalised")
        body = event.payload.get("body")
        problem = schema_problem(body)
        if problem is not None:
            raise MalformedEvent(problem)
        data = obj(obj(body).get("data"))
        author = obj(data.get("author"))
        post_id = str(as_id(data.get("id")))
        by_brand = data.get("by_brand") is True or channel.is_brand_id(as_id(author.get("id")))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=f"{channel.id}:{text(data.get('conversation_id')).strip() or post_id}",
            author=Author(
                id=str(as_id(author.get("id"))), handle=text(author.get("handle")), name=text(author.get("name"))
            ),
            text=text(data.get("text")),
            created_at=from_iso(data.get("created_at")) or from_iso(obj(body).get("timestamp")) or received(event),
            is_dm=data.get("private") is True,
            in_reply_to_post_id=text(data.get("in_reply_to")) or None,
            language_hint=text(data.get("language")) or None,
            by_brand=by_brand,
            addressed_to_brand=not by_brand and data.get("addressed_to_brand", True) is not False,
            dedupe_key=f"webhook#{channel.id}#{post_id}",
        )


PLATFORM = StandardWebhooksPlatform()

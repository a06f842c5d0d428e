"""X (Twitter) Account Activity API: CRC, signatures, delivery splitting and normalisation.

Wire facts: `x-twitter-webhooks-signature: sha256=<base64(HMAC-SHA256(consumer secret, raw body))>`;
the CRC answers `{"response_token": "sha256=<base64(HMAC-SHA256(consumer secret, crc_token))>"}`.

The two use the same key and construction, so a CRC answer for a token that is also a delivery body
would be a valid signature for that body. `crc_token_problem` closes that: a token is answered only in
X's own token shape (short, base64/base64url alphabet), which cannot hold a JSON object, array or
string, and never when the token parses as a JSON scalar (`123`, `true`, `NaN`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chalicelib.channels.base import (
    INVALID_KIND,
    ChallengeResponse,
    Outbound,
    Platform,
    Skipped,
    Split,
    client_class,
    header,
)
from chalicelib.channels.common import as_id
from chalicelib.channels.config import ChannelConfig
from chalicelib.channels.errors import ChallengeRejected, MalformedDelivery, MalformedEvent
from chalicelib.clock import iso as _iso
from chalicelib.delivery.text import x_length
from chalicelib.json_input import nested_deeper_than
from chalicelib.model import Author, Event, Post

NOT_ACTED_ON = "not acted on"
UNKNOWN_KIND = "unknown event kind"

_ACTED_ON = {"tweet_create_events": "tweet", "direct_message_events": "direct_message"}
_NOT_ACTED_ON = {
    "favorite_events": "favorites",
    "follow_events": "follows",
    "block_events": "blocks",
    "mute_events": "mutes",
    "direct_message_indicate_typing_events": "typing indicators",
    "direct_message_mark_read_events": "read receipts",
    "tweet_delete_events": "tweet deletions",
    "user_event": "app revocations",
    "replay_job_status": "replay job status",
}
_ENVELOPE = frozenset({"for_user_id", "user_has_blocked", "users", "apps", "is_blocked_by", "source"})
MAX_ID_CHARS = 64
"""X ids are at most 20 digits; anything far longer is not an X id (and would break storage keys)."""
MAX_EVENT_DEPTH = 48
"""Nesting a real tweet never reaches (a quoted retweet's media sizes sit ~12 levels down)."""
CRC_TOKEN_MAX_CHARS = 128
"""X's CRC tokens are short random strings (a UUID in X's own examples, base64 elsewhere)."""
_CRC_TOKEN = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}


def crc_token_problem(token: object) -> str | None:
    """Why `token` is not answered as an X CRC token, or None when it is.

    Only X's token shape is signed: 1..CRC_TOKEN_MAX_CHARS characters of the base64/base64url alphabet
    (`{`, `[`, `"` and whitespace are outside it, so no JSON object, array or string fits), and never a
    token that `json.loads` accepts as a scalar. Hence no CRC answer is a POST signature for any JSON body.
    """
    if not isinstance(token, str) or not token:
        return "X CRC request must carry a crc_token query parameter"
    if len(token) > CRC_TOKEN_MAX_CHARS or not _CRC_TOKEN.fullmatch(token):
        return f"crc_token must be 1-{CRC_TOKEN_MAX_CHARS} characters of the base64/base64url alphabet"
    try:
        json.loads(token)
    except ValueError:
        return None
    return "crc_token must not be a JSON value"


def _hmac_b64(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def _id(value: Any) -> str | None:
    """An X id as a string: ids arrive as strings or (in the v1.1 `id`/`*_id` fields) as integers.

    None for anything else; MalformedEvent for an id longer than MAX_ID_CHARS (not X's, and too long
    for a storage key).
    """
    return as_id(value, MAX_ID_CHARS)


def _keepable(value: Any) -> Any:
    """`value` itself when the queue can carry it, else `{"json_text": <its JSON>}`: the encoders on the way
    (dataclasses.asdict, json.dumps) recurse once per level and would fail on what json.loads just parsed."""
    if not nested_deeper_than(value, MAX_EVENT_DEPTH):
        return value
    try:
        return {"json_text": json.dumps(value, separators=(",", ":"))}
    except (RecursionError, ValueError):  # deeper than the encoder can go: say so rather than fail the delivery
        return {"json_text": None, "lost": "nested too deeply to encode"}


def for_user_problem(for_user_id: Any, channel: ChannelConfig) -> str | None:
    """Why a delivery's `for_user_id` does not make it this channel's, or None when it does.

    X names the subscribed account a delivery is for; only the channel's own brand accounts may be
    it, or own-post and echo detection (which trusts it) would be decided by the sender.
    """
    try:
        user_id = _id(for_user_id)
    except MalformedEvent:
        user_id = None
    if user_id is None:
        return "delivery has no usable for_user_id"
    if not channel.is_brand_id(user_id):
        return f"for_user_id is not one of the brand_ids of channel {channel.id}"
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _truthy(value: Any) -> bool:
    """X documents some flags as booleans and shows them as strings ("false") elsewhere."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _from_ms(value: Any) -> str | None:
    try:
        millis = int(value)
        return _iso(datetime.fromtimestamp(millis / 1000, tz=UTC))
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _from_created_at(value: Any) -> str | None:
    """Parses X's `created_at` ("Sat Nov 28 05:30:03 +0000 2020") without depending on the locale."""
    parts = value.split() if isinstance(value, str) else []
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return None
    _, month, day, clock, offset, year = parts
    try:
        moment = datetime.strptime(f"{year} {_MONTHS[month]} {day} {clock} {offset}", "%Y %m %d %H:%M:%S %z")
    except ValueError:
        return None
    return _iso(moment)


def _from_received_at(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedEvent("event has no usable timestamp") from exc
    return _iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _mention_entities(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    mentions = _dict(tweet.get("entities")).get("user_mentions")
    return [m for m in mentions if isinstance(m, dict)] if isinstance(mentions, list) else []


def _full_view(tweet: dict[str, Any]) -> dict[str, Any]:
    """The part of a tweet that describes its whole text: `extended_tweet` for truncated tweets."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return extended
    return tweet


def _referenced_user_ids(kind: str, event: dict[str, Any]) -> set[str]:
    """Ids of the users an event names (values of any JSON type; only usable ids are kept)."""
    if kind == "direct_message":
        message = _dict(event.get("message_create"))
        ids = [message.get("sender_id"), _dict(message.get("target")).get("recipient_id")]
    else:
        view = _full_view(event)
        ids = [_dict(event.get("user")).get("id_str"), event.get("in_reply_to_user_id_str")]
        ids += [m.get("id_str") for m in _mention_entities(view) + _mention_entities(event)]
        for nested in ("quoted_status", "retweeted_status"):
            ids.append(_dict(_dict(event.get(nested)).get("user")).get("id_str"))
    return {i for i in map(_id, ids) if i}


RETWEET = "a retweet carries no new customer text"


class XPlatform(Platform):
    name = "x"
    signature_header = "x-twitter-webhooks-signature"
    text_limit = 280
    secret_names = ("consumer_secret", "access_token")
    signing_secret = "consumer_secret"
    challenge_secret = "consumer_secret"
    own_posts = "the author (or DM sender) is the delivery's for_user_id or one of the channel's brand_ids/handles"
    dedupe = "x#<tweet id or DM event id>"
    outbound = Outbound(
        client=client_class("chalicelib.delivery.clients:XClient", platform="x"),
        api="x",
        default_url="https://api.x.com",
        token="access_token",
        budget=200,
        budget_window_s=900,
        private_limit=10_000,
        count=x_length,
    )
    """X API v2 with the account's user token: 200 sends per 15 minutes per channel (X allows a user 300)."""

    def challenge(self, query: Mapping[str, str], secret: str) -> ChallengeResponse:
        token = (query or {}).get("crc_token")
        problem = crc_token_problem(token)
        if problem is not None or not isinstance(token, str):
            raise ChallengeRejected(problem or "crc_token must be a string")
        if not secret:
            raise ChallengeRejected("no consumer secret is configured for this channel")
        return ChallengeResponse({"response_token": _hmac_b64(secret, token.encode("ascii"))})

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
        received = header(headers, self.signature_header)
        if not secret or not isinstance(received, str) or not received.strip():
            return False
        if not isinstance(raw_body, bytes | bytearray):
            return False
        expected = _hmac_b64(secret, bytes(raw_body)).encode("ascii")
        return hmac.compare_digest(expected, received.strip().encode("utf-8", "replace"))

    def sign(self, raw_body: bytes, secret: str) -> dict[str, str]:
        return {self.signature_header: _hmac_b64(secret, raw_body)}

    def split(
        self, body: Any, channel: ChannelConfig, received_at: str, headers: Mapping[str, str] | None = None
    ) -> Split:
        """One queue event per acted-on entry, each validated on its own.

        An entry that cannot become a Post (wrong type, missing ids, nested too deep, not for the
        channel's brand) does not sink its siblings: it is enqueued as an `invalid` event carrying its
        reason and the original entry, and the processor parks it — accepted means kept, even when
        it can never be decided.
        """
        if not isinstance(body, dict):
            raise MalformedDelivery("an X delivery must be a JSON object")
        not_for_brand = for_user_problem(body.get("for_user_id"), channel)
        users = _dict(body.get("users"))
        events: list[Event] = []
        skipped: list[Skipped] = []
        for key, value in body.items():
            if key in _ENVELOPE:
                continue
            if key in _ACTED_ON:
                kind = _ACTED_ON[key]
                if not isinstance(value, list):
                    events.append(
                        self._invalid(key, None, kind, value, body, f"{key} must be a list", received_at, channel)
                    )
                    continue
                ignored = 0
                for index, entry in enumerate(value):
                    if kind == "direct_message" and isinstance(entry, dict) and entry.get("type") != "message_create":
                        ignored += 1
                        continue
                    events.append(
                        self._event(key, index, kind, entry, body, users, not_for_brand, received_at, channel)
                    )
                if ignored:
                    reason = f"{NOT_ACTED_ON}: direct message events other than message_create"
                    skipped.append(Skipped(key, reason, ignored))
                continue
            count = len(value) if isinstance(value, list) else 1
            if count:
                label = _NOT_ACTED_ON.get(key)
                reason = f"{NOT_ACTED_ON}: {label}" if label else UNKNOWN_KIND
                skipped.append(Skipped(key, reason, count, known=label is not None))
        return Split(events, skipped)

    def _event(
        self,
        key: str,
        index: int,
        kind: str,
        entry: Any,
        body: dict[str, Any],
        users: dict[str, Any],
        not_for_brand: str | None,
        received_at: str,
        channel: ChannelConfig,
    ) -> Event:
        """The queue event for `entry`, or an `invalid` one that says why it can never be a Post."""
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            return self._invalid(key, index, kind, entry, body, f"{where} must be an object", received_at, channel)
        if nested_deeper_than(entry, MAX_EVENT_DEPTH):
            reason = f"{where} is nested deeper than {MAX_EVENT_DEPTH} levels"
            return self._invalid(key, index, kind, entry, body, reason, received_at, channel)
        named: dict[str, Any] = {}
        try:
            referenced = _referenced_user_ids(kind, entry)
            named = {uid: user for uid, user in users.items() if uid in referenced}
            if nested_deeper_than(named, MAX_EVENT_DEPTH):
                raise MalformedEvent(f"the users it names are nested deeper than {MAX_EVENT_DEPTH} levels")
            for_user_id = _id(body.get("for_user_id")) if not_for_brand is None else None
            event = Event(
                channel.id, self.name, kind, {"for_user_id": for_user_id, "event": entry, "users": named}, received_at
            )
            if not_for_brand is None:
                self.normalize(event, channel)  # the processor's own check, run now: cheap and pure
        except Exception as exc:  # noqa: BLE001 - one bad entry never sinks its delivery; it is parked instead
            reason = f"{where}: {exc}" if isinstance(exc, MalformedEvent) else f"{where}: {type(exc).__name__}"
            return self._invalid(key, index, kind, entry, body, reason, received_at, channel, named)
        if not_for_brand is not None:
            return self._invalid(key, index, kind, entry, body, not_for_brand, received_at, channel, named)
        return event

    def _invalid(
        self,
        key: str,
        index: int | None,
        kind: str,
        entry: Any,
        body: dict[str, Any],
        reason: str,
        received_at: str,
        channel: ChannelConfig,
        users: dict[str, Any] | None = None,
    ) -> Event:
        payload = {
            "reason": reason,
            "kind": kind,
            "key": key,
            "index": index,
            "for_user_id": _keepable(body.get("for_user_id")),
            "event": _keepable(entry),
            "users": _keepable(users or {}),
        }
        return Event(channel.id, self.name, INVALID_KIND, payload, received_at)

    def normalize(self, event: Event, channel: ChannelConfig) -> Post:
        if event.kind == INVALID_KIND:
            raise MalformedEvent(f"rejected at intake: {_str(event.payload.get('reason')) or 'no reason given'}")
        problem = for_user_problem(event.payload.get("for_user_id"), channel)
        if problem is not None:
            raise MalformedEvent(problem)
        item = event.payload.get("event")
        if not isinstance(item, dict):
            raise MalformedEvent("X event payload has no 'event' object")
        if event.kind == "tweet":
            return self._tweet(event, item, channel)
        if event.kind == "direct_message":
            return self._direct_message(event, item, channel)
        raise MalformedEvent(f"X event kind {event.kind!r} cannot be normalised")

    @staticmethod
    def _is_brand(user_id: str | None, for_user_id: str | None, channel: ChannelConfig) -> bool:
        """`for_user_id` counts only because `normalize` has checked it is one of the brand's ids."""
        return user_id is not None and (user_id == for_user_id or channel.is_brand_id(user_id))

    def _tweet(self, event: Event, tweet: dict[str, Any], channel: ChannelConfig) -> Post:
        post_id = _id(tweet.get("id_str")) or _id(tweet.get("id"))
        if post_id is None:
            raise MalformedEvent("tweet has no id_str/id")
        user = tweet.get("user")
        if not isinstance(user, dict):
            raise MalformedEvent("tweet has no user object")
        author_id = _id(user.get("id_str")) or _id(user.get("id"))
        if author_id is None:
            raise MalformedEvent("tweet user has no id_str")
        handle = _str(user.get("screen_name"))
        for_user_id = _id(event.payload.get("for_user_id"))

        def is_brand(user_id: str | None) -> bool:
            return self._is_brand(user_id, for_user_id, channel)

        view = _full_view(tweet)
        text = _str(view.get("full_text")) or _str(tweet.get("full_text")) or _str(tweet.get("text"))
        mentions = _mention_entities(view)
        reply_to_post = _id(tweet.get("in_reply_to_status_id_str")) or _id(tweet.get("in_reply_to_status_id"))
        reply_to_user = _id(tweet.get("in_reply_to_user_id_str")) or _id(tweet.get("in_reply_to_user_id"))
        quoted = _dict(tweet.get("quoted_status"))
        quoted_user = _dict(quoted.get("user"))

        replies_to_brand = is_brand(reply_to_user) or channel.is_brand_handle(
            _str(tweet.get("in_reply_to_screen_name")) or None
        )
        quotes_brand = is_brand(_id(quoted_user.get("id_str"))) or channel.is_brand_handle(
            _str(quoted_user.get("screen_name")) or None
        )
        text_start = _display_start(view)
        mentions_brand = any(
            (
                is_brand(_id(m.get("id_str")) or _id(m.get("id")))
                or channel.is_brand_handle(_str(m.get("screen_name")) or None)
            )
            and _written_by_user(m, text_start)
            for m in mentions
        )
        lang = _str(tweet.get("lang"))
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id=(
                _id(tweet.get("conversation_id_str")) or _id(tweet.get("conversation_id")) or reply_to_post or post_id
            ),
            author=Author(id=author_id, handle=handle, name=_str(user.get("name"))),
            text=text,
            created_at=(
                _from_ms(tweet.get("timestamp_ms"))
                or _from_created_at(tweet.get("created_at"))
                or _from_received_at(event.received_at)
            ),
            in_reply_to_post_id=reply_to_post,
            in_reply_to_user_id=reply_to_user,
            mentions=tuple(dict.fromkeys(_str(m.get("screen_name")).lower() for m in mentions if m.get("screen_name"))),
            is_quote=_truthy(tweet.get("is_quote_status")) or bool(quoted),
            skip_reason=RETWEET if isinstance(tweet.get("retweeted_status"), dict) else None,
            language_hint=lang if lang and lang != "und" else None,
            by_brand=is_brand(author_id) or channel.is_brand_handle(handle),
            addressed_to_brand=replies_to_brand or mentions_brand or quotes_brand,
        )

    def _direct_message(self, event: Event, dm: dict[str, Any], channel: ChannelConfig) -> Post:
        if dm.get("type", "message_create") != "message_create":
            raise MalformedEvent("only message_create direct message events can be normalised")
        post_id = _id(dm.get("id"))
        if post_id is None:
            raise MalformedEvent("direct message event has no id")
        message = dm.get("message_create")
        if not isinstance(message, dict):
            raise MalformedEvent("direct message event has no message_create object")
        sender_id = _id(message.get("sender_id"))
        if sender_id is None:
            raise MalformedEvent("direct message has no message_create.sender_id")
        recipient_id = _id(_dict(message.get("target")).get("recipient_id"))
        for_user_id = _id(event.payload.get("for_user_id"))
        sender = _dict(_dict(event.payload.get("users")).get(sender_id))
        data = _dict(message.get("message_data"))
        participants = sorted(i for i in (sender_id, recipient_id) if i)
        return Post(
            platform=self.name,
            channel=channel.id,
            post_id=post_id,
            conversation_id="dm:" + "-".join(participants),
            author=Author(id=sender_id, handle=_str(sender.get("screen_name")), name=_str(sender.get("name"))),
            text=_str(data.get("text")),
            created_at=_from_ms(dm.get("created_timestamp")) or _from_received_at(event.received_at),
            is_dm=True,
            mentions=tuple(
                dict.fromkeys(
                    _str(m.get("screen_name")).lower() for m in _mention_entities(data) if m.get("screen_name")
                )
            ),
            by_brand=self._is_brand(sender_id, for_user_id, channel),
            addressed_to_brand=self._is_brand(recipient_id, for_user_id, channel),
        )


def _display_start(view: dict[str, Any]) -> int | None:
    """Where the text the user typed begins: X puts auto-populated reply mentions before it."""
    span = view.get("display_text_range")
    if isinstance(span, list) and span and isinstance(span[0], int) and not isinstance(span[0], bool):
        return span[0]
    return None


def _written_by_user(mention: dict[str, Any], text_start: int | None) -> bool:
    """False only for a mention X auto-populated into the reply prefix; unknown positions count."""
    indices = mention.get("indices")
    if text_start is None or not isinstance(indices, list) or not indices or not isinstance(indices[0], int):
        return True
    return indices[0] >= text_start


PLATFORM = XPlatform()

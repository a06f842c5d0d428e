"""Platform clients behind one interface: send an outbox item, or find one we may already have sent.

X API v2 (`XClient`), the Graph API's comments and Send API (`GraphClient`: Facebook Pages and Messenger,
Instagram) and the WhatsApp Cloud API (`WhatsAppClient`). Each turns the platform's answers into a platform
id or one of `chalicelib.delivery.errors`. Which platform uses which client, with which options, is the
platform module's declaration (`Platform.outbound`, chalicelib/channels/): nothing here names a platform."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from chalicelib.clock import parse
from chalicelib.delivery.errors import (
    ChannelUnauthorized,
    LookupUnsupported,
    OutsideWindow,
    RateLimited,
    Rejected,
    Retryable,
)
from chalicelib.delivery.http import Answer, call
from chalicelib.delivery.text import WindowRule
from chalicelib.outbox.item import OutboxItem

LOOKUP_PAGES = 20
"""Pages of 100 read back when looking for what we may have sent."""
DEFAULT_RESET = 60.0
"""Seconds to wait after a rate limit that names no reset time."""


class PlatformClient(Protocol):
    platform: str

    def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        """Deliver `item`; the platform's id for what it created (or the hidden post's id)."""
        ...

    def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
        """What we sent for `item`, if the platform has it; None means it is safe to send again.
        Raises LookupUnsupported where the platform cannot tell."""
        ...


def dm_peer(item: OutboxItem, account_id: str) -> str:
    """The customer a DM goes to: the item's recipient, or the other participant of an X `dm:a-b` conversation."""
    if item.recipient_id:
        return item.recipient_id
    if item.conversation_id.startswith("dm:"):
        others = [p for p in item.conversation_id[3:].split("-") if p and p != account_id]
        if others:
            return others[0]
    raise Rejected("a private message without a recipient")


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class XClient:
    def __init__(self, base_url: str, timeout: float, *, platform: str) -> None:
        self.platform = platform
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        if item.kind == "hide":
            answer = self._call("PUT", f"/2/tweets/{_q(item.in_reply_to_post_id)}/hidden", token, {"hidden": True})
            return item.in_reply_to_post_id
        if item.private:
            path = f"/2/dm_conversations/with/{_q(dm_peer(item, account_id))}/messages"
            answer = self._call("POST", path, token, {"text": item.text})
            return str(answer.body.get("data", {}).get("dm_event_id") or "")
        body: dict[str, Any] = {"text": item.text}
        if item.kind != "brand_post":
            body["reply"] = {"in_reply_to_tweet_id": item.in_reply_to_post_id}
        answer = self._call("POST", "/2/tweets", token, body)
        return str(answer.body.get("data", {}).get("id") or "")

    def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
        if item.kind == "hide":
            return None  # hiding twice is harmless
        if item.private:
            path = f"/2/dm_conversations/with/{_q(dm_peer(item, account_id))}/dm_events"
            query = "max_results=100&dm_event.fields=sender_id,text,created_at"
            for event in self._pages(path, query, token, stop_before=item.created_at):
                if event.get("sender_id") == account_id and event.get("text") == item.text:
                    return str(event["id"])
            return None
        path = f"/2/users/{_q(account_id)}/tweets"
        query = f"max_results=100&tweet.fields=referenced_tweets,created_at&start_time={_x_time(item.created_at)}"
        for tweet in self._pages(path, query, token, stop_before=item.created_at):
            replied = {r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"}
            target_ok = not replied if item.kind == "brand_post" else item.in_reply_to_post_id in replied
            if tweet.get("text") == item.text and target_ok:
                return str(tweet["id"])
        return None

    def _pages(self, path: str, query: str, token: str, stop_before: str) -> Iterator[dict[str, Any]]:
        """Newest first, page after page, until entries older than the item (made before it) or the end. Raises
        Retryable when LOOKUP_PAGES pages did not reach that far: better to look again later than to guess."""
        next_token = ""
        for _ in range(LOOKUP_PAGES):
            suffix = f"&pagination_token={_q(next_token)}" if next_token else ""
            page = self._call("GET", f"{path}?{query}{suffix}", token).body
            entries = page.get("data") or []
            yield from entries
            if any(str(e.get("created_at") or "9") < stop_before[:19] for e in entries):
                return
            next_token = str((page.get("meta") or {}).get("next_token") or "")
            if not next_token:
                return
        raise Retryable(f"lookup of {path} did not reach back to {stop_before} in {LOOKUP_PAGES} pages")

    def _call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Answer:
        answer = call(method, self._base + path, token, body, self._timeout)
        if answer.status < 300:
            return answer
        detail = _x_detail(answer)
        if answer.status == 429:
            reset = answer.header("x-rate-limit-reset")
            raise RateLimited(f"x 429: {detail}", float(reset) if reset else time.time() + DEFAULT_RESET)
        if answer.status == 403 and "deleted" in detail.lower():
            raise Rejected(f"the post is deleted or not visible: {detail}")
        if answer.status in (401, 403):
            raise ChannelUnauthorized(f"x {answer.status}: {detail}")
        if answer.status >= 500:
            raise Retryable(f"x {answer.status}: {detail}")
        raise Rejected(f"x {answer.status}: {detail}")


def _x_time(created_at: str) -> str:
    """X's `start_time` (seconds, `Z`), a minute before `created_at` against clock skew."""
    moment = parse(created_at) - timedelta(minutes=1) if created_at else datetime(2006, 3, 21, tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _x_detail(answer: Answer) -> str:
    body = answer.body
    errors = body.get("errors") or []
    text = body.get("detail") or (errors[0].get("message") if errors and isinstance(errors[0], dict) else "")
    return str(text or body.get("title") or "")[:300]


RATE_CODES = {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008, 130429}
AUTH_CODES = {102, 190, 10, 200}
WINDOW_CODES = {(10, 2018278), (551, None), (131047, None), (2018278, None)}


class GraphClient:
    """The Graph API's comment replies, hides, Page posts and Send API (Messenger, Instagram messaging).

    `reply_edge`: the edge a comment reply is posted to (`comments`; Instagram `replies`); `hide_field`: the
    flag that hides a comment (`is_hidden`; Instagram `hide`); `brand_posts`: whether the account has a feed
    Carewire may post to (a Facebook Page)."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        *,
        platform: str,
        reply_edge: str = "comments",
        hide_field: str = "is_hidden",
        brand_posts: bool = False,
    ) -> None:
        self.platform = platform
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._reply_edge = reply_edge
        self._hide_field = hide_field
        self._brand_posts = brand_posts

    def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        target = _q(item.in_reply_to_post_id)
        if item.kind == "hide":
            self._call("POST", f"/{target}", token, {self._hide_field: True})
            return item.in_reply_to_post_id
        if item.private:
            return self._message(item, account_id, token, rule)
        if item.kind == "brand_post":
            if not self._brand_posts:
                raise Rejected(f"brand posts on {self.platform} are not supported")
            return str(self._call("POST", f"/{_q(account_id)}/feed", token, {"message": item.text}).body.get("id"))
        edge = self._reply_edge
        return str(self._call("POST", f"/{target}/{edge}", token, {"message": item.text}).body.get("id"))

    def _message(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        to = dm_peer(item, account_id)
        path = f"/{_q(account_id)}/messages"
        body = {"recipient": {"id": to}, "message": {"text": item.text}, "messaging_type": "RESPONSE"}
        if rule.mode == "tag":
            body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
        return str(self._call("POST", path, token, body).body.get("message_id") or "")

    def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
        if item.kind == "hide":
            return None
        if item.private or item.kind == "brand_post":
            raise LookupUnsupported(f"{self.platform} offers no lookup of sent messages")
        edge = self._reply_edge
        found = self._call("GET", f"/{_q(item.in_reply_to_post_id)}/{edge}?fields=id,message,from", token).body
        for comment in found.get("data") or []:
            if (comment.get("from") or {}).get("id") == account_id and comment.get("message") == item.text:
                return str(comment["id"])
        return None

    def _call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Answer:
        answer = call(method, self._base + path, token, body, self._timeout)
        error = answer.body.get("error") if isinstance(answer.body.get("error"), dict) else None
        if answer.status < 300 and error is None:
            return answer
        error = error or {}
        code, sub = error.get("code"), error.get("error_subcode")
        detail = f"{self.platform} {answer.status} code {code}/{sub}: {str(error.get('message', ''))[:300]}"
        if answer.status == 429 or code in RATE_CODES:
            raise RateLimited(detail, time.time() + _meta_wait(answer))
        if (code, sub) in WINDOW_CODES or (code, None) in WINDOW_CODES:
            raise OutsideWindow(detail)
        if code == 100 and sub == 33:
            raise Rejected(f"the post is deleted or not visible: {detail}")
        if answer.status in (401, 403) or code in AUTH_CODES:
            raise ChannelUnauthorized(detail)
        if answer.status >= 500 or code in (1, 2):
            raise Retryable(detail)
        raise Rejected(detail)


class WhatsAppClient(GraphClient):
    """The WhatsApp Cloud API: every item is a message from the business number (`/<phone id>/messages`),
    text within the customer's 24 hours, an approved template after; no lookup of what was sent."""

    def __init__(self, base_url: str, timeout: float, *, platform: str) -> None:
        super().__init__(base_url, timeout, platform=platform)

    def send(self, item: OutboxItem, account_id: str, token: str, rule: WindowRule) -> str:
        if item.kind in {"hide", "brand_post"}:
            raise Rejected(f"{item.kind} is not something {self.platform} can do")
        to = dm_peer(item, account_id)
        body: dict[str, Any] = {"messaging_product": self.platform, "recipient_type": "individual", "to": to}
        if rule.mode == "template":
            body.update(type="template", template={"name": item.wa_template, "language": {"code": "en"}})
        else:
            body.update(type="text", text={"body": item.text})
        messages = self._call("POST", f"/{_q(account_id)}/messages", token, body).body.get("messages") or [{}]
        return str(messages[0].get("id") or "")

    def find_sent(self, item: OutboxItem, account_id: str, token: str) -> str | None:
        raise LookupUnsupported(f"{self.platform} offers no lookup of sent messages")


def _meta_wait(answer: Answer) -> float:
    """Seconds until Meta lets the app call again: the longest `estimated_time_to_regain_access` (minutes) in
    X-Business-Use-Case-Usage, else a minute."""
    raw = answer.header("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0) for entries in usage.values() for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        minutes = []
    return max(minutes) * 60 if minutes and max(minutes) > 0 else DEFAULT_RESET

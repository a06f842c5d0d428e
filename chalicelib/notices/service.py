"""The notices life cycle: create → publish (scheduled or active) → resolve or expire.

Every change names the version the caller read; the stored notice is replaced only if it is still at
that version (StaleVersion otherwise) and the change is appended to its history.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.clock import Clock, iso, parse
from chalicelib.model import NOTICE_STATUSES, Classification, Notice, Post
from chalicelib.notices.errors import InvalidTransition, NoticeInvalid, NoticeNotFound, StaleVersion
from chalicelib.notices.items import announcement_item, follow_up_marker, follow_up_reply
from chalicelib.notices.matching import LIVE, context_notices, match_notices
from chalicelib.notices.store import NoticeStore
from chalicelib.notices.validate import (
    RELATIVE_HINT,
    Vocabulary,
    check_fields,
    check_notice,
    check_publishable,
    read_notice_file,
)

FINAL = ("resolved", "expired")
HISTORY_LIMIT = 50
"""Changes kept on the item (oldest dropped first), so a long-lived notice stays far below 400 KB."""
SCHEDULE_AUTHOR = "schedule"


@dataclass(frozen=True)
class Resolution:
    notice: Notice
    follow_ups: int
    """"Service restored" replies queued by this call."""


@dataclass(frozen=True)
class Sweep:
    activated: tuple[str, ...]
    expired: tuple[str, ...]
    skipped: tuple[str, ...]
    """Changed by someone else meanwhile; the next run looks again."""

    def to_doc(self) -> dict[str, Any]:
        return {"activated": list(self.activated), "expired": list(self.expired), "skipped": list(self.skipped)}


def new_id(kind: str, now: datetime) -> str:
    return f"{kind.replace('_', '-')}-{now:%Y%m%d}-{uuid.uuid4().hex[:6]}"


def _refuse_past_end(doc: Any, vocabulary: Vocabulary, now: datetime) -> None:
    """A notice file whose end has passed could never be published: refuse it before creating anything."""
    values = check_fields(doc, vocabulary, creating=True, now=now)
    if values.get("ends_at") is not None and parse(values["ends_at"]) <= now:
        raise NoticeInvalid(
            [("ends_at", f"already past ({values['ends_at']}); write a later time, or {RELATIVE_HINT}")]
        )


class Notices:
    def __init__(
        self,
        store: NoticeStore,
        vocabulary: Vocabulary,
        platforms: Mapping[str, str],
        clock: Clock,
        on_publish: Callable[[Notice, datetime], int] | None = None,
    ) -> None:
        """`platforms`: channel id → platform, for announcements. `on_publish`: what else publishing does
        (the incident's customers are answered with its notice: chalicelib/incidents/answers.py)."""
        self._store = store
        self._vocabulary = vocabulary
        self._platforms = platforms
        self._clock = clock
        self._on_publish = on_publish

    # reading

    def get(self, notice_id: str) -> Notice:
        notice = self._store.get(notice_id)
        if notice is None:
            raise NoticeNotFound(f"no notice {notice_id!r}")
        return notice

    def find(self, status: str | None = None) -> list[Notice]:
        """Newest change first."""
        if status is not None and status not in NOTICE_STATUSES:
            raise NoticeInvalid([("status", f"unknown status {status!r}; valid: {list(NOTICE_STATUSES)}")])
        found = [n for s in ([status] if status else NOTICE_STATUSES) for n in self._store.by_status(s)]
        return sorted(found, key=lambda n: (n.updated_at, n.id), reverse=True)

    def live(self, now: datetime | None = None) -> list[Notice]:
        """Scheduled or active notices that have started: what matching chooses from (it checks ends_at)."""
        started_by = iso(now or self._clock())
        return [n for status in LIVE for n in self._store.by_status(status, started_by)]

    def for_post(self, post: Post, classification: Classification, now: datetime) -> list[dict[str, Any]]:
        """The `notices` part of the policy context document for `post`: live notices that match it, best
        first, as `context_notices` documents (the processor's NoticeSource). Read fresh for every post, so a
        notice resolved or expired a moment ago is never offered."""
        return context_notices(match_notices(self.live(now), post, classification, now), classification.language)

    # changing

    def create(self, fields: Mapping[str, Any], author: str) -> Notice:
        """A new draft."""
        now = self._clock()
        values = check_fields(fields, self._vocabulary, creating=True, now=now)
        notice_id = values.pop("id", None) or new_id(values["kind"], now)
        values.setdefault("starts_at", iso(now))
        notice = Notice(
            id=notice_id,
            status="draft",
            version=1,
            author=author,
            created_at=iso(now),
            updated_at=iso(now),
            history=(_entry(1, now, author, "created", sorted(values)),),
            **values,
        )
        check_notice(notice)
        self._store.insert(notice)
        return notice

    def update(self, notice_id: str, fields: Mapping[str, Any], version: int, author: str) -> Notice:
        """Change the fields given; a live notice stays live (scheduled or active by its new start)."""
        now = self._clock()
        values = check_fields(fields, self._vocabulary, creating=False, now=now)
        current = self._read(notice_id, version)
        if current.status in FINAL:
            raise InvalidTransition(f"notice {notice_id!r} is {current.status}; it can no longer change")
        changed = sorted(k for k, v in values.items() if getattr(current, k) != v)
        notice = replace(current, **values)
        if notice.status in LIVE:
            if notice.ends_at is not None and parse(notice.ends_at) <= now:
                raise NoticeInvalid([("ends_at", "already past; expire the notice instead")])
            notice = replace(notice, status="scheduled" if parse(notice.starts_at) > now else "active")
        notice = _next(notice, now, author, "updated", changed)
        check_notice(notice)
        self._store.replace(notice, version)
        return notice

    def publish(self, notice_id: str, version: int, author: str) -> Notice:
        """Draft → scheduled (starts later) or active; queues a brand post on each `announce_on` channel."""
        current = self._read(notice_id, version)
        if current.status != "draft":
            raise InvalidTransition(f"notice {notice_id!r} is {current.status}; only a draft can be published")
        now = self._clock()
        if current.ends_at is not None and parse(current.ends_at) <= now:
            raise NoticeInvalid([("ends_at", "already past; change it before publishing")])
        check_publishable(current, self._vocabulary)
        status = "scheduled" if parse(current.starts_at) > now else "active"
        notice = _next(replace(current, status=status), now, author, "published", ["status"])
        outbox = [
            announcement_item(
                notice, channel, self._platforms[channel], now, self._vocabulary.publishing.for_channel(channel)
            )
            for channel in notice.announce_on
            if channel in self._platforms
        ]
        self._store.replace(notice, version, outbox)
        if self._on_publish is not None and notice.status == "active":
            self._on_publish(notice, now)
        return notice

    def resolve(self, notice_id: str, version: int, author: str) -> Resolution:
        """Live → resolved; queues the follow-up to those told about it when the notice has one."""
        current = self._read(notice_id, version)
        if current.status not in LIVE:
            raise InvalidTransition(f"notice {notice_id!r} is {current.status}; only a live notice can be resolved")
        now = self._clock()
        notice = _next(replace(current, status="resolved", resolved_at=iso(now)), now, author, "resolved", ["status"])
        self._store.replace(notice, version)
        return Resolution(notice, self.follow_up(notice))

    def expire(self, notice_id: str, version: int, author: str) -> Notice:
        """Withdraw a draft or live notice: it is never cited again, and nobody gets a follow-up."""
        current = self._read(notice_id, version)
        if current.status in FINAL:
            raise InvalidTransition(f"notice {notice_id!r} is already {current.status}")
        notice = _next(replace(current, status="expired"), self._clock(), author, "expired", ["status"])
        self._store.replace(notice, version)
        return notice

    def follow_up(self, notice: Notice) -> int:
        """Queue "service restored" to every conversation told about a resolved `notice` (the latest cited
        post of each), at most once per conversation ever: safe to run again. Returns how many were queued."""
        if notice.status != "resolved" or not notice.follow_up:
            return 0
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for citation in self._store.citations(notice.id):
            key = (citation["platform"], citation["conversation_id"])
            if key not in latest or citation["cited_at"] > latest[key]["cited_at"]:
                latest[key] = citation
        now = self._clock()
        publishing = self._vocabulary.publishing
        return sum(
            self._store.queue_follow_up(
                follow_up_marker(notice, c, now),
                follow_up_reply(notice, c, now, publishing.for_channel(str(c.get("channel", "")))),
            )
            for c in latest.values()
        )

    def publish_file(self, path: Path, author: str) -> Notice:
        """A marketer's notice file: create it (or change the fields it names, if its `id` exists) and
        publish it if it is a draft."""
        doc = read_notice_file(path)
        try:
            notice_id = doc.get("id") if isinstance(doc, Mapping) else None
            existing = self._store.get(notice_id) if isinstance(notice_id, str) else None
            if existing is None:
                _refuse_past_end(doc, self._vocabulary, self._clock())  # before a draft exists: none is left behind
                notice = self.create(doc, author)
            else:
                fields = {k: v for k, v in doc.items() if k != "id"}
                notice = self.update(existing.id, fields, existing.version, author)
            if notice.status == "draft":
                notice = self.publish(notice.id, notice.version, author)
        except NoticeInvalid as exc:
            raise NoticeInvalid(exc.errors, source=str(path)) from None
        return notice

    def sweep(self) -> Sweep:
        """The schedule: scheduled notices whose start has come become active, live notices past ends_at expire."""
        now = self._clock()
        activated: list[str] = []
        expired: list[str] = []
        skipped: list[str] = []
        for notice in self.live(now):
            if notice.ends_at is not None and parse(notice.ends_at) <= now:
                change, done = replace(notice, status="expired"), expired
            elif notice.status == "scheduled":
                change, done = replace(notice, status="active"), activated
            else:
                continue
            try:
                self._store.replace(_next(change, now, SCHEDULE_AUTHOR, change.status, ["status"]), notice.version)
            except StaleVersion:
                skipped.append(notice.id)
                continue
            done.append(notice.id)
        return Sweep(tuple(activated), tuple(expired), tuple(skipped))

    def _read(self, notice_id: str, version: int) -> Notice:
        current = self.get(notice_id)
        if current.version != version:
            raise StaleVersion(
                f"notice {notice_id!r} is at version {current.version}, not {version}: reload it and retry"
            )
        return current


def _entry(version: int, now: datetime, author: str, action: str, fields: list[str]) -> dict[str, Any]:
    return {"version": version, "at": iso(now), "by": author, "action": action, "fields": fields}


def _next(notice: Notice, now: datetime, author: str, action: str, fields: list[str]) -> Notice:
    version = notice.version + 1
    history = (*notice.history, _entry(version, now, author, action, fields))[-HISTORY_LIMIT:]
    return replace(notice, version=version, author=author, updated_at=iso(now), history=history)

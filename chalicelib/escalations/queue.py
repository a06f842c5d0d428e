"""Working the escalation queue on DynamoDB: claim with a lease, renew, requeue, transfer, resolve, note,
reply, follow-ups, listings and stats. Keys are described in `keys.py` and infra/resources.yaml.

Two agents never hold one item: a claim is an update conditioned on the item still being open in that
queue, so of two agents racing for the head exactly one write succeeds and the other moves on to the next
candidate. Every other change reads the item, checks who may do what (for a precise 404 or 409), and
writes on condition that the item's `version` is still the one read.
"""

from __future__ import annotations

import contextlib
import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso, parse
from chalicelib.escalations import counts, deadlines, keys
from chalicelib.escalations.errors import EscalationConflict, EscalationNotFound, InvalidRequest
from chalicelib.escalations.priority import SLA_SEVERITY, classification_steps, effective_priority, sla_state
from chalicelib.model import Classification, Post
from chalicelib.publishing import Publishing
from chalicelib.store.dynamo import batch_get, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.policy.model import Queue
else:
    DynamoDBClient = Any

LEASE = timedelta(minutes=10)
"""How long a claim lasts without a renew; the sweep returns an expired item to its queue."""
HEAD = 8
"""Candidates read per shard per claim round: enough that racing agents find a free one in one read."""
CLAIM_ROUNDS = 6
WRITE_RETRIES = 4
OUTCOMES = ("answered", "moved_to_dm", "no_action_needed", "duplicate", "spam_or_abuse")
MAX_TEXT = 2000
MAX_FOLLOW_UPS = 50
"""Follow-up posts kept on the item (later ones still count toward priority); items stay far below 400 KB."""


class EscalationQueue:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        queues: Mapping[str, Queue],
        outbox_table: str,
        lease: timedelta = LEASE,
        platform_limits: Mapping[str, int] | None = None,
        publishing: Publishing | None = None,
    ) -> None:
        """`publishing`: what may go out in public per channel (default: the strict rules, no links)."""
        self._client = client
        self._table = table
        self._queues = queues
        self._outbox = outbox_table
        self.lease = lease
        self._limits = dict(platform_limits or {})
        self._publishing = publishing or Publishing()

    # ----------------------------------------------------------------------------------------- reading

    def queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise InvalidRequest("queue", f"unknown queue {name!r}; valid: {sorted(self._queues)}") from None

    @property
    def queue_names(self) -> list[str]:
        return sorted(self._queues)

    def get(self, escalation_id: str) -> dict[str, Any]:
        got = self._client.get_item(
            TableName=self._table, Key={"escalation_id": {"S": escalation_id}}, ConsistentRead=True
        )
        if "Item" not in got:
            raise EscalationNotFound(f"no escalation {escalation_id!r}")
        return from_item(got["Item"])

    def _shard_head(self, key: str, limit: int, start: dict[str, Any] | None = None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "by_queue",
            "KeyConditionExpression": "queue_shard = :k",
            "ExpressionAttributeValues": {":k": {"S": key}},
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = start
        return dict(self._client.query(**request))

    def _heads(self, queue: Queue, status: str, limit: int) -> list[dict[str, Any]]:
        """The first `limit` items of every shard, merged by rank: the queue's first `limit` items."""
        per_shard = []
        for shard in range(queue.shards):
            got = self._shard_head(keys.queue_shard(queue.name, status, shard), limit)
            per_shard.append([from_item(i) for i in got.get("Items", [])])
        return list(heapq.merge(*per_shard, key=lambda e: e["rank"]))[:limit]

    def list_queue(self, queue: str, status: str = keys.OPEN, limit: int = 50) -> list[dict[str, Any]]:
        """A queue's open (or claimed) items, most urgent first."""
        if status not in keys.LIVE:
            raise InvalidRequest("status", f"{status!r} is not one of {list(keys.LIVE)}")
        if not 1 <= limit <= 500:
            raise InvalidRequest("limit", "must be 1..500")
        return self._heads(self.queue(queue), status, limit)

    def resolved(self, now: datetime, queue: str | None = None, days: int = 1, limit: int = 50) -> list[dict[str, Any]]:
        """Items resolved in the last `days` UTC days (of one queue), newest first, through the by_status
        index; the full items are read by key (the index holds only what SLA statistics need)."""
        if not 1 <= days <= 31:
            raise InvalidRequest("days", "must be 1..31")
        if not 1 <= limit <= 500:
            raise InvalidRequest("limit", "must be 1..500")
        if queue is not None:
            self.queue(queue)
        ids: list[str] = []
        for offset in range(days):
            day = keys.status_day(keys.RESOLVED, now - timedelta(days=offset))
            for item in self._query_all("by_status", "status_day = :d", {":d": day}, ScanIndexForward=False):
                if queue is None or item.get("queue") == queue:
                    ids.append(item["escalation_id"])
            if len(ids) >= limit:
                break
        return self._read_by_id(ids[:limit])

    def _read_by_id(self, ids: list[str], **projection: Any) -> list[dict[str, Any]]:
        """The items of `ids` (in that order; missing ones left out), 100 keys a batch, unprocessed keys retried."""
        got = batch_get(self._client, self._table, [{"escalation_id": {"S": i}} for i in ids], **projection)
        found = {item["escalation_id"]: item for item in map(from_item, got)}
        return [found[i] for i in ids if i in found]

    def live(self, queue: Queue) -> Iterator[dict[str, Any]]:
        """Every open and claimed item of a queue (the sweep and stats read these)."""
        for status in keys.LIVE:
            for shard in range(queue.shards):
                start: dict[str, Any] | None = None
                while True:
                    got = self._shard_head(keys.queue_shard(queue.name, status, shard), 500, start)
                    yield from (from_item(i) for i in got.get("Items", []))
                    start = got.get("LastEvaluatedKey")
                    if not start:
                        break

    def insert(self, item: dict[str, Any]) -> bool:
        """Store a newly built item (see `new_item`) with its counters; False if it exists already. The
        `escalate` action writes the same two records inside the decision's transaction instead."""
        put = {
            "TableName": self._table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(escalation_id)",
        }
        try:
            self._transact([{"Put": put}, *counts.transact_updates(self._table, counts.deltas(None, item))])
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _oldest_open(self, queue: Queue) -> str | None:
        """When the longest-waiting open item was opened. Within a priority, items due first were opened
        first (one SLA per priority), so the head of each priority in each shard is that priority's oldest:
        at most 5 x shards one-item queries, however long the queue."""
        oldest: str | None = None
        for shard in range(queue.shards):
            for priority in range(1, 6):
                got = self._client.query(
                    TableName=self._table,
                    IndexName="by_queue",
                    KeyConditionExpression="queue_shard = :k AND begins_with(#rank, :p)",
                    ExpressionAttributeNames={"#rank": "rank"},
                    ExpressionAttributeValues={
                        ":k": {"S": keys.queue_shard(queue.name, keys.OPEN, shard)},
                        ":p": {"S": f"{priority}#"},
                    },
                    Limit=1,
                )
                for raw in got.get("Items", []):
                    created = raw["created_at"]["S"]
                    oldest = created if oldest is None else min(oldest, created)
        return oldest

    def _query_all(self, index: str, condition: str, values: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
            **extra,
        )
        return [from_item(i) for page in pages for i in page.get("Items", [])]

    def held_by(self, agent: str) -> list[dict[str, Any]]:
        """What an agent holds now, the lease that runs out first first."""
        return self._query_all("by_agent", "#agent = :a", {":a": agent}, ExpressionAttributeNames={"#agent": "agent"})

    def in_incident(self, incident_id: str) -> list[str]:
        found = self._query_all("by_incident", "incident_id = :i", {":i": incident_id})
        return [e["escalation_id"] for e in found]

    def open_for_conversation(self, platform: str, conversation_id: str) -> str | None:
        """The id of the conversation's live escalation (the newest, should there be several)."""
        key = keys.conversation_key(platform, conversation_id)
        found = self._query_all("by_conversation", "conversation_key = :c", {":c": key}, ScanIndexForward=False)
        return next((e["escalation_id"] for e in found if e.get("status") in keys.LIVE), None)

    def index_authors(self, apply: bool = True) -> tuple[int, int]:
        """Give items opened before the by_author index their `author_key` (a one-off after an upgrade), so a
        customer's earlier cases are found from their newer ones. A scan (keys and the author only); each update
        is conditional: never on an item that has a key or was forgotten (`carewire forget` removed its key on
        purpose). Returns (items read, items given a key — or that would be, when not `apply`)."""
        paginator = self._client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            ProjectionExpression="escalation_id, author_key, forgotten_at, post.platform, post.author.id",
        )
        read = added = 0
        for page in pages:
            for raw in page.get("Items", []):
                item = from_item(raw)
                post = item.get("post")
                if not post:  # the queues' counters share the table
                    continue
                read += 1
                key = keys.author_key(str(post.get("platform") or ""), str((post.get("author") or {}).get("id") or ""))
                if key is None or "author_key" in item or "forgotten_at" in item:
                    continue
                if apply:
                    try:
                        self._client.update_item(
                            TableName=self._table,
                            Key={"escalation_id": {"S": item["escalation_id"]}},
                            UpdateExpression="SET author_key = :k",
                            ConditionExpression=(
                                "attribute_exists(escalation_id) AND attribute_not_exists(author_key) "
                                "AND attribute_not_exists(forgotten_at)"
                            ),
                            ExpressionAttributeValues={":k": {"S": key}},
                        )
                    except self._client.exceptions.ConditionalCheckFailedException:
                        continue  # keyed or forgotten meanwhile
                added += 1
        return read, added

    CASE_FIELDS = (
        "escalation_id, #status, #queue, outcome, created_at, resolved_at, classification.topic, "
        "post.conversation_id, post.#text, post.channel"
    )

    def cases_of(self, platform: str, author_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """One customer's cases on one platform, newest first, at most `limit`: one query on the sparse
        by_author index (keys only) and one batch read of the fields a list shows. Items opened before the
        index existed carry no author key and are not found."""
        key = keys.author_key(platform, author_id)
        if key is None:
            return []
        got = self._client.query(
            TableName=self._table,
            IndexName="by_author",
            KeyConditionExpression="author_key = :a",
            ExpressionAttributeValues={":a": {"S": key}},
            ScanIndexForward=False,
            Limit=limit,
        )
        ids = [raw["escalation_id"]["S"] for raw in got.get("Items", [])]
        return self._read_by_id(
            ids,
            ProjectionExpression=self.CASE_FIELDS,
            ExpressionAttributeNames={"#status": "status", "#queue": "queue", "#text": "text"},
        )

    # ------------------------------------------------------------------------------------------ claims

    def claim_next(self, queue: str, agent: str, now: datetime) -> dict[str, Any] | None:
        """Assign the most urgent open item of `queue` to `agent` with a lease; None when the queue is empty.
        Raises EscalationConflict only if other agents took every candidate in CLAIM_ROUNDS reads."""
        q = self.queue(queue)
        lost: set[str] = set()
        for _ in range(CLAIM_ROUNDS):
            heads = self._heads(q, keys.OPEN, HEAD)
            if not heads:
                return None
            # The index can lag a write: skip what was just taken. After losing a race, spread out over
            # the candidates of the head's priority instead of queueing behind every other agent for the
            # next one: within a priority only due times (minutes apart) differ.
            candidates = [c for c in heads if c["escalation_id"] not in lost]
            if lost:
                candidates = _spread(candidates)
            while candidates:
                candidate = candidates.pop(0)
                claimed = self._try_claim(q, candidate, agent, now)
                if claimed is not None:
                    return claimed
                lost.add(candidate["escalation_id"])
                if len(lost) == 1:
                    candidates = _spread(candidates)
        raise EscalationConflict(f"queue {queue!r} is busy: every candidate went to another agent; try again")

    def _try_claim(self, queue: Queue, candidate: dict[str, Any], agent: str, now: datetime) -> dict[str, Any] | None:
        """Claim `candidate` if it is still open with the priority and SLA state the index showed (what its
        counters depend on), in one transaction with the queue's counters."""
        shard = int(str(candidate["queue_shard"]).rsplit("#", 1)[1])
        after = {
            **candidate,
            "status": keys.CLAIMED,
            "queue_status": keys.queue_status(queue.name, keys.CLAIMED),
            "queue_shard": keys.queue_shard(queue.name, keys.CLAIMED, shard),
            "agent": agent,
            "lease_until": iso(now + self.lease),
            "claimed_at": iso(now),
            "updated_at": iso(now),
            "status_day": keys.status_day(keys.CLAIMED, now),
        }
        update = {
            "TableName": self._table,
            "Key": {"escalation_id": {"S": candidate["escalation_id"]}},
            "ConditionExpression": "queue_status = :open AND priority = :p AND sla_state = :sla",
            "UpdateExpression": (
                "SET #status = :claimed, queue_status = :qs, queue_shard = :shard, #agent = :agent, "
                "lease_until = :lease, claimed_at = :now, updated_at = :now, status_day = :day "
                "ADD #version :one, claims :one"
            ),
            "ExpressionAttributeNames": {"#status": "status", "#agent": "agent", "#version": "version"},
            "ExpressionAttributeValues": to_item(
                {
                    ":open": keys.queue_status(queue.name, keys.OPEN),
                    ":p": int(candidate["priority"]),
                    ":sla": candidate.get("sla_state", "ok"),
                    ":claimed": keys.CLAIMED,
                    ":qs": after["queue_status"],
                    ":shard": after["queue_shard"],
                    ":agent": agent,
                    ":lease": after["lease_until"],
                    ":now": iso(now),
                    ":day": after["status_day"],
                    ":one": 1,
                }
            ),
        }
        try:
            self._transact([{"Update": update}, *counts.transact_updates(self._table, counts.deltas(candidate, after))])
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return self.get(candidate["escalation_id"])

    # ----------------------------------------------------------------------- read, check, write on version

    def _change(
        self, escalation_id: str, plan: Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]] | None]
    ) -> dict[str, Any]:
        """Read the item, let `plan` check it (raising 404/409/400 errors) and return (SET values, REMOVE
        names), and write on condition the version is unchanged; re-read and re-plan if it changed."""
        for _ in range(WRITE_RETRIES):
            item = self.get(escalation_id)
            planned = plan(item)
            if planned is None:
                return item
            try:
                return self._write(item, *planned)
            except self._client.exceptions.ConditionalCheckFailedException:
                continue
        raise EscalationConflict(f"escalation {escalation_id!r} keeps changing under this request; try again")

    def _write(self, item: dict[str, Any], sets: dict[str, Any], removes: list[str]) -> dict[str, Any]:
        request = self._update_request(item, sets, removes)
        after = {k: v for k, v in {**item, **sets}.items() if k not in removes}
        changes = counts.deltas(item, after)
        if not changes:
            got = self._client.update_item(**request, ReturnValues="ALL_NEW")
            return from_item(got["Attributes"])
        self._transact([{"Update": request}, *counts.transact_updates(self._table, changes)])
        return from_item(to_item({**after, "version": int(item["version"]) + 1}))

    def _transact(self, entries: list[dict[str, Any]]) -> None:
        """Write an item change with its counters; a failed item condition raises like a plain conditional
        write does (ConditionalCheckFailedException), so every caller retries or reports it the same way."""
        try:
            self._client.transact_write_items(TransactItems=entries)  # type: ignore[arg-type]
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] in ("ConditionalCheckFailed", "TransactionConflict"):
                raise self._client.exceptions.ConditionalCheckFailedException(
                    {"Error": {"Code": "ConditionalCheckFailedException", "Message": "the item changed"}},
                    "TransactWriteItems",
                ) from exc
            raise

    def _update_request(self, item: dict[str, Any], sets: dict[str, Any], removes: list[str]) -> dict[str, Any]:
        names = {f"#a{i}": name for i, name in enumerate(sets)}
        names.update({f"#r{i}": name for i, name in enumerate(removes)})
        names["#version"] = "version"
        values = {f":a{i}": value for i, value in enumerate(sets.values())}
        values.update({":v": item["version"], ":one": 1})
        expression = "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(sets))) + " ADD #version :one"
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        return {
            "TableName": self._table,
            "Key": {"escalation_id": {"S": item["escalation_id"]}},
            "ConditionExpression": "#version = :v",
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }

    @staticmethod
    def _must_hold(item: dict[str, Any], agent: str, force: bool) -> None:
        if item["status"] != keys.CLAIMED:
            if force and item["status"] == keys.OPEN:
                return
            raise EscalationConflict(f"escalation {item['escalation_id']!r} is {item['status']}, not claimed")
        if item.get("agent") != agent and not force:
            raise EscalationConflict(f"escalation {item['escalation_id']!r} is held by {item.get('agent')!r}")

    def _open_in(self, item: dict[str, Any], queue: Queue, now: datetime) -> tuple[dict[str, Any], list[str]]:
        """SET/REMOVE that put an item back as open in `queue` (requeue, transfer, expired lease)."""
        shard = keys.shard_of(item["escalation_id"], queue.shards)
        sets = {
            "status": keys.OPEN,
            "queue": queue.name,
            "queue_status": keys.queue_status(queue.name, keys.OPEN),
            "queue_shard": keys.queue_shard(queue.name, keys.OPEN, shard),
            "rank": keys.rank(int(item["priority"]), item["due_at"]),
            "updated_at": iso(now),
            "status_day": keys.status_day(keys.OPEN, now),
        }
        return sets, ["agent", "lease_until"]

    @staticmethod
    def _note(agent: str, text: str, now: datetime) -> dict[str, Any]:
        return {"at": iso(now), "by": agent, "text": text}

    def renew(self, escalation_id: str, agent: str, now: datetime) -> dict[str, Any]:
        """Extend the holder's lease by a full lease from now."""

        def plan(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            self._must_hold(item, agent, force=False)
            return {"lease_until": iso(now + self.lease), "updated_at": iso(now)}, []

        return self._change(escalation_id, plan)

    def requeue(self, escalation_id: str, agent: str, now: datetime, force: bool = False) -> dict[str, Any]:
        """Give a claimed item back to its queue (the holder, or a supervisor with `force`)."""

        def plan(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            self._must_hold(item, agent, force)
            return self._open_in(item, self.queue(item["queue"]), now)

        return self._change(escalation_id, plan)

    def transfer(
        self, escalation_id: str, to_queue: str, agent: str, now: datetime, note: str = "", force: bool = False
    ) -> dict[str, Any]:
        """Move an open item, or one the agent holds, to another queue as open; the SLA clock keeps running."""
        target = self.queue(to_queue)

        def plan(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            if item["status"] != keys.OPEN:
                self._must_hold(item, agent, force)
            if item["queue"] == target.name:
                raise InvalidRequest("queue", f"escalation is already in {target.name!r}")
            sets, removes = self._open_in(item, target, now)
            text = f"transferred from {item['queue']} to {target.name}" + (f": {note}" if note else "")
            sets["notes"] = [*item.get("notes", []), self._note(agent, text, now)]
            return sets, removes

        return self._change(escalation_id, plan)

    def resolve(
        self, escalation_id: str, agent: str, outcome: str, now: datetime, force: bool = False
    ) -> dict[str, Any]:
        """Close an item with an outcome. The SLA was met if the first reply *delivered* (or, with no reply
        at all, this) came by `due_at`. A reply still queued (or failing) leaves `sla_met` open, marked
        `sla_awaits_delivery`: its delivery decides it (`mark_answered`); one never delivered never meets it."""
        if outcome not in OUTCOMES:
            raise InvalidRequest("outcome", f"{outcome!r} is not one of {list(OUTCOMES)}")

        def plan(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            self._must_hold(item, agent, force)
            answered = item.get("first_response_at") or (None if item.get("replies") else iso(now))
            sets: dict[str, Any] = {
                "status": keys.RESOLVED,
                "queue_status": keys.queue_status(item["queue"], keys.RESOLVED),
                "status_day": keys.status_day(keys.RESOLVED, now),
                "updated_at": iso(now),
                "resolved_at": iso(now),
                "resolved_by": agent,
                "outcome": outcome,
            }
            if answered is None:
                sets["sla_awaits_delivery"] = True
            else:
                sets["sla_met"] = answered <= item["due_at"]
            return sets, ["queue_shard", "rank", "agent", "lease_until"]

        return self._change(escalation_id, plan)

    def note(self, escalation_id: str, agent: str, text: str, now: datetime) -> dict[str, Any]:
        """Add a note for colleagues (any agent, any status)."""
        text = _text(text)
        try:
            got = self._client.update_item(
                TableName=self._table,
                Key={"escalation_id": {"S": escalation_id}},
                ConditionExpression="attribute_exists(escalation_id)",
                UpdateExpression="SET #notes = list_append(if_not_exists(#notes, :none), :note) ADD #version :one",
                ExpressionAttributeNames={"#notes": "notes", "#version": "version"},
                ExpressionAttributeValues=to_item({":none": [], ":note": [self._note(agent, text, now)], ":one": 1}),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise EscalationNotFound(f"no escalation {escalation_id!r}") from None
        return from_item(got["Attributes"])

    def link_incident(self, escalation_id: str, incident_id: str) -> dict[str, Any]:
        """Attach an item to an incident (a storm), so the whole incident can be listed and worked."""
        return self._change(escalation_id, lambda item: ({"incident_id": incident_id}, []))

    # ------------------------------------------------------------------------------------------- replies

    def reply(
        self,
        escalation_id: str,
        agent: str,
        text: str,
        now: datetime,
        private: bool | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """Queue the agent's answer in the outbox (pending, author = the agent) and list it on the item
        (`replies`, and `reply_queued_at` the first time), in one transaction. The SLA's first response is
        when a reply is *delivered* (`mark_answered`), not this. Public replies must pass the brand's content
        rules (chalicelib/publishing.py: no personal data, links only to the brand's domains, no markup, few
        mentions) and fit the platform.

        The item's id derives from the escalation, the post answered and the text: the same answer sent
        twice (a retried request, a double click) is one item, returned again with `duplicate: true`."""
        from chalicelib.delivery.text import text_length
        from chalicelib.outbox import OutboxRejected, outbox_item

        text = _text(text)
        for _ in range(WRITE_RETRIES):
            item = self.get(escalation_id)
            self._must_hold(item, agent, force)
            latest = (item.get("follow_ups") or [{}])[-1].get("post") or item["post"]
            is_private = bool(private) if private is not None else bool(item["post"].get("is_dm"))
            limit = self._limits.get(latest["platform"])
            if not is_private and (problems := self._publishing.problems(text, latest["channel"])):
                raise InvalidRequest("text", "not publishable in a public reply: " + "; ".join(problems))
            length = text_length(text, latest["platform"])
            if not is_private and limit and length > limit:
                raise InvalidRequest("text", f"{length} characters; {latest['platform']} allows {limit}")
            try:
                doc = outbox_item(
                    contacts=self._publishing.for_channel(latest["channel"]),
                    kind="agent_reply",
                    key=(escalation_id, latest["key"], text),
                    channel=latest["channel"],
                    platform=latest["platform"],
                    created_at=iso(now),
                    text=text,
                    private=is_private,
                    in_reply_to_post_id=latest["post_id"],
                    conversation_id=latest["conversation_id"],
                    recipient_id=str((latest.get("author") or {}).get("id") or ""),
                    customer_at=str(latest.get("created_at") or ""),
                    rule=item["rule"],
                    author=agent,
                    escalation_id=escalation_id,
                )
            except OutboxRejected as exc:
                raise InvalidRequest(exc.field, exc.message) from None
            sets = {
                "reply_queued_at": item.get("reply_queued_at") or iso(now),
                "replies": [*item.get("replies", []), {"reply_id": doc["reply_id"], "at": iso(now), "by": agent}],
                "updated_at": iso(now),
            }
            update = self._update_request(item, sets, [])
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {"Update": update},  # type: ignore[typeddict-item]
                        {
                            "Put": {
                                "TableName": self._outbox,
                                "Item": to_item(doc),
                                "ConditionExpression": "attribute_not_exists(reply_id)",
                            }
                        },
                    ]
                )
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    return {**doc, "duplicate": True}  # the same answer is already in the outbox
                continue  # the item changed between read and write: read again and re-check who holds it
            return doc
        raise EscalationConflict(f"escalation {escalation_id!r} keeps changing under this reply; try again")

    def mark_answered(self, escalation_id: str, reply_id: str, platform_id: str, now: datetime) -> None:
        """The delivery stage reports an agent's answer delivered: the item records when the customer was
        answered — the SLA's first response (`first_response_at`, the first time) — and which reply got there.
        Any status: a resolved item keeps the fact, and one resolved while its reply was still queued gets its
        `sla_met` now. Two UpdateItems at most, no read (the sender may only update escalations)."""
        try:
            got = self._client.update_item(
                TableName=self._table,
                Key={"escalation_id": {"S": escalation_id}},
                ConditionExpression="attribute_exists(escalation_id)",
                UpdateExpression=(
                    "SET answered_at = if_not_exists(answered_at, :now), "
                    "first_response_at = if_not_exists(first_response_at, :now), last_delivered = :d, "
                    "updated_at = :now ADD #version :one"
                ),
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=to_item(
                    {
                        ":now": iso(now),
                        ":d": {"reply_id": reply_id, "platform_id": platform_id, "at": iso(now)},
                        ":one": 1,
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise EscalationNotFound(f"no escalation {escalation_id!r}") from None
        item = from_item(got["Attributes"])
        if item.get("sla_awaits_delivery"):
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._client.update_item(
                    TableName=self._table,
                    Key={"escalation_id": {"S": escalation_id}},
                    ConditionExpression="attribute_exists(sla_awaits_delivery)",
                    UpdateExpression="SET sla_met = :met REMOVE sla_awaits_delivery ADD #version :one",
                    ExpressionAttributeNames={"#version": "version"},
                    ExpressionAttributeValues=to_item({":met": item["first_response_at"] <= item["due_at"], ":one": 1}),
                )

    # ---------------------------------------------------------------------------------------------- sweep

    def sweep_item(self, item: dict[str, Any], now: datetime) -> tuple[bool, str | None]:
        """Return an expired lease to the queue and move the SLA state on (bumping priority), in one write
        conditioned on the version read. Returns (lease expired, new SLA state or None); (False, None) when
        nothing was due or the item changed since it was read (the next sweep sees it again)."""
        expired = item["status"] == keys.CLAIMED and item.get("lease_until", "") <= iso(now)
        current = item.get("sla_state", "ok")
        state = sla_state(item, now)
        worse = SLA_SEVERITY.index(state) > SLA_SEVERITY.index(current)
        if not (expired or worse):
            return False, None
        sets: dict[str, Any] = {"updated_at": iso(now)}
        removes: list[str] = []
        if expired:
            sets, removes = self._open_in(item, self._queues.get(item["queue"]) or self.queue(item["queue"]), now)
            sets["notes"] = [*item.get("notes", []), self._note("sweep", f"lease of {item.get('agent')} expired", now)]
        if worse:
            priority = effective_priority(int(item["base_priority"]), int(item.get("classification_steps", 0)), state)
            sets.update(sla_state=state, priority=priority, rank=keys.rank(priority, item["due_at"]))
            sets[f"{state}_at"] = iso(now)
        try:
            self._write(item, sets, removes)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False, None
        return expired, state if worse else None

    # ----------------------------------------------------------------------------------------- follow-ups

    def add_follow_up(
        self,
        conversation_id: str,
        post: Post,
        classification: Classification,
        now: datetime,
        escalation_id: str | None = None,
    ) -> str | None:
        """Attach `post` to the conversation's open or claimed escalation (or to `escalation_id`: the same
        customer's case from another conversation) and recompute its priority (and, unless the rule fixed the
        SLA, its deadline: never later than promised). Returns the escalation id, or None when there is no
        live escalation to join. Attaching the same post twice is a no-op."""
        escalation_id = escalation_id or self.open_for_conversation(post.platform, conversation_id)
        if escalation_id is None:
            return None
        doc = classification.to_doc()
        live = True

        def plan(item: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
            nonlocal live
            if item["status"] not in keys.LIVE:
                live = False
                return None
            if post.key == item["post"]["key"] or post.key in item.get("follow_up_keys", []):
                return None
            steps = max(int(item.get("classification_steps", 0)), classification_steps(doc))
            priority = effective_priority(int(item["base_priority"]), steps, item.get("sla_state", "ok"))
            due_at, at_risk_at = item["due_at"], item["at_risk_at"]
            queue = self._queues.get(item["queue"])
            if queue is not None and not item.get("sla_fixed"):
                sla = deadlines(queue, priority, parse(item["created_at"]))
                due_at, at_risk_at = min(due_at, sla["due_at"]), min(at_risk_at, sla["at_risk_at"])
            follow_ups = list(item.get("follow_ups", []))
            if len(follow_ups) < MAX_FOLLOW_UPS:
                follow_ups.append({"at": iso(now), "post": post.to_doc(), "classification": doc})
            sets = {
                "follow_ups": follow_ups,
                "follow_up_keys": [*item.get("follow_up_keys", []), post.key],
                "classification_steps": steps,
                "priority": priority,
                "due_at": due_at,
                "at_risk_at": at_risk_at,
                "rank": keys.rank(priority, due_at),
                "updated_at": iso(now),
            }
            return sets, []

        try:
            self._change(escalation_id, plan)
        except EscalationNotFound:
            return None
        return escalation_id if live else None

    # ---------------------------------------------------------------------------------------------- stats

    def stats(self, now: datetime, days: int = 1) -> dict[str, Any]:
        """Open and claimed items by queue and priority, the oldest wait, SLA states, and SLA compliance of
        the items resolved in the last `days` UTC days (today included). Counts come from the queues'
        counters (chalicelib/escalations/counts.py), never from reading the items; the oldest wait from the
        head of each priority in each shard."""
        if not 1 <= days <= 31:
            raise InvalidRequest("days", "must be 1..31")
        queues: dict[str, Any] = {}
        live = counts.read(self._client, self._table, self.queue_names)
        for name in self.queue_names:
            counters = live.get(name, {})
            by_status: Counter[str] = Counter()
            by_priority: Counter[str] = Counter()
            by_sla: Counter[str] = Counter()
            for counter, n in counters.items():
                if not n:
                    continue
                if counter.startswith("n_"):
                    _, status, priority = counter.split("_", 2)
                    by_status[status] += n
                    by_priority[priority] += n
                elif counter.startswith("sla_"):
                    by_sla[counter[4:]] += n
            oldest = self._oldest_open(self._queues[name]) if by_status[keys.OPEN] else None
            queues[name] = {
                "open": by_status[keys.OPEN],
                "claimed": by_status[keys.CLAIMED],
                "by_priority": dict(sorted(by_priority.items())),
                "sla_state": dict(sorted(by_sla.items())),
                "oldest_created_at": oldest,
                "oldest_wait_seconds": int((now - parse(oldest)).total_seconds()) if oldest else 0,
            }
        resolved: dict[str, Counter[str]] = defaultdict(Counter)
        for offset in range(days):
            day = keys.status_day(keys.RESOLVED, now - timedelta(days=offset))
            for item in self._query_all("by_status", "status_day = :d", {":d": day}):
                resolved[item["queue"]]["resolved"] += 1
                resolved[item["queue"]]["met"] += 1 if item.get("sla_met") else 0
                # no `sla_met` yet: resolved while its reply was queued (the index projects sla_met, not the flag)
                resolved[item["queue"]]["awaiting"] += 0 if "sla_met" in item else 1
        compliance = {
            name: {
                "resolved": c["resolved"],
                "met": c["met"],
                "awaiting_delivery": c["awaiting"],
                "compliance": round(c["met"] / decided, 4) if (decided := c["resolved"] - c["awaiting"]) else None,
            }
            for name, c in sorted(resolved.items())
        }
        total = sum(c["resolved"] for c in resolved.values())
        met = sum(c["met"] for c in resolved.values())
        awaiting = sum(c["awaiting"] for c in resolved.values())
        return {
            "at": iso(now),
            "queues": queues,
            "sla": {
                "days": days,
                "by_queue": compliance,
                "resolved": total,
                "met": met,
                "awaiting_delivery": awaiting,
                "compliance": round(met / (total - awaiting), 4) if total - awaiting else None,
            },
        }


def _spread(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates sharing the first one's priority in random order, then the rest in rank order."""
    if not candidates:
        return candidates
    head = str(candidates[0]["rank"]).split("#", 1)[0]
    same = [c for c in candidates if str(c["rank"]).split("#", 1)[0] == head]
    random.shuffle(same)
    return same + candidates[len(same) :]


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("text", "must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise InvalidRequest("text", f"at most {MAX_TEXT} characters")
    return text.strip()

"""Storm detection: per-key post rates against their baseline, and incidents that group a storm.

A key is (brand, topic, region): a post about a storm topic (policies/storms.yaml) counts once for its most
specific region, once for each parent region (`region_parents`), and once brand-wide (`*`). Counts live in
per-minute buckets in the storms table (an atomic ADD: many processors count at once without a
read-modify-write race; TTL drops old buckets).

When a key's count in the last `window_minutes` is at least `floor` and would be a Poisson surprise
(tail probability below `surprise`) against its baseline — the EWMA of its per-minute counts over the
`baseline_minutes` before the window, never below `min_rate` so a quiet region does not alarm on three
posts — an incident opens. Opening is one conditional transaction on the key's open-incident lock, so
exactly one processor opens it however many see the rise; the opener then raises the alert, opens the
incident escalation and drafts a notice (`IncidentSetup`); the sweep finishes a setup a crash cut short.
The sweep closes an incident once its key has been back under the threshold for `quiet_minutes`.

Table layout (pk / sk):
  rate#<key> / <minute>                 n (ADD), expires_at
  open#<key> / open                     incident_id: the lock; deleted when the incident closes
  incident#<id> / incident              the incident: key, topic, region, status, posts, times, setup
  incident#<id> / post#<post_key>       a post attached to it (for the notice answer and examples)
  incidents / <opened_at>#<id>          listing, newest first
  first#<brand>#<topic> / first         when the brand's posts on the topic were first seen (warm-up)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from chalicelib.clock import iso, parse
from chalicelib.store.dynamo import batch_get

if TYPE_CHECKING:
    from chalicelib.model import Classification, Post

ANYWHERE = "*"
CACHE_SECONDS = 10
"""How long a processor trusts what it last read of a key's open incident (per container)."""


class StormConfigError(ValueError):
    """policies/storms.yaml is not valid; every problem is named with the file and the key."""


@dataclass(frozen=True)
class StormConfig:
    topics: tuple[str, ...] = ("outage",)
    window_minutes: int = 5
    baseline_minutes: int = 60
    floor: int = 10
    surprise: float = 1e-4
    min_rate: float = 0.2
    quiet_minutes: int = 15
    link_window_hours: int = 24
    """The same customer repeating a complaint in another conversation within this window joins their case."""
    link_similarity: float = 0.3
    """How alike (signature similarity) the repeat must be to the case's first post."""
    warmup_minutes: int = 30
    """No incident opens until Carewire has seen the brand's posts on a topic for this long: before that
    there is no baseline, and any steady stream would look like a storm."""
    queue: str = "network"
    priority: int = 1
    region_parents: Mapping[str, str] = field(default_factory=dict)
    draft_keywords: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"outage": ("outage", "no signal", "no internet", "down")}
    )
    """Per topic, the keywords the drafted notice starts with (marketers edit them before publishing)."""

    @classmethod
    def load(cls, policies_dir: Path) -> StormConfig:
        path = Path(policies_dir) / "storms.yaml"
        if not path.exists():
            return cls()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise StormConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise StormConfigError(f"{path}: must be a mapping")
        errors: list[str] = []
        values: dict[str, Any] = {}
        for name, value in doc.items():
            parsed, problem = _setting(name, value)
            if problem:
                errors.append(f"{path}: {problem}")
            else:
                values[name] = parsed
        if isinstance(values.get("region_parents"), dict):
            errors += [
                f"{path}: region_parents: {loop} is its own ancestor" for loop in _loops(values["region_parents"])
            ]
        if errors:
            raise StormConfigError("\n".join(errors))
        return cls(**values)

    def regions_of(self, regions: Sequence[str]) -> list[str]:
        """The post's regions with their ancestors, most specific first, then `*`; each once."""
        chain: list[str] = []
        for leaf in regions:
            region, seen = leaf, 0
            while region and region not in chain and seen < 10:
                chain.append(region)
                region = self.region_parents.get(region, "")
                seen += 1
        return [*chain, ANYWHERE]


_INTS = {
    "window_minutes": (1, 60),
    "baseline_minutes": (5, 1440),
    "floor": (2, 100000),
    "quiet_minutes": (1, 1440),
    "warmup_minutes": (0, 1440),
    "link_window_hours": (0, 720),
    "priority": (1, 5),
}
_KNOWN = (*_INTS, "surprise", "min_rate", "link_similarity", "topics", "queue", "region_parents", "draft_keywords")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _setting(name: str, value: Any) -> tuple[Any, str | None]:
    """(the parsed value, None) or (None, what is wrong) for one storms.yaml setting."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name in _INTS:
        low, high = _INTS[name]
        if not number or not isinstance(value, int) or not low <= value <= high:
            return None, f"{name}: a whole number from {low} to {high}, not {value!r}"
        return value, None
    if name == "surprise":
        return (
            (float(value), None)
            if number and 0 < value < 1
            else (None, f"surprise: a number between 0 and 1, not {value!r}")
        )
    if name == "link_similarity":
        ok = number and 0 < value <= 1
        return (float(value), None) if ok else (None, f"link_similarity: a number above 0, at most 1, not {value!r}")
    if name == "min_rate":
        return (
            (float(value), None)
            if number and 0 < value <= 1000
            else (None, f"min_rate: a number above 0, not {value!r}")
        )
    if name == "topics":
        return (tuple(value), None) if _strings(value) and value else (None, "topics: a non-empty list of topic names")
    if name == "queue":
        return (value, None) if isinstance(value, str) and value else (None, "queue: a queue name from queues.yaml")
    if name == "region_parents":
        ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        return (dict(value), None) if ok else (None, "region_parents: a mapping of region to its parent region")
    if name == "draft_keywords":
        ok = isinstance(value, dict) and all(isinstance(k, str) and _strings(v) for k, v in value.items())
        if not ok:
            return None, "draft_keywords: a mapping of topic to a list of keywords"
        return {k: tuple(v) for k, v in value.items()}, None
    from chalicelib.policy.fields import suggest

    near = suggest(str(name), _KNOWN)
    return None, f"unknown setting {name!r}; {f'did you mean {near!r}? ' if near else ''}known: {', '.join(_KNOWN)}"


def _loops(parents: Mapping[str, str]) -> list[str]:
    loops = []
    for start in parents:
        region, steps = parents.get(start), 0
        while region is not None and steps <= len(parents):
            if region == start:
                loops.append(start)
                break
            region, steps = parents.get(region), steps + 1
    return loops


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu); summed from k upward when that is the small side, so tiny tails keep
    their precision."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if k <= mu:
        term, below = math.exp(-mu), 0.0
        for i in range(k):
            below += term
            term *= mu / (i + 1)
        return max(0.0, 1.0 - below)
    term = math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1))
    total, i = 0.0, k
    while term > total * 1e-17 and i < k + 10000:
        total += term
        i += 1
        term *= mu / i
    return min(1.0, total)


def ewma(series: Sequence[int], span: int) -> float:
    """Exponentially weighted mean, oldest first, started from the mean of the first ten values (so one
    odd first minute does not set the level)."""
    if not series:
        return 0.0
    alpha = 2 / (span + 1)
    head = series[:10]
    level = sum(head) / len(head)
    for value in series[len(head) :]:
        level = alpha * value + (1 - alpha) * level
    return level


def _minute(moment: datetime) -> str:
    return iso(moment)[:16]  # 2026-11-23T09:30


def _s(value: str) -> dict[str, str]:
    return {"S": value}


@dataclass(frozen=True)
class Rise:
    """What a key's rate looks like now."""

    window_count: int
    baseline_per_minute: float
    expected: float
    tail: float
    is_storm: bool


IncidentSetup = Callable[[dict[str, Any]], None]
"""Called once an incident is opened (by the opener, or the sweep after a crash): alert, escalation,
draft notice. Must be idempotent: each of its writes is keyed on the incident id."""


class StormWatch:
    def __init__(
        self,
        client: Any,
        table: str,
        config: StormConfig,
        setup: IncidentSetup | None = None,
    ) -> None:
        self._client = client
        self._table = table
        self.config = config
        self._setup = setup
        self._cache: dict[str, tuple[dict[str, Any] | None, datetime]] = {}
        self._first_seen: dict[str, datetime] = {}
        self.calls = 0
        """DynamoDB calls made (the bench's cost per post)."""

    # -------------------------------------------------------------------------------------------- observe

    def observe(self, brand: str, post: Post, classification: Classification, now: datetime) -> dict[str, Any] | None:
        """Count the post for its keys; open an incident on a storm. The most specific open incident, or None."""
        if classification.topic not in self.config.topics or classification.spam:
            return None
        if not (classification.addressed_to_brand or post.is_dm):
            return None
        found: dict[str, Any] | None = None
        chain = self.config.regions_of(classification.regions)
        keys = [f"{brand}#{classification.topic}#{region}" for region in chain]
        warm = self._warm(f"{brand}#{classification.topic}", now)
        for n, key in enumerate(keys):
            count = self._count(key, now)
            incident = self._open_incident(key, now)
            if incident is None and found is None and warm and count >= self._gate():
                incident = self._maybe_open(key, keys[n + 1 :], classification, now)
            # a post that names no region joins the storm; one from another region does not
            joins = len(chain) == 1 or (incident or {}).get("region") in (None, *chain)
            if found is None and incident is not None and joins:
                found = incident
        return found

    def _warm(self, brand_topic: str, now: datetime) -> bool:
        """Whether the brand's posts on this topic have been seen for `warmup_minutes` (the first sighting is
        stored once, conditionally; each container reads it once)."""
        first = self._first_seen.get(brand_topic)
        if first is None:
            self.calls += 1
            key = {"pk": _s(f"first#{brand_topic}"), "sk": _s("first")}
            got = self._client.get_item(TableName=self._table, Key=key)
            if "Item" in got:
                first = parse(got["Item"]["at"]["S"])
            else:
                self.calls += 1
                try:
                    self._client.put_item(
                        TableName=self._table,
                        Item={**key, "at": _s(iso(now))},
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                    first = now
                except self._client.exceptions.ConditionalCheckFailedException:
                    got = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)
                    first = parse(got["Item"]["at"]["S"])
            self._first_seen[brand_topic] = first
        return now - first >= timedelta(minutes=self.config.warmup_minutes)

    def _gate(self) -> int:
        """A storm needs `floor` posts in the window, so some minute of it has at least floor / window: below
        that the rate is not even read."""
        return max(1, math.ceil(self.config.floor / self.config.window_minutes))

    def _count(self, key: str, now: datetime) -> int:
        keep = timedelta(minutes=self.config.baseline_minutes + self.config.window_minutes) + timedelta(days=1)
        self.calls += 1
        got = self._client.update_item(
            TableName=self._table,
            Key={"pk": _s(f"rate#{key}"), "sk": _s(_minute(now))},
            UpdateExpression="ADD n :one SET expires_at = :exp",
            ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str(int((now + keep).timestamp()))}},
            ReturnValues="UPDATED_NEW",
        )
        return int(got["Attributes"]["n"]["N"])

    def rise(self, key: str, now: datetime) -> Rise:
        """The window's count against the key's baseline."""
        cfg = self.config
        start = now - timedelta(minutes=cfg.baseline_minutes + cfg.window_minutes - 1)
        self.calls += 1
        got = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": _s(f"rate#{key}"),
                ":a": _s(_minute(start)),
                ":b": _s(_minute(now)),
            },
        )
        counts = {i["sk"]["S"]: int(i["n"]["N"]) for i in got.get("Items", [])}
        minutes = [_minute(start + timedelta(minutes=m)) for m in range(cfg.baseline_minutes + cfg.window_minutes)]
        series = [counts.get(m, 0) for m in minutes]
        baseline, window = series[: cfg.baseline_minutes], series[cfg.baseline_minutes :]
        first = self._first_seen.get(key.rsplit("#", 1)[0])
        if first is not None:  # minutes before Carewire saw the brand's posts are unknown, not quiet
            seen = [m >= _minute(first) for m in minutes[: cfg.baseline_minutes]]
            baseline = [count for count, known in zip(baseline, seen, strict=True) if known]
        level = max(ewma(baseline, cfg.baseline_minutes), cfg.min_rate)
        expected = level * cfg.window_minutes
        observed = sum(window)
        tail = poisson_tail(observed, expected)
        return Rise(observed, level, expected, tail, observed >= cfg.floor and tail < cfg.surprise)

    # ------------------------------------------------------------------------------------------- incidents

    def _open_incident(self, key: str, now: datetime, fresh: bool = False) -> dict[str, Any] | None:
        cached = self._cache.get(key)
        if not fresh and cached is not None and now - cached[1] < timedelta(seconds=CACHE_SECONDS):
            return cached[0]
        self.calls += 1
        got = self._client.get_item(
            TableName=self._table, Key={"pk": _s(f"open#{key}"), "sk": _s("open")}, ConsistentRead=fresh
        )
        incident = None
        if "Item" in got:
            incident = _incident_doc(got["Item"])
        self._cache[key] = (incident, now)
        return incident

    def _maybe_open(
        self, key: str, ancestors: Sequence[str], classification: Classification, now: datetime
    ) -> dict[str, Any] | None:
        """Open an incident for `key` if its rate is a storm. It also takes the free locks of the key's
        ancestors (parent regions, brand-wide), so one storm is one incident: a post that names no region,
        or the parent region, joins it instead of opening a second incident for the same posts."""
        rise = self.rise(key, now)
        if not rise.is_storm:
            return None
        brand, topic, region = key.split("#", 2)
        incident_id = "inc-" + hashlib.sha256(f"{key}#{_minute(now)}".encode()).hexdigest()[:12]
        doc = {
            "incident_id": incident_id,
            "key": key,
            "brand": brand,
            "topic": topic,
            "region": None if region == ANYWHERE else region,
            "services": list(classification.services),
            "status": "open",
            "opened_at": iso(now),
            "window_count": rise.window_count,
            "baseline_per_minute": round(rise.baseline_per_minute, 3),
            "surprise": rise.tail,
            "queue": self.config.queue,
            "priority": self.config.priority,
            "escalation_id": f"esc-{incident_id}",
            "notice_id": f"draft-{incident_id}",
            "keywords": list(self.config.draft_keywords.get(topic, ())),
        }
        from chalicelib.store.dynamo import to_item

        for _attempt in range(3):
            free = [a for a in ancestors if self._open_incident(a, now, fresh=True) is None]
            locks = [key, *free]
            record = {"pk": f"incident#{incident_id}", "sk": "incident", "posts": 0, "setup_done": False}
            listing = {"pk": "incidents", "sk": f"{iso(now)}#{incident_id}", **doc}
            puts = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item({"pk": f"open#{lock}", "sk": "open", **doc}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                for lock in locks
            ]
            puts.append({"Put": {"TableName": self._table, "Item": to_item({**record, **doc, "locks": locks})}})
            puts.append({"Put": {"TableName": self._table, "Item": to_item(listing)}})
            self.calls += 1
            try:
                self._client.transact_write_items(TransactItems=puts)
            except self._client.exceptions.TransactionCanceledException:
                mine = self._open_incident(key, now, fresh=True)
                if mine is not None:
                    return mine  # another processor opened it first
                continue  # an ancestor was taken meanwhile: try again without it
            for lock in locks:
                self._cache[lock] = (doc, now)
            self._finish_setup(doc)
            return doc
        return None

    def _finish_setup(self, doc: dict[str, Any]) -> None:
        if self._setup is not None:
            self._setup(doc)
        self.calls += 1
        self._client.update_item(
            TableName=self._table,
            Key={"pk": _s(f"incident#{doc['incident_id']}"), "sk": _s("incident")},
            UpdateExpression="SET setup_done = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    def incidents(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        """Newest first (the listing), each with its current state from its record."""
        got = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": _s("incidents")},
            ScanIndexForward=False,
            Limit=min(limit * 4, 1000) if status else limit,
        )
        ids = [item["sk"]["S"].rsplit("#", 1)[-1] for item in got.get("Items", [])]
        records = self._records(ids)
        out = [r for i in ids if (r := records.get(i)) is not None and (status is None or r["status"] == status)]
        return out[:limit]

    def _records(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Incident id → its record, read consistently 100 a call (one call per listing, not one per incident)."""
        keys = [{"pk": _s(f"incident#{i}"), "sk": _s("incident")} for i in ids]
        records = map(_incident_doc, batch_get(self._client, self._table, keys, ConsistentRead=True))
        return {record["incident_id"]: record for record in records}

    def get(self, incident_id: str) -> dict[str, Any] | None:
        got = self._client.get_item(
            TableName=self._table, Key={"pk": _s(f"incident#{incident_id}"), "sk": _s("incident")}, ConsistentRead=True
        )
        return _incident_doc(got["Item"]) if "Item" in got else None

    def examples(self, incident_id: str, limit: int = 5) -> list[dict[str, Any]]:
        from chalicelib.store.dynamo import from_item

        got = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :post)",
            ExpressionAttributeValues={":pk": _s(f"incident#{incident_id}"), ":post": _s("post#")},
            Limit=limit,
        )
        return [from_item(i) for i in got.get("Items", [])]

    def attached_posts(self, incident_id: str) -> list[dict[str, Any]]:
        from chalicelib.store.dynamo import from_item

        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :post)",
            ExpressionAttributeValues={":pk": _s(f"incident#{incident_id}"), ":post": _s("post#")},
        )
        return [from_item(i) for page in pages for i in page.get("Items", [])]

    def close(self, incident_id: str, now: datetime, reason: str) -> dict[str, Any] | None:
        """Close an open incident (releases its key, so a new storm opens a new incident)."""
        record = self.get(incident_id)
        if record is None or record["status"] != "open":
            return record
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"pk": _s(f"incident#{incident_id}"), "sk": _s("incident")},
                        "UpdateExpression": "SET #s = :closed, closed_at = :now, close_reason = :why",
                        "ConditionExpression": "#s = :open",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":closed": _s("closed"),
                            ":open": _s("open"),
                            ":now": _s(iso(now)),
                            ":why": _s(reason),
                        },
                    }
                },
                *(
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": {"pk": _s(f"open#{lock}"), "sk": _s("open")},
                            "ConditionExpression": "incident_id = :id",
                            "ExpressionAttributeValues": {":id": _s(incident_id)},
                        }
                    }
                    for lock in record.get("locks") or [record["key"]]
                ),
            ]
        )
        for lock in record.get("locks") or [record["key"]]:
            self._cache.pop(lock, None)
        return self.get(incident_id)

    def sweep(self, now: datetime) -> dict[str, Any]:
        """Finish setups a crash cut short; close incidents whose key has been quiet for `quiet_minutes`."""
        closed, finished = [], []
        for incident in self.incidents(limit=200, status="open"):
            if not incident.get("setup_done"):
                self._finish_setup(incident)
                finished.append(incident["incident_id"])
            if now - parse(incident["opened_at"]) < timedelta(minutes=self.config.quiet_minutes):
                continue
            if self._quiet(incident["key"], now):
                self.close(incident["incident_id"], now, f"back to baseline for {self.config.quiet_minutes} min")
                closed.append(incident["incident_id"])
        return {"closed": closed, "setup_finished": finished}

    def _quiet(self, key: str, now: datetime) -> bool:
        """No storm-level rise in any window of the last `quiet_minutes`."""
        step = self.config.window_minutes
        for back in range(0, self.config.quiet_minutes, step):
            rise = self.rise(key, now - timedelta(minutes=back))
            if rise.window_count >= self.config.floor and rise.tail < self.config.surprise:
                return False
        return True


def _incident_doc(item: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.store.dynamo import from_item

    doc = from_item(item)
    for name in ("pk", "sk"):
        doc.pop(name, None)
    return doc


def attach_effects(incident: Mapping[str, Any], post: Post, now: datetime, language: str = "") -> list[Any]:
    """The writes that attach a post to an incident, for the decision's transaction: the post (for the
    notice answer and the examples; `language` is the classifier's) and one more on the incident's count.
    Attachments hold the customer's words: they expire with the parked-event retention (30 days)."""
    from chalicelib.store.effects import Effect

    incident_id = incident["incident_id"]
    item = {
        "pk": f"incident#{incident_id}",
        "sk": f"post#{post.key}",
        "post_key": post.key,
        "channel": post.channel,
        "platform": post.platform,
        "post_id": post.post_id,
        "conversation_id": post.conversation_id,
        "is_dm": post.is_dm,
        "author_id": post.author.id,
        "text": post.text[:500],
        "language": language or post.language_hint,
        "created_at": post.created_at,
        "attached_at": iso(now),
        "expires_at": int((now + timedelta(days=30)).timestamp()),
    }
    return [
        Effect("storms", item=item),
        Effect(
            "storms",
            key={"pk": f"incident#{incident_id}", "sk": "incident"},
            update="ADD posts :one SET last_post_at = :now",
            values={":one": 1, ":now": iso(now)},
        ),
    ]


def case_link(config: StormConfig) -> Callable[[Post, dict[str, Any], datetime], str | None]:
    """The processor's cross-conversation link: the author's latest escalation (from their activity facts) when
    it is recent enough and this post says much the same thing."""
    from chalicelib.incidents.signature import signature, similarity

    window = timedelta(hours=config.link_window_hours)

    def link(post: Post, author: dict[str, Any], now: datetime) -> str | None:
        case, at, said = author.get("last_escalation"), author.get("last_escalation_at"), author.get("last_complaint")
        if not case or not at or not said or now - parse(at) > window:
            return None
        before = tuple(sorted(int(h, 16) for h in said))
        return str(case) if similarity(signature(post.text)[:32], before) >= config.link_similarity else None

    return link

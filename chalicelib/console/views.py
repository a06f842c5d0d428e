"""What the console's screens show, composed from the queue, the decisions, the policy and the notices.
Customer-written text is passed through as data; the browser renders it with textContent only."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso, parse
from chalicelib.escalations.corrections import Corrections, parse_correction
from chalicelib.escalations.errors import InvalidRequest
from chalicelib.labels import TOPICS
from chalicelib.model import Author, Classification, Post, Sentiment, stable_id
from chalicelib.store.dynamo import batch_get, from_item

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

LISTED = 25
"""Most urgent open items listed per queue (the counts come from the counters)."""
MAX_HOURS = 24 * 14
ANSWERS = {"reply", "notice"}
"""Actions that answer the customer automatically; a decision that also escalates counts as escalated."""


def post_of(doc: Mapping[str, Any]) -> Post:
    author = doc.get("author") or {}
    return Post(
        platform=str(doc["platform"]),
        channel=str(doc["channel"]),
        post_id=str(doc["post_id"]),
        conversation_id=str(doc.get("conversation_id") or doc["post_id"]),
        author=Author(str(author.get("id", "")), str(author.get("handle", "")), str(author.get("name", ""))),
        text=str(doc.get("text", "")),
        created_at=str(doc.get("created_at", "")),
        is_dm=bool(doc.get("is_dm")),
        in_reply_to_post_id=doc.get("in_reply_to_post_id"),
        mentions=tuple(doc.get("mentions") or ()),
        addressed_to_brand=bool(doc.get("addressed_to_brand")),
    )


def classification_of(doc: Mapping[str, Any]) -> Classification:
    sentiment = doc.get("sentiment") or {}
    return Classification(
        topic=str(doc.get("topic", "other")),
        sentiment=Sentiment(sentiment.get("label", "neutral"), float(sentiment.get("score", 0))),
        churn_risk=bool(doc.get("churn_risk")),
        addressed_to_brand=bool(doc.get("addressed_to_brand")),
        language=str(doc.get("language", "en")),
        intent=doc.get("intent"),
        urgency=float(doc.get("urgency", 0)),
        regions=tuple(doc.get("regions") or ()),
        services=tuple(doc.get("services") or ()),
    )


def summary(item: Mapping[str, Any]) -> dict[str, Any]:
    post = item.get("post") or {}
    classification = item.get("classification") or {}
    return {
        "id": item["escalation_id"],
        "queue": item["queue"],
        "priority": int(item["priority"]),
        "status": item["status"],
        "sla_state": item.get("sla_state", "ok"),
        "due_at": item.get("due_at"),
        "created_at": item.get("created_at"),
        "agent": item.get("agent"),
        "lease_until": item.get("lease_until"),
        "text": post.get("text", ""),
        "author": (post.get("author") or {}).get("handle", ""),
        "is_dm": bool(post.get("is_dm")),
        "topic": classification.get("topic"),
        "sentiment": (classification.get("sentiment") or {}).get("label"),
        "follow_ups": len(item.get("follow_ups") or []),
    }


def inbox(rt: Runtime, principal_id: str) -> dict[str, Any]:
    """Every queue with its counts and SLA states (from the queues' counters: one read for all) and its most
    urgent open items, and what the caller holds."""
    from chalicelib.escalations import counts

    q = rt.escalations
    live = counts.read(rt.dynamodb, rt.settings.table("escalations"), q.queue_names)
    queues = []
    for name in q.queue_names:
        counters = live.get(name, {})
        items = q.list_queue(name, "open", LISTED)
        queues.append(
            {
                "name": name,
                "description": q.queue(name).description,
                "open": sum(n for k, n in counters.items() if k.startswith("n_open_")),
                "claimed": sum(n for k, n in counters.items() if k.startswith("n_claimed_")),
                "at_risk": counters.get("sla_at_risk", 0),
                "breached": counters.get("sla_breached", 0),
                "items": [summary(i) for i in items],
            }
        )
    return {"queues": queues, "mine": [summary(i) for i in q.held_by(principal_id)]}


def claim_next(rt: Runtime, principal_id: str, queue: str | None) -> dict[str, Any] | None:
    """Claim the most urgent open item of `queue`, or of every queue (the best head by priority then due
    time; if someone takes it first, the next queue's head)."""
    q = rt.escalations
    names = [queue] if queue else q.queue_names
    heads = [(i["rank"], name) for name in names for i in q.list_queue(name, "open", 1)]
    for _rank, name in sorted(heads):
        claimed = q.claim_next(name, principal_id, rt.clock())
        if claimed:
            return claimed
    return None


def _outbox_texts(rt: Runtime, reply_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not reply_ids:
        return {}
    got = batch_get(
        rt.dynamodb, rt.settings.table("outbox"), [{"reply_id": {"S": r}} for r in dict.fromkeys(reply_ids)]
    )
    return {i["reply_id"]: i for i in map(from_item, got)}


def item_detail(rt: Runtime, escalation_id: str) -> dict[str, Any]:
    """One item as an agent works it: the conversation (the customer's posts and our replies, oldest first),
    the customer's other cases (`earlier`), the classification with its evidence, the decision path, notes,
    canned responses and the limits."""
    from chalicelib.actions import PLATFORM_TEXT_LIMITS, render

    item = rt.escalations.get(escalation_id)
    post_doc = item["post"]
    post, classification = post_of(post_doc), classification_of(item.get("classification") or {})
    decision = rt.store.decision(post.key) or {}
    reply_ids = [r["reply_id"] for r in item.get("replies") or []]
    texts = _outbox_texts(rt, [*reply_ids, stable_id("reply", post.key)])  # the automated reply's id is stable
    timeline: list[dict[str, Any]] = [
        {"kind": "customer", "at": post_doc.get("created_at"), "text": post.text, "author": post.author.handle}
    ]
    for follow in item.get("follow_ups") or []:
        p = follow.get("post") or {}
        timeline.append(
            {"kind": "customer", "at": p.get("created_at"), "text": p.get("text", ""), "author": post.author.handle}
        )
    for reply in texts.values():
        timeline.append(
            {
                "kind": "agent" if reply.get("author") else "auto",
                "at": reply.get("created_at"),
                "text": reply.get("text", ""),
                "author": reply.get("author") or "Carewire",
                "private": bool(reply.get("private")),
                "status": reply.get("status"),
            }
        )
    timeline.sort(key=lambda e: str(e.get("at") or ""))
    language = classification.language
    canned = []
    for name in sorted({n for by_name in rt.policy.templates.values() for n in by_name}):
        template = rt.policy.template(name, language)
        if template.promotional or "$notice" in template.text.template:
            continue
        canned.append({"name": name, "text": render(template, post, classification, cut=False)})
    earlier = customer_cases(rt, item, post)
    return {
        "escalation": {**summary(item), "version": item.get("version"), "rule": item.get("rule")},
        "post": {
            "text": post.text,
            "author": post.author.handle,
            "name": post.author.name,
            "platform": post.platform,
            "channel": post.channel,
            "is_dm": post.is_dm,
            "at": post_doc.get("created_at"),
        },
        "timeline": timeline,
        "classification": item.get("classification") or {},
        "decision": {
            "rule": decision.get("rule", item.get("rule")),
            "action": decision.get("action"),
            "reason": decision.get("reason"),
            "rules_evaluated": decision.get("rules_evaluated") or [],
            "guardrails": decision.get("guardrails") or [],
            "actions": [{"type": a.get("type"), "rule": a.get("rule")} for a in decision.get("actions") or []],
            "corrections": (item.get("correction") or {}).get("labels"),
        },
        "notes": item.get("notes") or [],
        "canned": canned,
        "limit": PLATFORM_TEXT_LIMITS.get(post.platform),
        "outcomes": list(_outcomes()),
        "topics": list(TOPICS),
        "queues": rt.escalations.queue_names,
        "earlier": earlier,
    }


def _outcomes() -> tuple[str, ...]:
    from chalicelib.escalations.queue import OUTCOMES

    return OUTCOMES


CASES = 10
"""The customer's other cases the item view lists, newest first."""


def customer_cases(rt: Runtime, item: Mapping[str, Any], post: Post) -> list[dict[str, Any]]:
    """The same customer's other cases, in any conversation on the item's platform, newest first (the
    by_author index). An item opened before that index existed has no author key: its conversation's
    items by the same author stand in."""
    if item.get("author_key"):
        found = rt.escalations.cases_of(post.platform, post.author.id, CASES + 1)
    else:
        same = post.author.id
        found = sorted(
            (
                i
                for i in _conversation_items(rt, post.platform, post.conversation_id)
                if same and ((i.get("post") or {}).get("author") or {}).get("id") == same
            ),
            key=lambda i: str(i.get("created_at") or ""),
            reverse=True,
        )
    cases = []
    for case in found:
        if case["escalation_id"] == item["escalation_id"]:
            continue
        case_post = case.get("post") or {}
        cases.append(
            {
                "id": case["escalation_id"],
                "status": case.get("status"),
                "queue": case.get("queue"),
                "topic": (case.get("classification") or {}).get("topic"),
                "outcome": case.get("outcome"),
                "opened_at": case.get("created_at"),
                "resolved_at": case.get("resolved_at"),
                "channel": case_post.get("channel"),
                "same_conversation": case_post.get("conversation_id") == post.conversation_id,
                "text": str(case_post.get("text") or "")[:280],
            }
        )
    return cases[:CASES]


def _conversation_items(rt: Runtime, platform: str, conversation_id: str) -> list[dict[str, Any]]:
    got = rt.dynamodb.query(
        TableName=rt.settings.table("escalations"),
        IndexName="by_conversation",
        KeyConditionExpression="conversation_key = :k",
        ExpressionAttributeValues={":k": {"S": f"{platform}#{conversation_id}"}},
        Limit=20,
    )
    ids = [i["escalation_id"]["S"] for i in got.get("Items", [])]
    return [rt.escalations.get(i) for i in ids[:5]]


def reply_preview(rt: Runtime, escalation_id: str, text: str, private: bool | None) -> dict[str, Any]:
    """What would be sent: the text, its length against the platform's limit, and what would stop it."""
    from chalicelib.actions import PLATFORM_TEXT_LIMITS
    from chalicelib.pii import mask

    item = rt.escalations.get(escalation_id)
    post = item["post"]
    is_private = bool(private) if private is not None else bool(post.get("is_dm"))
    limit = PLATFORM_TEXT_LIMITS.get(post["platform"])
    problems = [] if is_private else list(rt.publishing.problems(text, post["channel"]))
    if not is_private and limit and len(text) > limit:
        problems.append(f"{len(text)} characters; {post['platform']} allows {limit}")
    return {
        "text": text,
        "masked": mask(text),
        "private": is_private,
        "length": len(text),
        "limit": None if is_private else limit,
        "problems": problems,
    }


def resolve(
    rt: Runtime, escalation_id: str, who: str, outcome: Any, raw_corrections: Any, force: bool
) -> dict[str, Any]:
    """Resolve with an outcome. Corrections are checked first (a bad one resolves nothing) and kept on the
    escalation, as the agent API keeps them, where `carewire train --export-corrections` reads training rows."""
    correction = _correction(raw_corrections)
    if not isinstance(outcome, str) or not outcome:
        raise InvalidRequest("outcome", f"required: one of {list(_outcomes())}")
    now = rt.clock()
    item = rt.escalations.resolve(escalation_id, who, outcome, now, force=force)
    if correction:
        Corrections(rt.dynamodb, rt.settings.table("escalations")).record(escalation_id, correction, who, now)
    return {"escalation": summary(item), "corrections": correction["labels"] if correction else {}}


def _correction(raw: Any) -> dict[str, Any] | None:
    """The console's `corrections` object through the agent API's own check, its errors named `corrections.<field>`."""
    if raw in (None, {}):
        return None
    if not isinstance(raw, dict):
        raise InvalidRequest("corrections", "expected an object")
    try:
        return parse_correction(raw)
    except InvalidRequest as e:
        raise InvalidRequest(f"corrections.{e.field}", e.message) from None


def dashboard(rt: Runtime, now: datetime, hours: int) -> dict[str, Any]:
    """Volumes by hour, topic, sentiment and channel of the decisions of the last `hours` (ended hours from
    their kept counts, the rest from the stored decisions: `console/volumes.py`), auto-answered vs escalated,
    open incidents, queue SLAs, response times and recent policy changes."""
    from chalicelib.console.volumes import Volumes

    if not 1 <= hours <= MAX_HOURS:
        raise InvalidRequest("hours", f"must be 1..{MAX_HOURS}")
    start = now - timedelta(hours=hours)
    since = iso(start)
    by_hour: dict[str, Counter[str]] = defaultdict(Counter)
    totals: dict[str, Counter[str]] = {k: Counter() for k in ("topic", "sentiment", "channel", "action", "handled")}
    volumes = Volumes(rt.dynamodb, rt.settings.table("decisions"), rt.settings.table("activity"))
    for (channel, hour), volume in volumes.period(rt.channels, start, now).items():
        if not volume.total:
            continue
        by_hour[hour].update(volume.counts["topic"])
        totals["channel"][channel] += volume.total
        for dimension in ("topic", "sentiment", "action", "handled"):
            totals[dimension].update(volume.counts[dimension])
    series = [
        {"hour": hour + ":00:00.000Z", "total": sum(c.values()), **dict(c)} for hour, c in sorted(by_hour.items())
    ]
    return {
        "since": since,
        "hours": hours,
        "total": sum(totals["action"].values()),
        "auto_answered": totals["handled"].get("auto_answered", 0),
        "escalated": totals["handled"].get("escalated", 0),
        "by": {name: dict(counter.most_common()) for name, counter in totals.items()},
        "series": series,
        "incidents": rt.storms.incidents(20, "open"),
        "sla": rt.escalations.stats(now, days=1),
        "response_times": response_times(rt, now, since),
        "policy_changes": policy_changes(rt),
    }


POLICY_CHANGES = 8
"""Policy versions the dashboard lists (one query on the history's by_time index)."""


def policy_changes(rt: Runtime) -> list[dict[str, Any]]:
    """The last policy versions that went into service, newest first: when, by whom, files, +/- lines."""
    from chalicelib.policy.history import PolicyHistory

    return PolicyHistory(rt.dynamodb, rt.settings.table("policies")).recent(POLICY_CHANGES)


def policy_version(rt: Runtime, digest: str) -> dict[str, Any]:
    """One version with its unified diff as plain text (the console shows it with textContent)."""
    from chalicelib.policy.history import HistoryError, PolicyHistory

    try:
        return PolicyHistory(rt.dynamodb, rt.settings.table("policies")).show(digest)
    except HistoryError as exc:
        raise InvalidRequest("digest", str(exc)) from None


RESOLVED_CAP = 500
"""Most resolved items the dashboard reads for its response times (batch-read by key); `capped` says if reached."""


def _percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`, in seconds; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def response_times(rt: Runtime, now: datetime, since: str) -> dict[str, Any]:
    """Per queue, for the items resolved since `since`: how many, median and p90 seconds to first response
    (created_at → first_response_at, stamped at delivery) and to resolution (created_at → resolved_at), and
    the share that met their SLA (of those whose `sla_met` is decided). Read through the by_status index by
    UTC day, never a scan, at most RESOLVED_CAP items."""
    days = min(31, (now.date() - parse(since).date()).days + 1)
    items = rt.escalations.resolved(now, days=days, limit=RESOLVED_CAP)
    first: dict[str, list[float]] = defaultdict(list)
    resolution: dict[str, list[float]] = defaultdict(list)
    met: dict[str, Counter[str]] = defaultdict(Counter)
    resolved: Counter[str] = Counter()
    for item in items:
        done, created = item.get("resolved_at"), item.get("created_at")
        if not done or not created or str(done) < since:
            continue
        queue, start = str(item["queue"]), parse(str(created))
        resolved[queue] += 1
        resolution[queue].append((parse(str(done)) - start).total_seconds())
        if item.get("first_response_at"):
            first[queue].append((parse(str(item["first_response_at"])) - start).total_seconds())
        if "sla_met" in item:
            met[queue]["decided"] += 1
            met[queue]["met"] += 1 if item["sla_met"] else 0
    by_queue = {
        queue: {
            "resolved": resolved[queue],
            "first_response_median_seconds": _percentile(first[queue], 50),
            "first_response_p90_seconds": _percentile(first[queue], 90),
            "resolution_median_seconds": _percentile(resolution[queue], 50),
            "resolution_p90_seconds": _percentile(resolution[queue], 90),
            "sla_met_share": met[queue]["met"] / met[queue]["decided"] if met[queue]["decided"] else None,
        }
        for queue in [*rt.escalations.queue_names, *sorted(set(resolved) - set(rt.escalations.queue_names))]
    }
    return {"since": since, "cap": RESOLVED_CAP, "capped": len(items) >= RESOLVED_CAP, "by_queue": by_queue}


def try_post(rt: Runtime, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Decide a pasted post with the live policy and notices, writing nothing: the decision, the reply that
    would go out and why."""
    from chalicelib.actions import ACTIONS, ActContext
    from chalicelib.policy.offline import PostError, decide, post_from_doc

    text = doc.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        raise InvalidRequest("text", "required: the post's text, at most 2,000 characters")
    now = rt.clock()
    post_doc = {
        "id": "try",
        "text": text,
        "channel": doc.get("channel") or None,
        "is_dm": bool(doc.get("is_dm")),
        "author": {"handle": "customer", "name": "Customer"},
        "created_at": iso(now),
    }
    try:
        post, _channel = post_from_doc(post_doc, rt.channels)
    except PostError as exc:
        raise InvalidRequest("channel", str(exc)) from None
    notices = rt.notices.for_post(post, rt.classifier.classify(post), now)
    decided = decide(rt.policy, rt.classifier, rt.channels, post_doc, now=now, notices=notices)
    classification = classification_of(decided["classification"])
    chosen = next((n for n in notices if decided["notice"] and n.get("id") == decided["notice"]["id"]), None)
    replies = []
    for action in decided["actions"]:
        handler = ACTIONS.get(action["type"])
        if handler is None or not getattr(handler, "replies", False):
            continue
        params = {k: v for k, v in action.items() if k not in ("type", "rule")}
        ctx = ActContext(post, classification, action["rule"], rt.policy, now, notice=chosen)
        for effect in handler.effects(params, ctx):
            if effect.table == "outbox" and effect.item:
                replies.append({"text": effect.item["text"], "private": effect.item["private"]})
    return {**decided, "replies": replies}


def notice_preview(rt: Runtime, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check a notice's fields as a create would (every problem at once) and render what customers would
    get per language and platform, writing nothing."""
    from chalicelib.model import Notice
    from chalicelib.notices.errors import NoticeInvalid
    from chalicelib.notices.render import render_follow_up
    from chalicelib.notices.validate import Vocabulary, check_fields
    from chalicelib.reply_text import notice_reply_text

    fields = {k: v for k, v in fields.items() if k not in ("version", "id")}
    try:
        vocabulary = Vocabulary.load(rt.settings.policies_dir, rt.channels)
        values = check_fields(fields, vocabulary, creating=True, now=rt.clock())
    except NoticeInvalid as exc:
        return {"errors": [{"field": f, "reason": r} for f, r in exc.errors], "previews": []}
    moment = iso(rt.clock())
    notice = Notice(
        id="preview",
        status="draft",
        version=1,
        author="",
        created_at=moment,
        updated_at=moment,
        **{"starts_at": moment, **values},
    )
    platforms = sorted({c.platform for c in rt.channels.values()})
    matched = _recent_matches(rt, replace(notice, status="active"), max(parse(moment), parse(notice.starts_at)))
    previews = [
        {
            "language": language,
            "platform": platform,
            # the texts production sends: the notice action's reply and the resolution's follow-up
            "reply": notice_reply_text(
                {"title": notice.title[language], "body": notice.body[language], "link": notice.link},
                platform,
                rt.policy.own_contact,
            ),
            "follow_up": render_follow_up(notice, language, platform, rt.policy.own_contact)
            if language in notice.follow_up
            else None,
        }
        for language in sorted(notice.title)
        for platform in platforms
    ]
    return {"errors": [], "previews": previews, "matches": matched}


RECENT_HOURS = 48
RECENT_LIMIT = 300


def _recent_matches(rt: Runtime, notice: Any, now: datetime) -> list[dict[str, Any]]:
    """Which of the last RECENT_LIMIT decided posts (RECENT_HOURS, through by_channel) this notice would
    answer, and why: what a marketer checks before publishing."""
    from chalicelib.notices.matching import match_notices

    rows = rt.store.decisions(limit=RECENT_LIMIT, channels=sorted(rt.channels))
    since = iso(now - timedelta(hours=RECENT_HOURS))
    found = []
    for row in rows:
        if row["decided_at"] < since or not row.get("post") or not row.get("classification"):
            continue
        post, classification = post_of(row["post"]), classification_of(row["classification"])
        for match in match_notices([notice], post, classification, now):
            found.append({"text": post.text, "at": row["decided_at"], "why": list(match.reasons)})
    return found[:20]

"""The processor: normalize → dedupe → classify → decide → act, for one event off the intake queue.

Permanent failures (an event that can never be normalised) are parked with their reason; anything
else raises, so the queue retries it and, in the end, parks it in the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.actions import ACTIONS, ActContext
from chalicelib.channels.base import DeliveryReport
from chalicelib.channels.errors import MalformedEvent
from chalicelib.clock import Clock, iso
from chalicelib.model import Classification, Decision, Event, Post
from chalicelib.observability import COUNTERS, logger, post_keys, subsegment
from chalicelib.policy.context import context_document
from chalicelib.policy.engine import Plan, plan
from chalicelib.store.activity import Facts, activity_effects, context_parts
from chalicelib.store.blobs import resolve_message
from chalicelib.store.dynamo import Recorded
from chalicelib.store.effects import Effect

if TYPE_CHECKING:
    from chalicelib.channels.base import Platform
    from chalicelib.channels.config import ChannelConfig
    from chalicelib.classify import Classifier
    from chalicelib.dedupe import DeliveryDedupe
    from chalicelib.policy.model import Policy
    from chalicelib.store.activity import Activity
    from chalicelib.store.dynamo import Store
    from chalicelib.threads import ThreadContext

Status = Literal["decided", "duplicate", "skipped", "parked"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str
    post_key: str | None = None
    action: str | None = None
    rule: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


NoticeSource = Callable[[Post, Classification, datetime], list[dict[str, Any]]]
"""Active notices matching a post, best first, as documents (see chalicelib/notices)."""

FollowUps = Callable[..., "str | None"]
"""(conversation_id, post, classification, now, escalation_id=None): attach a post to its conversation's live
escalation, or to the given one; its id, or None (EscalationQueue.add_follow_up)."""

CaseLink = Callable[[Post, dict[str, Any], datetime], "str | None"]
"""The same customer's recent escalation this post repeats (from their activity facts), or None."""

StormSource = Callable[[Post, Classification, datetime], "dict[str, Any] | None"]
"""Count a post toward storm detection; the open incident it belongs to, or None (StormWatch.observe)."""

DeliveryReports = Callable[[DeliveryReport], Any]
"""Where WhatsApp statuses (and any platform's delivery reports) go: the delivery stage matches each to the
outbox item it concerns (chalicelib/delivery/reports.py; it raises RetryLater for an item not found yet)."""

FOLLOW_UP_RULE = "follow-up"
"""Not a policy rule: the pipeline's own, for a post that joins an escalation a person already owns."""


class Processor:
    def __init__(
        self,
        *,
        channels: Mapping[str, ChannelConfig],
        platforms: Mapping[str, Platform],
        classifier: Classifier,
        policy: Policy,
        store: Store,
        dedupe: DeliveryDedupe,
        activity: Activity,
        clock: Clock,
        notices: NoticeSource | None = None,
        follow_ups: FollowUps | None = None,
        storms: StormSource | None = None,
        case_link: CaseLink | None = None,
        delivery_reports: DeliveryReports | None = None,
        threads: ThreadContext | None = None,
    ) -> None:
        """`threads`: keeps the brand's own posts and finds the text a reply replies to, for the classifier."""
        self._channels = channels
        self._platforms = platforms
        self._classifier = classifier
        self._policy = policy
        self._store = store
        self._dedupe = dedupe
        self._activity = activity
        self._clock = clock
        self._notices = notices
        self._follow_ups = follow_ups
        self._storms = storms
        self._case_link = case_link
        self._delivery_reports = delivery_reports
        self._threads = threads

    def process_message(self, message: dict[str, Any], context: Any = None) -> Outcome:
        """Entry point for one queue message (or a reference to one); parks what can never be processed.
        Anything else raises, for the queue to retry; PostInProgress (a RetryLater) means "not yet"."""
        try:
            event = Event.from_message(resolve_message(message, self._store.blobs))
            return self.process(event, context)
        except ValueError as exc:  # MalformedEvent and malformed messages: permanent, so parked
            park_id = self._store.park(message, f"{type(exc).__name__}: {exc}", self._clock())
            COUNTERS.count("EventsParked")
            logger().warning("event parked", extra={"park_id": park_id, "reason": str(exc)})
            return Outcome("parked", str(exc))

    def process(self, event: Event, context: Any = None) -> Outcome:
        channel = self._channels.get(event.channel)
        if channel is None or channel.platform != event.platform or event.platform not in self._platforms:
            raise MalformedEvent(f"no {event.platform} channel {event.channel!r} is configured")
        platform = self._platforms[event.platform]
        if event.kind in platform.report_kinds:
            return self._delivery_report(platform.report(event, channel))
        post = platform.normalize(event, channel)
        with post_keys(channel=post.channel, platform=post.platform, post_id=post.post_id):
            COUNTERS.count("PostsReceived")
            if post.by_brand:
                COUNTERS.count("OwnPostsSkipped")
                if self._threads is not None:
                    self._threads.remember(post)
                return Outcome("skipped", "the brand's own post or an echo of it", post.key)
            if post.skip_reason:
                COUNTERS.count("PostsSkipped")
                return Outcome("skipped", post.skip_reason, post.key)
            once = self._dedupe.run_once(post, self._decide_and_act, context)
            outcome = Outcome(**once.result)
            if once.duplicate or outcome.status == "duplicate":
                COUNTERS.count("Duplicates")
                logger().info("duplicate delivery acknowledged")
                return Outcome("duplicate", outcome.reason, post.key, outcome.action, outcome.rule)
            return outcome

    def _delivery_report(self, report: DeliveryReport) -> Outcome:
        """A platform's word on a message the brand sent: counted and handed to the delivery stage's hook."""
        COUNTERS.count(f"DeliveryReports{report.status.capitalize()}" if report.status.isalpha() else "DeliveryReports")
        if self._delivery_reports is not None:
            self._delivery_reports(report)
        logger().info("delivery report", extra={"channel": report.channel, "status": report.status})
        return Outcome("skipped", f"delivery report: {report.status}", report.key)

    def _decide_and_act(self, post: Post) -> dict[str, Any]:
        replied_to = self._threads.parent_text(post) if self._threads is not None else None
        with subsegment("classify"):
            classification = self._classifier.classify(post, replied_to)
        classification_doc = classification.to_doc()
        channel = self._channels[post.channel]
        facts = self._activity.facts(post)
        joined = self._join_open_escalation(post, classification, classification_doc, facts)
        if joined is not None:
            return joined
        incident = self._storms(post, classification, self._clock()) if self._storms else None
        for attempt in range(4):
            now = self._clock()
            if attempt:
                facts = self._activity.facts(post)
            notices = self._notices(post, classification, now) if self._notices else []
            context = context_document(
                post, classification_doc, channel, iso(now), context_parts(post, facts, now), notices, incident
            )
            with subsegment("decide"):
                planned = plan(self._policy, context, post, classification)
            effects = []
            for action in planned.actions:
                ctx = ActContext(post, classification, action.rule, self._policy, now, planned.notice, incident)
                effects += ACTIONS[action.type].effects(action.params, ctx)
            decision = decision_record(post, planned, classification_doc, iso(now), effects)
            escalated = next((e.item["escalation_id"] for e in effects if e.table == "escalations" and e.item), None)
            effects += activity_effects(
                post, facts, now, replied=planned.replies, public_reply=planned.public_reply, escalation_id=escalated
            )
            for error in planned.errors:
                COUNTERS.count("RuleErrors")
                logger().error("rule failed on a post", extra={"rule_error": error})
            with subsegment("act"):
                recorded = self._store.record(decision, effects)
            if recorded is Recorded.DUPLICATE:
                return Outcome("duplicate", "the post already has a decision", post.key).to_doc()
            if recorded is Recorded.CONFLICT:
                COUNTERS.count("BudgetRaces")
                continue  # a reply budget changed since it was read: decide again on fresh facts
            COUNTERS.count(f"Decision{decision.action.capitalize()}")
            for note in planned.guardrails:
                logger().info("guardrail", extra={"guardrail": note})
            logger().info("decided", extra={"action": decision.action, "rule": decision.rule})
            return Outcome("decided", decision.reason, post.key, decision.action, decision.rule).to_doc()
        raise RuntimeError("reply budgets kept changing under this post; the queue will retry it")

    def _join_open_escalation(
        self, post: Post, classification: Classification, classification_doc: dict[str, Any], facts: Facts
    ) -> dict[str, Any] | None:
        """A post in a conversation a person already owns joins that escalation: no second item, and no
        automated reply over the agent's head. So does the same customer repeating their complaint in
        another conversation (a DM after a mention, another channel) within the link window."""
        if self._follow_ups is None or not classification.addressed_to_brand or classification.spam:
            return None
        now = self._clock()
        escalation_id = self._follow_ups(post.conversation_id, post, classification, now)
        linked = False
        if escalation_id is None and self._case_link is not None:
            case = self._case_link(post, facts.author, now)
            if case is not None:
                escalation_id = self._follow_ups(post.conversation_id, post, classification, now, escalation_id=case)
                linked = escalation_id is not None
        if escalation_id is None:
            return None
        action = {"type": "escalate", "escalation_id": escalation_id, "follow_up": True, "linked": linked}
        decision = Decision(
            post_key=post.key,
            channel=post.channel,
            platform=post.platform,
            post_id=post.post_id,
            action="escalate",
            rule=FOLLOW_UP_RULE,
            reason=(
                f"the customer's open case {escalation_id} from another conversation: linked, not escalated twice"
                if linked
                else f"joined the open escalation {escalation_id}"
            ),
            params=action,
            classification=classification_doc,
            rules_evaluated=(),
            decided_at=iso(now),
            actions=({**action, "rule": FOLLOW_UP_RULE},),
            post=post.to_doc(),
        )
        effects = activity_effects(post, facts, now, replied=False, public_reply=False, escalation_id=None)
        if self._store.record(decision, effects) is Recorded.DUPLICATE:
            return Outcome("duplicate", "the post already has a decision", post.key).to_doc()
        COUNTERS.count("CasesLinked" if linked else "FollowUps")
        logger().info("follow-up joined an open escalation", extra={"escalation_id": escalation_id})
        return Outcome("decided", decision.reason, post.key, "escalate", FOLLOW_UP_RULE).to_doc()


def decision_record(
    post: Post, planned: Plan, classification_doc: dict[str, Any], now: str, effects: Sequence[Effect] = ()
) -> Decision:
    """The audit record of one decision; `effects` (the actions' writes) give the texts it queued."""
    first = planned.actions[0] if planned.actions else None
    params: dict[str, Any] = {"type": first.type, **first.params} if first else {"type": "ignore"}
    if first is None:
        reason = "no rule matched"
    elif first.type == "ignore" and first.params.get("reason"):
        reason = str(first.params["reason"])
    else:
        reason = planned.reason
    return Decision(
        post_key=post.key,
        channel=post.channel,
        platform=post.platform,
        post_id=post.post_id,
        action=planned.primary,
        rule=planned.rule,
        reason=reason,
        params=params,
        classification=classification_doc,
        rules_evaluated=planned.evaluated,
        decided_at=now,
        actions=tuple({"type": a.type, **a.params, "rule": a.rule} for a in planned.actions),
        guardrails=planned.guardrails,
        shadow=planned.shadow,
        post=post.to_doc(),
        notice=planned.notice and {"id": planned.notice["id"], "version": int(planned.notice["version"])},
        replies=tuple(
            {k: e.item[k] for k in ("template", "private", "text") if k in e.item}
            for e in effects
            if e.table == "outbox" and e.item is not None and "text" in e.item
        ),
    )


def process_sqs_batch(processor: Processor, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One SQS batch with Powertools batch processing: a failing record is reported alone
    (`batchItemFailures`) and retried by SQS; the others are done."""
    import json

    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def handle(record: SQSRecord) -> dict[str, Any]:
        try:
            message = json.loads(record.body)
        except json.JSONDecodeError:
            message = {"unparsable_body": record.body}
        if not isinstance(message, dict):
            message = {"unparsable_body": record.body}
        return processor.process_message(message, context).to_doc()

    return dict(
        process_partial_response(
            event=event, record_handler=handle, processor=BatchProcessor(event_type=EventType.SQS), context=context
        )
    )

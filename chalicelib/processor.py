"""The processor: normalize → dedupe → classify → decide → act, for one event off the intake queue.

Permanent failures (an event that can never be normalised) are parked with their reason; anything
else raises, so the queue retries it and, in the end, parks it in the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.actions import ACTIONS
from chalicelib.channels.errors import MalformedEvent
from chalicelib.clock import Clock, iso
from chalicelib.model import Classification, Decision, Event, Post
from chalicelib.observability import COUNTERS, logger, post_keys, subsegment
from chalicelib.policy.engine import evaluate

if TYPE_CHECKING:
    from chalicelib.channels.base import Platform
    from chalicelib.channels.config import ChannelConfig
    from chalicelib.classify import Classifier
    from chalicelib.dedupe import DeliveryDedupe
    from chalicelib.policy.model import Policy
    from chalicelib.store.dynamo import Store

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


def context_document(
    post: Post, classification: Classification | dict[str, Any], channel: ChannelConfig, now: str
) -> dict[str, Any]:
    """The one document every rule's `when` is evaluated over."""
    return {
        "post": post.to_doc(),
        "classification": classification if isinstance(classification, dict) else classification.to_doc(),
        "channel": {"id": channel.id, "platform": channel.platform},
        "now": now,
    }


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
        clock: Clock,
    ) -> None:
        self._channels = channels
        self._platforms = platforms
        self._classifier = classifier
        self._policy = policy
        self._store = store
        self._dedupe = dedupe
        self._clock = clock

    def process_message(self, message: dict[str, Any], context: Any = None) -> Outcome:
        """Entry point for one queue message; parks what can never be processed."""
        try:
            event = Event.from_message(message)
            return self.process(event, context)
        except (MalformedEvent, ValueError) as exc:
            park_id = self._store.park(message, f"{type(exc).__name__}: {exc}", self._clock())
            COUNTERS.count("EventsParked")
            logger().warning("event parked", extra={"park_id": park_id, "reason": str(exc)})
            return Outcome("parked", str(exc))

    def process(self, event: Event, context: Any = None) -> Outcome:
        channel = self._channels.get(event.channel)
        if channel is None or channel.platform != event.platform or event.platform not in self._platforms:
            raise MalformedEvent(f"no {event.platform} channel {event.channel!r} is configured")
        post = self._platforms[event.platform].normalize(event, channel)
        with post_keys(channel=post.channel, platform=post.platform, post_id=post.post_id):
            COUNTERS.count("PostsReceived")
            if post.by_brand:
                COUNTERS.count("OwnPostsSkipped")
                return Outcome("skipped", "the brand's own post or an echo of it", post.key)
            if post.is_retweet:
                COUNTERS.count("RetweetsSkipped")
                return Outcome("skipped", "a retweet carries no new customer text", post.key)
            once = self._dedupe.run_once(post, self._decide_and_act, context)
            outcome = Outcome(**once.result)
            if once.duplicate or outcome.status == "duplicate":
                COUNTERS.count("Duplicates")
                logger().info("duplicate delivery acknowledged")
                return Outcome("duplicate", outcome.reason, post.key, outcome.action, outcome.rule)
            return outcome

    def _decide_and_act(self, post: Post) -> dict[str, Any]:
        now = self._clock()
        with subsegment("classify"):
            classification = self._classifier.classify(post)
        classification_doc = classification.to_doc()
        channel = self._channels[post.channel]
        with subsegment("decide"):
            verdict = evaluate(self._policy, context_document(post, classification_doc, channel, iso(now)))
        rule = verdict.rule
        params: dict[str, Any] = dict(rule.action) if rule else {"type": "ignore", "reason": "no rule matched"}
        action = ACTIONS[params["type"]]
        reason = rule.description or rule.name if rule else "no rule matched"
        if params["type"] == "ignore" and params.get("reason"):
            reason = params["reason"]
        decision = Decision(
            post_key=post.key,
            channel=post.channel,
            platform=post.platform,
            post_id=post.post_id,
            action=action.name,  # type: ignore[arg-type]
            rule=rule.name if rule else "",
            reason=reason,
            params=params,
            classification=classification_doc,
            rules_evaluated=verdict.evaluated,
            decided_at=iso(now),
        )
        for error in verdict.errors:
            COUNTERS.count("RuleErrors")
            logger().error("rule failed on a post", extra={"rule_error": error})
        effects = action.effects(params, post, classification, decision.rule, self._policy, now)
        with subsegment("act"):
            recorded = self._store.record(decision, effects)
        if not recorded:
            return Outcome("duplicate", "the post already has a decision", post.key).to_doc()
        COUNTERS.count(f"Decision{action.name.capitalize()}")
        logger().info("decided", extra={"action": action.name, "rule": decision.rule})
        return Outcome("decided", reason, post.key, action.name, decision.rule).to_doc()


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

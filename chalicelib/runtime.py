"""Wiring: every collaborator built once per process, lazily, from settings — and replaceable by tests.

Nothing here runs at import, so importing `app.py` (a Lambda cold start) pays only for what a
handler touches: the webhook route never loads the classifier or the policy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock, utcnow
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.channels.base import Platform
    from chalicelib.channels.config import ChannelConfig, SecretResolver
    from chalicelib.classify import Classifier
    from chalicelib.dedupe import DeliveryDedupe
    from chalicelib.delivery.reports import DeliveryReports
    from chalicelib.delivery.sender import Sender
    from chalicelib.escalations.queue import EscalationQueue
    from chalicelib.escalations.sweep import Alerts
    from chalicelib.incidents.answers import IncidentAnswers
    from chalicelib.incidents.storms import StormWatch
    from chalicelib.intake import Intake
    from chalicelib.intake_queue import IntakeQueue
    from chalicelib.notices.service import Notices
    from chalicelib.policy.model import Policy
    from chalicelib.processor import Processor
    from chalicelib.publishing import Publishing
    from chalicelib.store.activity import Activity
    from chalicelib.store.dynamo import Store
    from chalicelib.store.outbox import OutboxStore
    from chalicelib.threads import ThreadContext


def _client_config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        clock: Clock = utcnow,
        queue_factory: Callable[[Runtime], IntakeQueue] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._queue_factory = queue_factory

    @cached_property
    def platforms(self) -> dict[str, Platform]:
        from chalicelib.channels import registry

        return registry.platforms()

    @cached_property
    def channels(self) -> dict[str, ChannelConfig]:
        from chalicelib.channels.config import load_channels

        return load_channels(self.settings.policies_dir / "channels.yaml")

    @cached_property
    def secrets(self) -> SecretResolver:
        from chalicelib.channels.config import SecretResolver

        return SecretResolver(self.settings)

    @cached_property
    def dynamodb(self) -> Any:
        import boto3

        return boto3.client("dynamodb", config=_client_config())

    @cached_property
    def store(self) -> Store:
        from chalicelib.privacy import Retention
        from chalicelib.store.dynamo import Store

        return Store(self.dynamodb, self.settings, retention=Retention.load(self.settings.policies_dir))

    @cached_property
    def escalations(self) -> EscalationQueue:
        from chalicelib.actions import PLATFORM_TEXT_LIMITS
        from chalicelib.escalations.queue import EscalationQueue

        return EscalationQueue(
            self.dynamodb,
            self.settings.table("escalations"),
            self.policy.queues,
            outbox_table=self.settings.table("outbox"),
            platform_limits=PLATFORM_TEXT_LIMITS,
            publishing=self.publishing,
        )

    @cached_property
    def publishing(self) -> Publishing:
        from chalicelib.publishing import Publishing

        return Publishing(self.policy.content_rules, {c.id: c.brand or c.id for c in self.channels.values()})

    @cached_property
    def escalation_alerts(self) -> Alerts:
        from chalicelib.escalations.sweep import alerts_from_env

        return alerts_from_env()

    @cached_property
    def policy(self) -> Policy:
        from chalicelib.policy.loader import load_policy

        policy = load_policy(self.settings.policies_dir)
        if os.environ.get("CAREWIRE_RECORD_POLICY") == "true":  # the functions that put policies in service (infra/)
            from chalicelib.policy.history import record_in_service

            record_in_service(self, f"cold start: {os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'lambda')}")
        return policy

    @cached_property
    def classifier(self) -> Classifier:
        from chalicelib.classify import Classifier

        return Classifier.from_policies(self.settings.policies_dir)

    @cached_property
    def activity(self) -> Activity:
        from chalicelib.store.activity import Activity

        return Activity(self.dynamodb, self.settings.table("activity"))

    @cached_property
    def dedupe(self) -> DeliveryDedupe:
        from chalicelib.dedupe import DeliveryDedupe

        return DeliveryDedupe(self.settings.table("idempotency"), self.dynamodb)

    @cached_property
    def processor(self) -> Processor:
        from chalicelib.processor import Processor

        return Processor(
            channels=self.channels,
            platforms=self.platforms,
            classifier=self.classifier,
            policy=self.policy,
            store=self.store,
            dedupe=self.dedupe,
            activity=self.activity,
            clock=self.clock,
            notices=self.notices.for_post,
            follow_ups=self.escalations.add_follow_up,
            storms=lambda post, classification, now: self.storms.observe(
                self.channels[post.channel].brand, post, classification, now
            ),
            case_link=self._case_link,
            delivery_reports=lambda report: self.delivery_reports(report),
            threads=self.threads,
        )

    @cached_property
    def threads(self) -> ThreadContext:
        """The brand's own posts, kept for the replies to them; the text a reply replies to."""
        from chalicelib.threads import ThreadContext

        return ThreadContext(
            self.dynamodb, self.settings.table("activity"), self.settings.table("decisions"), self.clock
        )

    @cached_property
    def delivery_reports(self) -> DeliveryReports:
        """Platforms' delivery reports (WhatsApp statuses) recorded on the outbox items they concern."""
        from chalicelib.delivery.reports import DeliveryReports

        return DeliveryReports(self.outbox, self.clock)

    @cached_property
    def _case_link(self) -> Any:
        from chalicelib.incidents.storms import case_link

        return case_link(self.storms.config)

    @cached_property
    def storms(self) -> StormWatch:
        from chalicelib.incidents.setup import IncidentSetup
        from chalicelib.incidents.storms import StormConfig, StormWatch

        setup = IncidentSetup(
            client=self.dynamodb,
            escalations_table=self.settings.table("escalations"),
            policy=self.policy,
            notices=self.notices,
            alerts=self.escalation_alerts,
            clock=self.clock,
        )
        return StormWatch(
            self.dynamodb, self.settings.table("storms"), StormConfig.load(self.settings.policies_dir), setup
        )

    @cached_property
    def queue(self) -> IntakeQueue:
        if self._queue_factory is not None:
            return self._queue_factory(self)
        if self.settings.intake_queue_url:
            import boto3

            from chalicelib.intake_queue import SqsIntakeQueue
            from chalicelib.store.blobs import blobs_for

            sqs = boto3.client("sqs", config=_client_config())
            return SqsIntakeQueue(self.settings.intake_queue_url, sqs, blobs_for(self.settings))
        from chalicelib.local.durable_queue import DurableQueue  # local runs and tests only

        return DurableQueue(
            self.settings.home / "intake.sqlite3",
            handler=lambda message: self.processor.process_message(message),
            park=lambda message, reason: self.store.park(message, reason, self.clock()),
            blobs=self.store.blobs,
        )

    @cached_property
    def intake(self) -> Intake:
        from chalicelib.intake import Intake

        return Intake(
            channels=self.channels,
            platforms=self.platforms,
            secrets=self.secrets,
            queue=self.queue,
            clock=self.clock,
            max_body_bytes=self.settings.max_body_bytes,
        )

    @cached_property
    def notices(self) -> Notices:
        from chalicelib.notices.service import Notices
        from chalicelib.notices.store import NoticeStore
        from chalicelib.notices.validate import Vocabulary

        return Notices(
            store=NoticeStore(self.dynamodb, self.settings),
            vocabulary=Vocabulary.load(self.settings.policies_dir, self.channels),
            platforms={c.id: c.platform for c in self.channels.values()},
            clock=self.clock,
            on_publish=lambda notice, now: self.incident_answers(notice, now),
        )

    @cached_property
    def incident_answers(self) -> IncidentAnswers:
        """Publishing an incident's drafted notice answers the posts that joined the incident."""
        from chalicelib.incidents.answers import IncidentAnswers

        return IncidentAnswers(
            client=self.dynamodb,
            storms=self.storms,
            policy=self.policy,
            notices_table=self.settings.table("notices"),
            outbox_table=self.settings.table("outbox"),
        )

    @cached_property
    def outbox(self) -> OutboxStore:
        from chalicelib.store.outbox import OutboxStore

        return OutboxStore(self.dynamodb, self.settings.table("outbox"))

    @cached_property
    def sender(self) -> Sender:
        """The delivery stage; the local stack replaces it with one aimed at the platform sandbox."""
        from chalicelib.delivery.wiring import build_sender

        return build_sender(self)


_current: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    global _current  # noqa: PLW0603 - one runtime per process, as Lambda keeps one per container
    with _lock:
        if _current is None:
            _current = Runtime(Settings.from_env())
        return _current


def use(runtime: Runtime | None) -> None:
    """Install a runtime (tests, the local runner); None resets to lazily built defaults."""
    global _current  # noqa: PLW0603
    with _lock:
        _current = runtime

"""The scheduled sweep (app.py `sweep_slas`, every minute): return items whose lease expired to their
queue, mark items at risk or breached, bump their priority, count it (EMF metrics), and tell people: one
notification per sweep on the SNS topic `EscalationAlertsTopic` in AWS, a log line locally."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.clock import iso
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.clock import Clock
    from chalicelib.escalations.queue import EscalationQueue

ALERTS_TOPIC_ENV = "CAREWIRE_ESCALATION_ALERTS_TOPIC"
"""The SNS topic ARN (infra/resources.yaml sets it); unset means alerts are logged."""


class Alerts(Protocol):
    def notify(self, subject: str, message: dict[str, Any]) -> None: ...


class LogAlerts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def notify(self, subject: str, message: dict[str, Any]) -> None:
        self.sent.append((subject, message))
        logger().warning(subject, extra={"alert": message})


class SnsAlerts:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client, self._topic = client, topic_arn

    def notify(self, subject: str, message: dict[str, Any]) -> None:
        self._client.publish(TopicArn=self._topic, Subject=subject[:100], Message=json.dumps(message))


def alerts_from_env(env: dict[str, str] | None = None) -> Alerts:
    topic = (os.environ if env is None else env).get(ALERTS_TOPIC_ENV)
    if not topic:
        return LogAlerts()
    import boto3

    return SnsAlerts(boto3.client("sns"), topic)


@dataclass
class SweepReport:
    at: str
    checked: int = 0
    leases_expired: list[str] = field(default_factory=list)
    at_risk: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


def sweep(queue: EscalationQueue, alerts: Alerts, now: datetime) -> SweepReport:
    """One pass over every open and claimed item of every queue."""
    report = SweepReport(at=iso(now))
    for name in queue.queue_names:
        for item in list(queue.live(queue.queue(name))):
            report.checked += 1
            expired, state = queue.sweep_item(item, now)
            if expired:
                report.leases_expired.append(item["escalation_id"])
            if state == "at_risk":
                report.at_risk.append(item["escalation_id"])
            elif state == "breached":
                report.breached.append(item["escalation_id"])
    COUNTERS.count("EscalationLeasesExpired", len(report.leases_expired))
    COUNTERS.count("EscalationsAtRisk", len(report.at_risk))
    COUNTERS.count("EscalationsBreached", len(report.breached))
    if report.at_risk or report.breached:
        subject = f"Carewire: {len(report.breached)} escalation(s) breached SLA, {len(report.at_risk)} at risk"
        alerts.notify(subject, {"at": report.at, "breached": report.breached, "at_risk": report.at_risk})
    return report


class SweepParts(Protocol):
    """What the sweep needs of the runtime (named here, so this module does not depend on `runtime`)."""

    @property
    def escalations(self) -> EscalationQueue: ...

    @property
    def escalation_alerts(self) -> Alerts: ...

    @property
    def clock(self) -> Clock: ...


def run(runtime: SweepParts) -> dict[str, Any]:
    """The scheduled entry point (`runtime`: the Runtime)."""
    return sweep(runtime.escalations, runtime.escalation_alerts, runtime.clock()).to_doc()

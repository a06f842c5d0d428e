"""What opening an incident does, once: one alert, one incident escalation, one draft notice.

Every write is keyed on the incident id (`esc-<incident>`, `draft-<incident>`), so running the setup twice —
the opener, then the sweep after a crash — leaves one of each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.clock import Clock, parse
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.observability import COUNTERS, logger

if TYPE_CHECKING:
    from chalicelib.escalations.sweep import Alerts
    from chalicelib.notices.service import Notices
    from chalicelib.policy.model import Policy

SETUP_AUTHOR = "carewire:storms"


class IncidentSetup:
    def __init__(
        self,
        *,
        client: Any,
        escalations_table: str,
        policy: Policy,
        notices: Notices | None,
        alerts: Alerts,
        clock: Clock,
    ) -> None:
        self._client = client
        self._table = escalations_table
        self._policy = policy
        self._notices = notices
        self._alerts = alerts
        self._clock = clock

    def __call__(self, incident: dict[str, Any]) -> None:
        where = incident.get("region") or "everywhere"
        COUNTERS.count("IncidentsOpened")
        self._alerts.notify(
            f"Carewire: storm of {incident['topic']} posts ({where})",
            {
                "incident_id": incident["incident_id"],
                "topic": incident["topic"],
                "region": incident.get("region"),
                "posts_in_window": incident.get("window_count"),
                "baseline_per_minute": incident.get("baseline_per_minute"),
                "opened_at": incident["opened_at"],
                "escalation_id": incident["escalation_id"],
                "draft_notice": incident["notice_id"],
            },
        )
        self._escalation(incident)
        self._draft_notice(incident)

    def _escalation(self, incident: dict[str, Any]) -> None:
        from chalicelib.escalations import new_item
        from chalicelib.store.dynamo import to_item

        queue = self._policy.queues.get(incident["queue"])
        if queue is None:
            logger().error("storm queue is not configured", extra={"queue": incident["queue"]})
            return
        opened = parse(incident["opened_at"])
        where = incident.get("region") or "every region"
        post = Post(
            platform="carewire",
            channel="storms",
            post_id=incident["incident_id"],
            conversation_id=incident["incident_id"],
            author=Author(id=SETUP_AUTHOR, handle="carewire"),
            text=(
                f"Storm: {incident.get('window_count')} {incident['topic']} posts in {where} within minutes "
                f"(baseline {incident.get('baseline_per_minute')}/min). Posts about it attach to this item; "
                f"draft notice {incident['notice_id']} is ready to complete and publish."
            ),
            created_at=incident["opened_at"],
        )
        classification = Classification(
            topic=incident["topic"],
            sentiment=Sentiment("negative", -0.5),
            churn_risk=False,
            addressed_to_brand=True,
            language="en",
            regions=(incident["region"],) if incident.get("region") else (),
            services=tuple(incident.get("services") or ()),
        )
        item = new_item(
            post=post,
            classification=classification,
            queue=queue,
            priority=int(incident["priority"]),
            sla_minutes=None,
            rule="storm",
            now=opened,
        )
        item.update(escalation_id=incident["escalation_id"], incident_id=incident["incident_id"])
        from chalicelib.escalations import counts

        put = {
            "TableName": self._table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(escalation_id)",
        }
        try:
            self._client.transact_write_items(
                TransactItems=[{"Put": put}, *counts.transact_updates(self._table, counts.deltas(None, item))]
            )
        except self._client.exceptions.TransactionCanceledException:
            return  # set up already

    def _draft_notice(self, incident: dict[str, Any]) -> None:
        if self._notices is None:
            return
        from chalicelib.notices.errors import NoticeError, NoticeExists

        where = incident.get("region")
        title = f"Service issue{' in ' + where if where else ''}"
        body = (
            "We know some customers"
            + (f" in {where}" if where else "")
            + " are having trouble with our service and our engineers are working on it. "
            "We will post an update here as soon as it is fixed."
        )
        fields: dict[str, Any] = {
            "id": incident["notice_id"],
            "kind": "outage",
            "title": {"en": title},
            "body": {"en": body},
            "starts_at": incident["opened_at"],
            "language": "en",
            "regions": [where] if where else [],
            "services": list(incident.get("services") or []),
            "keywords": list(incident.get("keywords") or []),
            "follow_up": {
                "en": "Good news: the service"
                + (f" in {where}" if where else "")
                + " is back to normal. Thank you for your patience."
            },
        }
        try:
            self._notices.create(fields, SETUP_AUTHOR)
        except NoticeExists:
            return  # set up already
        except NoticeError as exc:
            logger().error("draft notice for the incident could not be created", extra={"error": str(exc)})

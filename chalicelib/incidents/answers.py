"""When an incident's notice is published, the customers whose posts joined the incident are answered with it.

The posts attached to a storm got at most one canned "we know" (and often nothing: the budgets hold the rest).
Publishing the incident's drafted notice (`draft-<incident>`) answers each of them with the notice — one reply
per post, so a post that already had its reply is not answered twice — and records the citation, so resolving
the notice sends each the "service restored" follow-up. At most `limit` answers per publish.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.clock import iso
from chalicelib.notices.items import CITED, notice_pk
from chalicelib.observability import COUNTERS, logger
from chalicelib.outbox import OutboxRejected, outbox_item
from chalicelib.publishing import every_contact
from chalicelib.reply_text import notice_reply_text
from chalicelib.store.dynamo import to_item

if TYPE_CHECKING:
    from chalicelib.incidents.storms import StormWatch
    from chalicelib.model import Notice
    from chalicelib.policy.model import Policy

DRAFT_PREFIX = "draft-"
DEFAULT_LIMIT = 500


def incident_of(notice_id: str) -> str | None:
    """The incident a drafted notice was opened for (`draft-inc-…`), or None for any other notice."""
    rest = notice_id.removeprefix(DRAFT_PREFIX)
    return rest if rest != notice_id and rest.startswith("inc-") else None


class IncidentAnswers:
    def __init__(
        self, *, client: Any, storms: StormWatch, policy: Policy, notices_table: str, outbox_table: str
    ) -> None:
        self._client = client
        self._storms = storms
        self._policy = policy
        self._notices_table = notices_table
        self._outbox_table = outbox_table

    def __call__(self, notice: Notice, now: datetime, limit: int = DEFAULT_LIMIT) -> int:
        """Answer the incident's attached posts with `notice`; how many replies were queued."""
        incident_id = incident_of(notice.id)
        if incident_id is None:
            return 0
        queued = 0
        for attached in self._storms.attached_posts(incident_id)[:limit]:
            try:
                queued += self._answer(notice, attached, now)
            except OutboxRejected as exc:  # e.g. the platform's limit; the others still get their answer
                logger().warning("incident answer not queued", extra={"reason": exc.message})
        COUNTERS.count("IncidentAnswers", queued)
        return queued

    def _answer(self, notice: Notice, attached: dict[str, Any], now: datetime) -> int:
        said = str(attached.get("language") or "")
        language = said if said in notice.title else notice.language
        doc = {
            "title": notice.title.get(language, ""),
            "body": notice.body.get(language, ""),
            "link": notice.link,
        }
        text = notice_reply_text(doc, attached["platform"], self._policy.own_contact)
        private = bool(attached.get("is_dm"))
        item = outbox_item(
            kind="dm" if private else "reply",
            key=(attached["post_key"],),
            channel=attached["channel"],
            platform=attached["platform"],
            created_at=iso(now),
            text=text,
            private=private,
            in_reply_to_post_id=attached["post_id"],
            conversation_id=attached["conversation_id"],
            recipient_id=str(attached.get("author_id") or ""),
            customer_at=str(attached.get("created_at") or ""),
            contacts=every_contact(self._policy.content_rules),
            template="notice",
            rule="incident-notice",
            notice_id=notice.id,
            notice_version=notice.version,
        )
        citation = {
            "pk": notice_pk(notice.id),
            "sk": f"{CITED}{attached['post_key']}",
            "notice_id": notice.id,
            "notice_version": notice.version,
            "post_key": attached["post_key"],
            "platform": attached["platform"],
            "channel": attached["channel"],
            "post_id": attached["post_id"],
            "conversation_id": attached["conversation_id"],
            "author_id": attached.get("author_id"),
            "is_dm": private,
            "language": language,
            "cited_at": iso(now),
        }
        cite = {"Put": {"TableName": self._notices_table, "Item": to_item(citation)}}
        reply = {
            "Put": {
                "TableName": self._outbox_table,
                "Item": to_item(item),
                "ConditionExpression": "attribute_not_exists(reply_id)",
            }
        }
        try:
            self._client.transact_write_items(TransactItems=[reply, cite])
        except self._client.exceptions.TransactionCanceledException:
            # the post already had its one reply: it is still told when the service is back
            self._client.put_item(TableName=self._notices_table, Item=to_item(citation))
            return 0
        return 1

"""A stored decision says which notice version it cited and what it said (issue 13), through the processor
on DynamoDB Local."""

from __future__ import annotations

from chalicelib.runtime import Runtime
from tests.integration.test_notices_lifecycle import _published
from tests.integration.test_pipeline import OUTAGE, _event
from tests.support import mention_delivery


def test_the_decision_records_the_notice_version_and_the_text_sent(ddb_runtime: Runtime) -> None:
    notice = _published(ddb_runtime.notices, "outage-qc")
    assert notice.version == 2
    ddb_runtime.processor.process(_event(ddb_runtime, mention_delivery("7001", OUTAGE)))
    decision = ddb_runtime.store.decision("x#7001")
    assert decision is not None
    assert decision["rule"] == "outage-with-notice"
    assert decision["notice"] == {"id": "outage-qc", "version": 2}
    assert decision["replies"] == [
        {
            "template": "notice",
            "private": False,
            "text": "Mobile data outage in Quezon City: A fibre cut affects mobile data. "
            "https://bayanitel.example/advisories/qc",
        }
    ]

"""Priority: the policy's base priority, made more urgent by what the customer said and by how long they
have waited relative to the promise. 1 is the most urgent, 5 the least; every step is explainable.

- classification: churn risk, anger (sentiment score at or below ANGRY_SCORE), urgency (at or above
  URGENT) — one step each, at most MAX_CLASSIFICATION_STEPS; the strongest of the original post and every
  follow-up counts (a customer who gets angrier gets seen sooner; calming down does not demote them);
- aging: one step when the SLA is at risk (AT_RISK_FRACTION of its business minutes gone), two when breached.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.clock import iso

ANGRY_SCORE = -0.75
URGENT = 0.75
MAX_CLASSIFICATION_STEPS = 2
AT_RISK_FRACTION = 0.75
SLA_STEPS = {"ok": 0, "at_risk": 1, "breached": 2}
SLA_SEVERITY = ("ok", "at_risk", "breached")
MOST_URGENT, LEAST_URGENT = 1, 5


def classification_steps(classification: Mapping[str, Any]) -> int:
    """How many steps what the customer said is worth (a Classification document)."""
    score = float((classification.get("sentiment") or {}).get("score", 0.0))
    steps = sum(
        (
            bool(classification.get("churn_risk")),
            score <= ANGRY_SCORE,
            float(classification.get("urgency") or 0.0) >= URGENT,
        )
    )
    return min(steps, MAX_CLASSIFICATION_STEPS)


def effective_priority(base: int, steps: int, sla_state: str = "ok") -> int:
    return max(MOST_URGENT, min(LEAST_URGENT, base - steps - SLA_STEPS[sla_state]))


def sla_state(item: Mapping[str, Any], now: datetime) -> str:
    """ok / at_risk / breached for an item at `now`; once a person has answered, the state is final."""
    current = str(item.get("sla_state", "ok"))
    if item.get("first_response_at"):
        return current
    moment = iso(now)
    if moment >= item["due_at"]:
        return "breached"
    if moment >= item["at_risk_at"]:
        return "at_risk"
    return current

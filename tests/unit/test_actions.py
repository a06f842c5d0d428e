"""What actions write: escalation items, rendered replies (masked, length-limited)."""

from __future__ import annotations

from datetime import UTC, datetime
from string import Template
from typing import Any

from chalicelib.actions import ACTIONS, ActContext, Effect, render
from chalicelib.delivery.text import x_length
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.policy.loader import load_policy
from chalicelib.policy.model import ReplyTemplate
from tests.conftest import POLICIES

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _item(effect: Effect) -> dict[str, Any]:
    assert effect.item is not None, "expected a Put"
    return effect.item


def _post(text: str = "thanks!", name: str = "Maria Santos", platform: str = "x", is_dm: bool = False) -> Post:
    return Post(
        platform=platform,
        channel="x-care",
        post_id="9",
        conversation_id="9",
        author=Author("1", "maria_qc", name),
        text=text,
        created_at="2026-11-23T09:00:00.000Z",
        is_dm=is_dm,
    )


def _classification(language: str = "en") -> Classification:
    return Classification(
        topic="praise",
        sentiment=Sentiment("positive", 0.8),
        churn_risk=False,
        addressed_to_brand=True,
        language=language,
    )


def test_escalate_uses_queue_sla_and_ranks_by_priority_then_due() -> None:
    policy = load_policy(POLICIES)
    context = ActContext(_post(), _classification(), "churn", policy, NOW)
    effect, counter = ACTIONS["escalate"].effects({"queue": "retention", "priority": 1}, context)
    assert (counter.key, counter.update) == ({"escalation_id": "counts#retention"}, "ADD #n :one, #s :one")
    assert counter.names == {"#n": "n_open_1", "#s": "sla_ok"}
    assert effect.table == "escalations"
    assert _item(effect)["due_at"] == "2026-11-23T09:30:00.000Z"
    assert _item(effect)["rank"] == "1#2026-11-23T09:30:00.000Z"
    assert _item(effect)["queue_status"] == "retention#open"


def test_escalation_id_is_stable_per_post() -> None:
    policy = load_policy(POLICIES)
    params = {"type": "escalate", "queue": "care", "priority": 3, "sla_minutes": 5}
    first = ACTIONS["escalate"].effects(params, ActContext(_post(), _classification(), "r", policy, NOW))[0]
    again = ACTIONS["escalate"].effects(params, ActContext(_post(), _classification(), "r", policy, NOW))[0]
    assert _item(first)["escalation_id"] == _item(again)["escalation_id"]
    assert _item(first)["due_at"] == "2026-11-23T09:05:00.000Z"


def test_reply_uses_the_post_language_with_fallback() -> None:
    policy = load_policy(POLICIES)
    params = {"type": "reply", "template": "thanks"}
    tagalog = ACTIONS["reply"].effects(params, ActContext(_post(), _classification("tl"), "r", policy, NOW))[0]
    unknown = ACTIONS["reply"].effects(params, ActContext(_post(), _classification("unknown"), "r", policy, NOW))[0]
    assert _item(tagalog)["text"].startswith("Salamat po Maria")
    assert _item(unknown)["text"].startswith("Thank you Maria")
    assert _item(tagalog)["private"] is False


def test_reply_to_a_dm_is_private() -> None:
    policy = load_policy(POLICIES)
    context = ActContext(_post(is_dm=True), _classification(), "r", policy, NOW)
    [effect] = ACTIONS["reply"].effects({"template": "thanks"}, context)
    assert _item(effect)["private"] is True


def test_render_masks_personal_data_in_variables() -> None:
    text = render(ReplyTemplate(Template("Hi $name!")), _post(name="maria@example.com"), _classification())
    assert "example.com" not in text
    assert "[email]" in text


def test_render_respects_the_platform_limit() -> None:
    text = render(ReplyTemplate(Template("x" * 400)), _post(), _classification())
    assert x_length(text) == 280  # as X counts: "…" weighs 2
    assert text.endswith("…")

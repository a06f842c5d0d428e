"""Policy validation in passes, with located errors; evaluation order and isolation of broken rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.policy.engine import plan
from chalicelib.policy.loader import load_policy
from tests.conftest import POLICIES
from tests.support import policy_errors


def _write_rules(policy_dir: Path, text: str) -> Path:
    for old in (policy_dir / "rules").glob("*.yaml"):
        old.unlink()
    path = policy_dir / "rules" / "10-test.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_loads() -> None:
    policy = load_policy(POLICIES)
    assert [r.name for r in policy.rules[:2]] == ["spam", "not-for-us"]
    assert {"network", "care", "retention", "moderation"} <= set(policy.queues)


def test_duplicate_yaml_keys_are_an_error(policy_dir: Path) -> None:
    path = _write_rules(
        policy_dir, "rules:\n  - name: a\n    name: b\n    when: 'true'\n    actions: [{type: ignore}]\n"
    )
    [error] = policy_errors(policy_dir)
    assert str(path) in error
    assert "duplicate key 'name'" in error


def test_schema_errors_name_file_rule_and_field(policy_dir: Path) -> None:
    _write_rules(
        policy_dir, "rules:\n  - name: outage\n    when: 'true'\n    actions: [{type: escalate, priority: 9}]\n"
    )
    errors = policy_errors(policy_dir)
    assert any("rule 'outage': actions.0: 'queue' is a required property" in e for e in errors)
    assert any("rule 'outage': actions.0.priority: 9 is greater than the maximum of 5" in e for e in errors)


def test_unknown_action_lists_the_valid_ones(policy_dir: Path) -> None:
    _write_rules(policy_dir, "rules:\n  - name: x\n    when: 'true'\n    actions: [{type: tweet}]\n")
    [error] = policy_errors(policy_dir)
    assert "actions.0.type: 'tweet' is not one of ['escalate', 'hide', 'ignore', 'notice', 'reply', 'tag']" in error


def test_unknown_rule_field_is_an_error(policy_dir: Path) -> None:
    _write_rules(policy_dir, "rules:\n  - name: x\n    when: 'true'\n    wen: 'true'\n    actions: [{type: ignore}]\n")
    [error] = policy_errors(policy_dir)
    assert "Additional properties are not allowed ('wen' was unexpected)" in error


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("classification.topic ==", "JMESPath does not compile"),
        ("shout(post.text)", "unknown function(s) ['shout']"),
        ("!classification.spam", "write `!(a.b)`"),
    ],
)
def test_expressions_are_checked_at_load(policy_dir: Path, when: str, message: str) -> None:
    _write_rules(policy_dir, f'rules:\n  - name: r1\n    when: "{when}"\n    actions: [{{type: ignore}}]\n')
    [error] = policy_errors(policy_dir)
    assert "rule 'r1': when:" in error
    assert message in error


def test_meaning_pass_checks_queues_templates_and_names(policy_dir: Path) -> None:
    _write_rules(
        policy_dir,
        """rules:
  - {name: a, when: 'true', actions: [{type: escalate, queue: nowhere, priority: 1}]}
  - {name: b, when: 'true', actions: [{type: reply, template: missing}]}
  - {name: a, when: 'true', actions: [{type: ignore}]}
""",
    )
    errors = policy_errors(policy_dir)
    assert any(
        "actions[0].queue: unknown queue 'nowhere'; valid: ['care', 'moderation', 'network', 'retention']" in e
        for e in errors
    )
    assert any("rule 'b': actions[0].template: unknown template 'missing'" in e for e in errors)
    assert any("rule 'a': name: rule name is also used in" in e for e in errors)


def test_template_variables_are_checked(policy_dir: Path) -> None:
    (policy_dir / "templates" / "en.yaml").write_text(
        "language: en\ntemplates:\n  outage_ack: hi $account_number\n  account_dm: x\n  thanks: y\n", encoding="utf-8"
    )
    errors = policy_errors(policy_dir)
    assert any("outage_ack: unknown variable(s) ['account_number']" in e for e in errors)


def test_first_matching_rule_wins_and_broken_rules_do_not_stop_others(policy_dir: Path) -> None:
    _write_rules(
        policy_dir,
        """rules:
  - {name: broken, when: "regex_match(post.count, 'x')", actions: [{type: ignore}]}
  - {name: outage, when: "classification.topic == 'outage'", actions: [{type: escalate, queue: network, priority: 2}]}
  - {name: also-outage, when: "classification.topic == 'outage'", actions: [{type: ignore}]}
""",
    )
    policy = load_policy(policy_dir)
    post = Post("x", "x-care", "1", "1", Author("2"), "down", "2026-11-23T00:00:00.000Z")
    classification = Classification("outage", Sentiment("negative", -0.5), False, True, "en")
    context = {"post": {"count": 3}, "classification": {"topic": "outage"}, "now": "2026-11-23T00:00:00.000Z"}
    verdict = plan(policy, context, post, classification)
    assert verdict.rule == "outage"
    assert verdict.evaluated == ("broken!error", "outage+")
    assert "broken" in verdict.errors[0]


def test_order_field_sorts_rules_across_files(policy_dir: Path) -> None:
    _write_rules(policy_dir, "rules:\n  - {name: late, order: 50, when: 'true', actions: [{type: ignore}]}\n")
    (policy_dir / "rules" / "00-early.yaml").write_text(
        "rules:\n  - {name: early, order: 5, when: 'true', actions: [{type: ignore}]}\n", encoding="utf-8"
    )
    assert [r.name for r in load_policy(policy_dir).rules] == ["early", "late"]


def test_custom_functions() -> None:
    from chalicelib.policy.expressions import search

    doc = {"post": {"text": "No SIGNAL in Cubao"}, "tags": ["a", "b"]}
    assert search("regex_match(post.text, 'no\\s+signal')", doc) is True
    assert search("contains_any(post.text, ['cubao', 'makati'])", doc) is True
    assert search("contains_any(tags, ['c'])", doc) is False


def test_validated_digest_skips_only_the_schema_pass(policy_dir: Path) -> None:
    from chalicelib.policy.loader import VALIDATED_MARK, policy_digest

    (policy_dir / VALIDATED_MARK).write_text(policy_digest(policy_dir), encoding="utf-8")
    assert load_policy(policy_dir).rules  # trusted and unchanged: loads
    # a change after validation voids the digest: the schema pass runs again and catches it
    _write_rules(policy_dir, "rules:\n  - name: x\n    when: 'true'\n    wen: 'true'\n    actions: [{type: ignore}]\n")
    assert any("'wen' was unexpected" in e for e in policy_errors(policy_dir))


def test_published_schema_is_current() -> None:
    """policies/rules.schema.json is what editors validate against: it must match the registries."""
    import json

    from chalicelib.policy.schema import rule_file_schema

    published = json.loads((POLICIES / "rules.schema.json").read_text(encoding="utf-8"))
    assert published == rule_file_schema(), "run: carewire policies schema > policies/rules.schema.json"


def test_post_age_guardrail_is_read_and_validated(policy_dir: Path) -> None:
    path = policy_dir / "guardrails.yaml"
    path.write_text("post_age:\n  max_reply_age_hours: 6\n", encoding="utf-8")
    assert load_policy(policy_dir).guardrails.max_reply_age_hours == 6
    path.write_text("post_age:\n  max_reply_age_hours: 0\n  max_age: 3\n", encoding="utf-8")
    errors = policy_errors(policy_dir)
    assert any(
        f"{path}: post_age.max_reply_age_hours: 0 is less than or equal to the minimum of 0" in e for e in errors
    )
    assert any("'max_age' was unexpected" in e for e in errors)

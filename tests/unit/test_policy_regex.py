"""Policy regexes: compiled at load (a bad one is a located error), evaluated with a time limit (a rule
that runs past it is recorded and skipped for that post; the other rules still decide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.policy.engine import plan
from chalicelib.policy.errors import RegexTimeout
from chalicelib.policy.expressions import regex_search, search
from chalicelib.policy.loader import load_policy
from tests.support import policy_errors
from tests.unit.test_policy_loader import _write_rules

ADVERSARIAL = "(a+)+$"


def test_a_regex_that_does_not_compile_is_a_located_load_error(policy_dir: Path) -> None:
    path = _write_rules(
        policy_dir,
        "rules:\n  - name: broken\n    when: \"regex_match(post.text, 'no(signal')\"\n    actions: [{type: ignore}]\n",
    )
    [error] = policy_errors(policy_dir)
    assert error.startswith(f"{path}: rule 'broken': when: regex 'no(signal' does not compile")


def test_a_pattern_read_from_the_document_is_refused(policy_dir: Path) -> None:
    _write_rules(
        policy_dir,
        "rules:\n  - name: inject\n    when: post\n    unless: 'regex_match(post.text, post.text)'\n"
        "    actions: [{type: ignore}]\n",
    )
    [error] = policy_errors(policy_dir)
    assert "rule 'inject': unless: regex_match takes its pattern as a literal 'string'" in error


def test_the_adversarial_pattern_times_out_instead_of_hanging() -> None:
    with pytest.raises(RegexTimeout) as caught:
        regex_search(ADVERSARIAL, "a" * 2000 + "!")
    assert caught.value.length == 2001
    assert search("regex_match(post.text, '(a+)+$')", {"post": {"text": "aaaa"}}) is True  # ordinary texts still match


def test_a_rule_that_times_out_is_recorded_and_skipped_for_that_post(policy_dir: Path) -> None:
    _write_rules(
        policy_dir,
        f"""rules:
  - name: redos
    when: "regex_match(post.text, '{ADVERSARIAL}')"
    actions: [{{type: escalate, queue: care, priority: 1}}]
  - {{name: fallback, when: '`true`', actions: [{{type: escalate, queue: network, priority: 3}}]}}
""",
    )
    policy = load_policy(policy_dir)
    text = "a" * 5000 + "!"
    post = Post("x", "x-care", "1", "1", Author("2"), text, "2026-11-23T00:00:00.000Z")
    classification = Classification("other", Sentiment("neutral", 0.0), False, True, "en")
    context = {"post": {"text": text}, "classification": {}, "now": "2026-11-23T00:00:00.000Z"}
    verdict = plan(policy, context, post, classification)
    assert verdict.evaluated == ("redos!timeout", "fallback+")
    assert verdict.rule == "fallback"
    assert any(note.startswith("redos: skipped for this post: regex '(a+)+$' ran past") for note in verdict.guardrails)

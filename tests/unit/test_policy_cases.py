"""The policy's own test cases (policies/tests/*.yaml) run in CI, and the runner can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.channels.config import load_channels
from chalicelib.classify import Classifier
from chalicelib.policy.errors import PolicyErrors
from chalicelib.policy.loader import load_policy
from chalicelib.policy.testing import CaseResult, run_cases
from tests.conftest import POLICIES

POLICY = load_policy(POLICIES)
CLASSIFIER = Classifier.from_policies(POLICIES)
CHANNELS = load_channels(POLICIES / "channels.yaml")
RESULTS = run_cases(POLICY, CLASSIFIER, CHANNELS, POLICIES / "tests")


@pytest.mark.parametrize("result", RESULTS, ids=[f"{Path(r.file).stem}: {r.name}" for r in RESULTS])
def test_policy_case(result: CaseResult) -> None:
    assert result.passed, "\n".join(result.failures)


def test_every_default_rule_has_a_case() -> None:
    fired = {r.decision["rule"] for r in RESULTS if Path(r.file).stem == "default-pack"}  # no extra rules there
    assert {rule.name for rule in POLICY.rules} <= fired


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(
        "cases:\n  - name: wrong\n    post: {text: '@bayanitelcares thank you so much, great service!'}\n"
        "    expect: {action: escalate, rule: churn-to-retention}\n",
        encoding="utf-8",
    )
    [result] = run_cases(POLICY, CLASSIFIER, CHANNELS, tmp_path)
    assert not result.passed
    assert any(f.startswith("action: expected 'escalate'") for f in result.failures)


def test_extra_rules_are_validated(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(
        "cases:\n  - name: bad rule\n    extra_rules: [{name: x, when: 'nope(', actions: [{type: ignore}]}]\n"
        "    post: {text: hi}\n    expect: {action: ignore}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyErrors, match="JMESPath does not compile"):
        run_cases(POLICY, CLASSIFIER, CHANNELS, tmp_path)

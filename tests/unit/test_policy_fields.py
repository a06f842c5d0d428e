"""The classification fields a rule may read: `policies check` knows them, and they match the document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chalicelib.model import Classification, Sentiment
from chalicelib.policy.errors import PolicyErrors
from chalicelib.policy.fields import CLASSIFICATION_FIELDS, valid_fields
from chalicelib.policy.loader import load_policy
from chalicelib.policy.schema import rule_file_schema
from tests.conftest import POLICIES


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def _rules(policy_dir: Path, when: str) -> None:
    for old in (policy_dir / "rules").glob("*.yaml"):
        old.unlink()
    (policy_dir / "rules" / "10-test.yaml").write_text(
        f'rules:\n  - name: r\n    when: "{when}"\n    actions: [{{type: ignore}}]\n', encoding="utf-8"
    )


def test_the_field_table_is_the_classification_document() -> None:
    doc = Classification("other", Sentiment("neutral", 0.0), False, True, "en").to_doc()
    assert set(doc) == set(CLASSIFICATION_FIELDS)
    assert set(doc["sentiment"]) == set(CLASSIFICATION_FIELDS["sentiment"])
    assert set(doc["needs_human"]) == set(CLASSIFICATION_FIELDS["needs_human"]) == {"value", "p"}


@pytest.mark.parametrize(
    "when",
    [
        "classification.needs_human.p >= `0.6`",
        "classification.churn.p > `0.5` && classification.spam_p < `0.1`",
        "classification.topics.outage >= `0.4`",
        "classification.sentiment.p.negative > `0.7`",
        "length(classification.evidence.topic) > `0`",
    ],
)
def test_probabilities_are_readable_by_rules(policy_dir: Path, when: str) -> None:
    _rules(policy_dir, when)
    load_policy(policy_dir)


@pytest.mark.parametrize(
    ("when", "bad"),
    [
        ("classification.needs_humna.p >= `0.6`", "classification.needs_humna"),
        ("classification.needs_human.prob >= `0.6`", "classification.needs_human.prob"),
        ("!(classification.spam_probability)", "classification.spam_probability"),
    ],
)
def test_a_misspelt_field_is_an_error_naming_it(policy_dir: Path, when: str, bad: str) -> None:
    _rules(policy_dir, when)
    with pytest.raises(PolicyErrors) as caught:
        load_policy(policy_dir)
    [error] = [str(e) for e in caught.value.errors]
    assert "rule 'r'" in error and repr(bad) in error


def test_the_schema_tells_editors_the_fields() -> None:
    when = rule_file_schema()["properties"]["rules"]["items"]["properties"]["when"]["description"]
    assert "classification.needs_human.p" in when and "classification.needs_human.p" in valid_fields()

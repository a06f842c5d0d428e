"""`carewire policies check`: the broken edits a care lead makes, each caught in one run with its file, line,
rule and field, in words (issue 13). Each test edits a copy of the default pack."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from chalicelib.policy.check import check_policies


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _errors(directory: Path) -> list[str]:
    _, errors = check_policies(directory)
    assert errors, "the check must fail"
    return [str(e) for e in errors]


def _one(directory: Path) -> str:
    errors = _errors(directory)
    assert len(errors) == 1, errors
    return errors[0]


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_the_default_pack_passes() -> None:
    from tests.conftest import POLICIES

    policy, errors = check_policies(POLICIES)
    assert policy is not None
    assert errors == []


def test_a_typo_in_a_field_path_is_located_with_a_suggestion(policy_dir: Path) -> None:
    rules = _edit(
        policy_dir / "rules" / "10-default.yaml", "when: classification.churn_risk", "when: clasification.churn_risk"
    )
    error = _one(policy_dir)
    line = _line(rules, "clasification.churn_risk")
    assert error.startswith(f"{rules}:{line}: rule 'churn-to-retention': when: unknown field 'clasification'")
    assert "did you mean 'classification'?" in error


def test_a_typo_deeper_in_a_path_suggests_the_whole_path(policy_dir: Path) -> None:
    _edit(policy_dir / "rules" / "10-default.yaml", "when: classification.spam", "when: post.is_dn")
    assert "unknown field 'post.is_dn'; did you mean 'post.is_dm'?" in _one(policy_dir)


def test_a_regex_that_does_not_compile(policy_dir: Path) -> None:
    rules = _edit(
        policy_dir / "rules" / "10-default.yaml",
        "when: classification.needs_human.value",
        "when: \"regex_match(post.text, '(idiot|stupid')\"",
    )
    error = _one(policy_dir)
    assert error.startswith(f"{rules}:{_line(rules, 'idiot|stupid')}: rule 'needs-a-person': when: regex")
    assert "does not compile" in error


def test_a_string_compared_with_a_number(policy_dir: Path) -> None:
    _edit(
        policy_dir / "rules" / "10-default.yaml", "classification.topic_p >= `0.6`", "classification.urgency >= '0.5'"
    )
    error = _one(policy_dir)
    assert "rule 'outage-acknowledge': when: 'classification.urgency' is a number and '0.5' is a text" in error
    assert "write `0.5` (in backticks)" in error


def test_a_value_a_field_never_has(policy_dir: Path) -> None:
    _edit(policy_dir / "rules" / "10-default.yaml", "sentiment.label == 'positive'", "sentiment.label == 'positiv'")
    assert "is never 'positiv'; did you mean 'positive'?" in _one(policy_dir)


def test_broken_yaml_in_the_lexicon_names_the_file_and_line(policy_dir: Path) -> None:
    churn = _edit(policy_dir / "lexicon" / "churn.yaml", "switch_verbs: [", "switch_verbs: [[")
    error = _one(policy_dir)
    assert re.match(rf"{re.escape(str(churn))}:\d+: invalid YAML: ", error), error
    assert "<unicode string>" not in error


def test_a_lexicon_that_parses_but_does_not_load(policy_dir: Path) -> None:
    path = policy_dir / "lexicon" / "churn.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    assert str(path) in _one(policy_dir)


def test_a_lexicon_entry_of_the_wrong_kind_is_located(policy_dir: Path) -> None:
    churn = policy_dir / "lexicon" / "churn.yaml"
    churn.write_text("# churn\nswitch_verbs: [switch]\nphrases: cancel my plan\n", encoding="utf-8")
    assert _one(policy_dir) == f"{churn}:3: phrases: expected a list"


def test_an_unknown_role_in_access_yaml(policy_dir: Path) -> None:
    access = _edit(policy_dir / "access.yaml", "  agent: [CarewireAgents]", "  agnet: [CarewireAgents]")
    assert _one(policy_dir) == (
        f"{access}:{_line(access, 'agnet')}: roles.agnet: 'agnet' is not one of agent, supervisor, marketer, admin; "
        "did you mean 'agent'?"
    )


def test_a_bad_opening_window_is_worded_for_a_person(policy_dir: Path) -> None:
    calendars = _edit(policy_dir / "calendars.yaml", '["08:00-20:00"]', '["08:00-25:00"]')
    error = _one(policy_dir)
    assert error.startswith(f"{calendars}:")
    assert "'08:00-25:00' is not an opening window HH:MM-HH:MM on a 24-hour clock, like 08:00-20:00" in error
    assert "^(" not in error and "\\d" not in error


def test_a_duplicate_rule_name_has_both_lines(policy_dir: Path) -> None:
    rules = _edit(policy_dir / "rules" / "10-default.yaml", "- name: needs-a-person", "- name: spam")
    first, second = [
        n for n, line in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if "- name: spam" in line
    ]
    assert _one(policy_dir) == f"{rules}:{second}: rule 'spam': name: duplicate rule name; also used at {rules}:{first}"


def test_an_unknown_field_in_channels_and_queues(policy_dir: Path) -> None:
    _edit(policy_dir / "channels.yaml", "    platform: x", "    platfrom: x")
    _edit(policy_dir / "queues.yaml", "    calendar: manila-retention", "    calendar: manila-retension")
    errors = _errors(policy_dir)
    assert any("channels.yaml" in e and "unknown field(s) ['platfrom']" in e for e in errors), errors
    assert any("queues.yaml:" in e and "unknown calendar 'manila-retension'" in e for e in errors), errors


def test_an_example_notice_naming_an_unknown_region(policy_dir: Path) -> None:
    example = policy_dir / "notices" / "examples" / "qc-mobile-data-outage.yaml"
    _edit(example, "regions: [Quezon City]", "regions: [Quezon Cty]")
    error = _one(policy_dir)
    assert error.startswith(f"{example}:{_line(example, 'regions:')}: regions[0]: unknown region 'Quezon Cty'")


def test_every_error_of_every_file_in_one_run(policy_dir: Path) -> None:
    _edit(policy_dir / "rules" / "10-default.yaml", "when: classification.churn_risk", "when: clasification.churn_risk")
    _edit(
        policy_dir / "rules" / "10-default.yaml", "classification.topic_p >= `0.6`", "classification.urgency >= '0.5'"
    )
    _edit(policy_dir / "lexicon" / "churn.yaml", "switch_verbs: [", "switch_verbs: [[")
    _edit(policy_dir / "access.yaml", "  agent: [CarewireAgents]", "  agnet: [CarewireAgents]")
    _edit(policy_dir / "calendars.yaml", '["08:00-20:00"]', '["08:00-25:00"]')
    _edit(policy_dir / "templates" / "en.yaml", "Thank you $name", "Thank you $nmae")
    errors = _errors(policy_dir)
    files = {e.split(":", 1)[0] for e in errors}
    assert len(errors) == 6, errors
    assert {Path(f).name for f in files} == {
        "10-default.yaml",
        "churn.yaml",
        "access.yaml",
        "calendars.yaml",
        "en.yaml",
    }
    assert all(re.match(r"^\S+\.yaml:\d+: ", e) for e in errors), errors


def test_the_operators_own_hotline_in_a_template_passes(policy_dir: Path) -> None:
    _edit(
        policy_dir / "templates" / "en.yaml",
        "If it's urgent, send us a DM",
        "Call our hotline +63 2 8888 1234 or email care@bayanitel.example, or send us a DM",
    )
    _, errors = check_policies(policy_dir)
    assert errors == []


def test_the_cli_reports_all_errors_and_exits_2(
    policy_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    _edit(policy_dir / "rules" / "10-default.yaml", "when: classification.churn_risk", "when: clasification.churn_risk")
    _edit(policy_dir / "access.yaml", "  agent: [CarewireAgents]", "  agnet: [CarewireAgents]")
    result = CliRunner().invoke(cli, ["--policies", str(policy_dir), "policies", "check"])
    assert result.exit_code == 2
    assert "did you mean 'classification'?" in result.output
    assert "'agnet' is not one of" in result.output
    assert "2 error(s) in 2 file(s)" in result.output


def test_package_refuses_what_check_refuses(policy_dir: Path, tmp_path: Path) -> None:
    from chalicelib.packaging import PackagingError, package

    _edit(policy_dir / "lexicon" / "churn.yaml", "switch_verbs: [", "switch_verbs: [[")
    root = tmp_path / "repo"
    (root / ".chalice").mkdir(parents=True)
    (root / "chalicelib").mkdir()
    (root / "app.py").write_text("", encoding="utf-8")
    (root / "requirements.txt").write_text("", encoding="utf-8")
    shutil.copytree(policy_dir, root / "policies")
    with pytest.raises(PackagingError, match=r"churn\.yaml:\d+: invalid YAML"):
        package(tmp_path / "out", root=root)


def test_the_context_schema_covers_every_part_the_engine_fills() -> None:
    from chalicelib.policy.fields import context_schema

    assert set(context_schema()["properties"]) == {
        "post",
        "classification",
        "author",
        "conversation",
        "channel",
        "brand",
        "notices",
        "incident",
        "now",
    }


def test_a_broken_file_is_one_error_not_one_per_rule_that_names_it(policy_dir: Path) -> None:
    queues = _edit(policy_dir / "queues.yaml", "    shards: 4", "    shards: 40")
    storms = _edit(policy_dir / "storms.yaml", "floor: 15", "flor: 15")
    assert _errors(policy_dir) == [
        f"{queues}:{_line(queues, 'shards: 40')}: queues.network.shards: 40 is too large: at most 16",
        f"{storms}:{_line(storms, 'flor')}: unknown setting 'flor'; did you mean 'floor'? "
        "known: window_minutes, baseline_minutes, floor, quiet_minutes, warmup_minutes, link_window_hours, priority, "
        "surprise, min_rate, link_similarity, topics, queue, region_parents, draft_keywords",
    ]


def test_an_example_notice_that_has_ended_says_how_to_fix_it(policy_dir: Path) -> None:
    example = _edit(
        policy_dir / "notices" / "examples" / "qc-mobile-data-outage.yaml",
        "ends_at: +24h",
        "ends_at: 2026-01-02T00:00Z",
    )
    assert _one(policy_dir) == (
        f"{example}:{_line(example, 'ends_at:')}: ends_at: already past (2026-01-02T00:00:00.000Z): `notices publish` "
        "would refuse it; write a time relative to now: now, +30m, +24h, -2h, +3d"
    )


def test_the_context_schema_is_what_the_engine_builds() -> None:
    """Every part the processor fills validates against the published schema, and the closed parts name
    exactly the fields the engine puts there: a rule may read what exists, nothing else."""
    from datetime import UTC, datetime

    from jsonschema import Draft202012Validator

    from chalicelib.channels.config import load_channels
    from chalicelib.classify import Classifier
    from chalicelib.model import Author, Post
    from chalicelib.notices.matching import NoticeMatch, context_notices
    from chalicelib.policy.context import context_document
    from chalicelib.policy.fields import context_schema
    from chalicelib.store.activity import Facts, context_parts
    from tests.conftest import POLICIES
    from tests.support import live_notice

    post = Post(
        "x", "x-care", "1", "1", Author("2", "ana", "Ana"), "@bayanitelcares no signal in Cubao", "2026-11-23T00:00:00Z"
    )
    classification = Classifier.from_policies(POLICIES).classify(post)
    notice = live_notice(regions=("Quezon City",))
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    document = context_document(
        post,
        classification,
        load_channels(POLICIES / "channels.yaml")["x-care"],
        "2026-11-23T01:00:00.000Z",
        context_parts(post, Facts({}, {}, {}), now),
        context_notices([NoticeMatch(notice, 3, ("region Quezon City",))], "en"),
    )
    schema = context_schema()
    assert [e.message for e in Draft202012Validator(schema).iter_errors(document)] == []
    for part in ("post", "classification", "author", "conversation", "channel", "brand"):
        assert set(document[part]) == set(schema["properties"][part]["properties"]), part
    assert set(document["notices"][0]) == set(schema["properties"]["notices"]["items"]["properties"])


def test_classify_with_a_broken_lexicon_is_one_located_line(
    policy_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    churn = _edit(policy_dir / "lexicon" / "churn.yaml", "switch_verbs: [", "switch_verbs: [[")
    result = CliRunner().invoke(cli, ["--policies", str(policy_dir), "classify", "hello"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: the lexicon does not load: {churn}:")
    assert "<unicode string>" not in result.output and "Traceback" not in result.output


BROKEN_CASES = """\
cases:
  - name: outage gets a person
    post: {text: "@bayanitelcares no signal"}
    expect: {actoin: escalate}
  - name: outage gets a person
    post: {txt: "hello"}
    expect: {action: escalte, private: "yes"}
  - name: nothing expected
    post: {text: "@bayanitelcares hi"}
"""


def test_a_policy_test_case_that_could_not_fail_is_refused_with_every_problem_located(policy_dir: Path) -> None:
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.testing import run_cases

    cases = policy_dir / "tests" / "broken.yaml"
    cases.write_text(BROKEN_CASES, encoding="utf-8")
    errors = [e for e in _errors(policy_dir) if e.startswith(str(cases))]
    assert len(errors) == 6, errors
    assert (
        f"{cases}:4: case 'outage gets a person': expect.actoin: unknown key 'actoin'; did you mean 'action'?"
        in (errors[0])
    )
    assert any(":5:" in e and "a second case named 'outage gets a person'" in e for e in errors)
    assert any(":6:" in e and "needs a post with a `text`" in e for e in errors)
    assert any(":7:" in e and "unknown action 'escalte'; did you mean 'escalate'?" in e for e in errors)
    assert any(":7:" in e and "expect.private: must be true or false" in e for e in errors)
    assert any(":8:" in e and "'nothing expected'" in e and "else it cannot fail" in e for e in errors)

    with pytest.raises(PolicyErrors) as refused:  # `policies test` refuses the file before running anything
        run_cases(None, None, {}, policy_dir / "tests")  # type: ignore[arg-type]
    assert len(refused.value.errors) == 6

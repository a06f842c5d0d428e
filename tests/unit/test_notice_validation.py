"""What a valid notice is: located (field, reason) errors, lexicon names, and the example files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.model import Notice
from chalicelib.notices.errors import NoticeInvalid
from chalicelib.notices.validate import Vocabulary, check_fields, check_notice, read_notice_file
from tests.conftest import POLICIES

VOCABULARY = Vocabulary.load(POLICIES, ["x-care"])
EXAMPLES = sorted((POLICIES / "notices" / "examples").glob("*.yaml"))


def _problems(doc: Any, creating: bool = True) -> dict[str, str]:
    with pytest.raises(NoticeInvalid) as caught:
        check_fields(doc, VOCABULARY, creating=creating)
    return dict(caught.value.errors)


def _stored(values: dict[str, Any]) -> Notice:
    base = {"status": "draft", "version": 1, "author": "a", "created_at": "", "updated_at": ""}
    return Notice(**{"starts_at": "2026-11-23T06:00:00.000Z", **base, **values})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_notice_files_are_valid(path: Path) -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    values = check_fields(read_notice_file(path), VOCABULARY, creating=True, now=now)
    check_notice(_stored(values))
    assert values["ends_at"] is None or values["ends_at"] > "2026-11-30T09:00:00.000Z", "examples must not be over"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("now", "2026-11-30T09:00:00.000Z"),
        ("+24h", "2026-12-01T09:00:00.000Z"),
        ("now - 2h", "2026-11-30T07:00:00.000Z"),
        ("+30m", "2026-11-30T09:30:00.000Z"),
        ("+3d", "2026-12-03T09:00:00.000Z"),
        ("2026-11-23T06:00:00+08:00", "2026-11-22T22:00:00.000Z"),
    ],
)
def test_notice_times_may_be_relative_to_now(written: str, meant: str) -> None:
    fields = {"kind": "outage", "title": {"en": "t"}, "body": {"en": "b"}, "regions": ["Quezon City"]}
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert check_fields({**fields, "ends_at": written}, VOCABULARY, creating=True, now=now)["ends_at"] == meant


def test_there_is_an_example_outage() -> None:
    kinds = [read_notice_file(p)["kind"] for p in EXAMPLES]
    assert "outage" in kinds


def test_every_problem_is_located() -> None:
    problems = _problems(
        {
            "kind": "flood",
            "title": {"en": ""},
            "body": "not per language",
            "services": ["fibre", "warp drive"],
            "regions": ["Cebu Cty"],
            "channels": ["x-nowhere"],
            "starts_at": "2026-11-23T08:00",
            "link": "http://insecure.example",
            "colour": "red",
        }
    )
    assert problems["kind"].startswith("unknown kind 'flood'; valid: ['outage'")
    assert problems["title.en"] == "expected non-empty text"
    assert problems["body"].startswith("expected a mapping of language to text")
    assert "services[0]" not in problems  # 'fibre' is a spelling of fiber
    assert problems["services[1]"].startswith("unknown service 'warp drive'; valid: [")
    assert problems["regions[0]"].startswith("unknown region 'Cebu Cty'; valid: [")
    assert problems["channels[0]"] == "unknown channel 'x-nowhere'; valid: ['x-care']"
    assert problems["starts_at"].startswith("needs a timezone")
    assert problems["link"].startswith("expected an https:// URL")
    assert problems["colour"].startswith("unknown field")


def test_required_fields_on_create_only() -> None:
    assert _problems({}) == {"kind": "required", "title": "required", "body": "required"}
    assert check_fields({}, VOCABULARY, creating=False) == {}
    assert _problems({"id": "x-1"}, creating=False) == {"id": "cannot be changed"}


def test_spellings_become_canonical_names_and_times_utc() -> None:
    values = check_fields(
        {"services": ["Fibre", "mobile data"], "regions": ["qc", "Cubao"], "starts_at": "2026-11-23T08:00:00+08:00"},
        VOCABULARY,
        creating=False,
    )
    assert values["services"] == ("fiber", "mobile_data")
    assert values["regions"] == ("Quezon City",)
    assert values["starts_at"] == "2026-11-23T00:00:00.000Z"


def test_personal_data_in_notice_text_is_refused() -> None:
    problems = _problems({"body": {"en": "Call Maria at 0917 123 4567"}}, creating=False)
    assert problems["body.en"].startswith("not publishable: personal data (phone)")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Details: <script>alert(1)</script>", "markup (an HTML tag)"),
        ("Details: \uff1cscript\uff1e", "markup (an HTML tag)"),  # full-width brackets
        ("Details at https://bayanitel-refunds.example/claim", "a link to 'bayanitel-refunds.example'"),
        ("Claim at bit.ly/refund", "a link to 'bit.ly'"),
        ("Thanks @a @b @c @d", "4 @mentions; at most 2"),
        ("Call Maria at 0917\u200b123\u200b4567", "personal data (phone)"),  # zero-width spaces
        ("Call Maria at \uff10\uff19\uff11\uff17\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "personal data (phone)"),
    ],
)
def test_notice_text_must_be_publishable(text: str, reason: str) -> None:
    problems = _problems({"body": {"en": text}}, creating=False)
    assert problems["body.en"].startswith(f"not publishable: {reason}")


def test_the_operators_own_contact_points_and_domain_may_appear() -> None:
    values = check_fields(
        {
            "body": {"en": "Call our hotline (02) 8888-1234 or write to care@bayanitel.example."},
            "link": "https://status.bayanitel.example/qc",
        },
        VOCABULARY,
        creating=False,
    )
    assert values["link"] == "https://status.bayanitel.example/qc"


def test_a_link_off_the_allow_list_is_refused() -> None:
    assert _problems({"link": "https://bayanitel.example.evil.test/x"}, creating=False)["link"].startswith(
        "not publishable: a link to 'bayanitel.example.evil.test'"
    )


def test_publishing_checks_the_stored_notice_again() -> None:
    """A notice stored before the content rules (or before brand.yaml changed) is refused at publish time."""
    from chalicelib.notices.validate import check_publishable

    notice = _stored({"id": "n-1", "kind": "outage", "language": "en", "title": {"en": "Outage"}, "body": {"en": "x"}})
    check_publishable(notice, VOCABULARY)
    legacy = _stored({**notice.__dict__, "body": {"en": "Refunds at https://evil.example/"}, "history": ()})
    with pytest.raises(NoticeInvalid) as caught:
        check_publishable(legacy, VOCABULARY)
    assert dict(caught.value.errors)["body.en"].startswith("not publishable: a link to 'evil.example'")


def test_rules_across_fields() -> None:
    values = {
        "id": "n-1",
        "kind": "outage",
        "language": "tl",
        "title": {"en": "Outage"},
        "body": {"en": "Details"},
        "follow_up": {"en": "Restored"},
        "starts_at": "2026-11-23T06:00:00.000Z",
        "ends_at": "2026-11-23T05:00:00.000Z",
    }
    with pytest.raises(NoticeInvalid) as caught:
        check_notice(_stored(values))
    problems = dict(caught.value.errors)
    assert set(problems) == {"title.tl", "body.tl", "follow_up.tl", "ends_at", "services"}
    assert problems["ends_at"] == "must be after starts_at"


def test_unreadable_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("kind: outage\nkind: maintenance\n", encoding="utf-8")
    with pytest.raises(NoticeInvalid) as caught:
        read_notice_file(path)
    assert str(caught.value) == f"{path}: line 2: invalid YAML: duplicate key 'kind' (first on line 1)"

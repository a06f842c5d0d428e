"""Personal data: types and spans, and the one masking function."""

from __future__ import annotations

from itertools import pairwise

import pytest

from chalicelib.pii import find_pii, mask


def spans(text: str) -> list[tuple[str, str]]:
    return [(p["type"], text[p["start"] : p["end"]]) for p in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("call me on +63 917 123 4567 please", "+63 917 123 4567"),
        ("text 0917-123-4567", "0917-123-4567"),
        ("my line 09171234567 is down", "09171234567"),
        ("US number (555) 123-4567 ok", "(555) 123-4567"),
        ("reach me 555.123.4567", "555.123.4567"),
        ("UK +44 20 7946 0958", "+44 20 7946 0958"),
    ],
)
def test_phone_formats(text: str, value: str) -> None:
    assert spans(text) == [("phone", value)]


def test_email_imei_iccid_account_address() -> None:
    text = (
        "mail juan.dela_cruz+x@gmail.com, IMEI 356938035643809, SIM 8963 0123 4567 8901 2345, "
        "account no. 1234567890, at 123 Main Street"
    )
    assert spans(text) == [
        ("email", "juan.dela_cruz+x@gmail.com"),
        ("imei", "356938035643809"),
        ("iccid", "8963 0123 4567 8901 2345"),
        ("account", "1234567890"),
        ("address", "123 Main Street"),
    ]


def test_philippine_address_forms() -> None:
    types = [t for t, _ in spans("Blk 5 Lot 12 Brgy. San Antonio, Pasig")]
    assert types == ["address", "address"]


def test_dates_prices_and_years_are_not_pii() -> None:
    assert find_pii("since 2019 I paid 1500 on 12/03/2024 for 5G") == []


def test_mask_replaces_every_value_with_its_type() -> None:
    text = "I'm juan@example.com, call 0917 123 4567 re account 55512345"
    masked = mask(text)
    assert masked == "I'm [email], call [phone] re account [account]"
    assert mask("no personal data here") == "no personal data here"


def test_spans_never_overlap_and_are_sorted() -> None:
    found = find_pii("+63 917 123 4567 / 0917-123-4567 / a@b.co / 356938035643809")
    assert [p["start"] for p in found] == sorted(p["start"] for p in found)
    assert all(a["end"] <= b["start"] for a, b in pairwise(found))


@pytest.mark.parametrize(
    "text",
    [
        "call 0917\u200b123\u200b4567",  # zero-width spaces
        "call 0917\u2060123\u20604567",  # word joiners
        "call \uff10\uff19\uff11\uff17\uff11\uff12\uff13\uff14\uff15\uff16\uff17",  # full-width digits
        "call 0917\u2013123\u20134567",  # en dashes
        "call 0917 - 123 - 4567",  # runs of separators
        "call 0 9 1 7 1 2 3 4 5 6 7",
        "mail maria\u200b.santos@exa\u200bmple.com",
    ],
)
def test_disguised_personal_data_is_found_and_masked(text: str) -> None:
    from chalicelib.pii import personal_data

    _, found = personal_data(text)
    assert [s["type"] for s in found] in (["phone"], ["email"])
    assert mask(text) in ("call [phone]", "mail [email]")


def test_dates_and_times_survive_separator_stripping() -> None:
    text = "Maintenance on 23/11/2026 from 01:00 to 04:00 \u2014 sorry!"
    assert mask(text) == text  # nothing found: the text comes back as it was, dashes and all

"""The one content check for public text (chalicelib/publishing.py): brand.yaml validated at load, reply
templates checked at load, and the rules themselves on the disguises seen in the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.policy.loader import load_policy
from chalicelib.publishing import ContentRules, Publishing, problems
from tests.conftest import POLICIES
from tests.support import policy_errors

BRAND = ContentRules("bayanitel", ("bayanitel.example",), ("+63 2 8888 1234", "care@bayanitel.example"), 2)


def test_the_default_policy_carries_the_brand_rules() -> None:
    assert load_policy(POLICIES).content_rules["bayanitel"].link_domains == ("bayanitel.example",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("See https://bayanitel.example.evil.test/x", "a link to 'bayanitel.example.evil.test'"),
        ("See https://bayanitel.example@evil.test/", "a link to 'evil.test'"),
        ("See HTTP://EVIL.TEST", "a link to 'evil.test'"),
        ("See www.evil.test", "a link to 'www.evil.test'"),
        ("See evil.ph/x", "a link to 'evil.ph'"),
        ("javascript:alert(1)", "a javascript: link"),
        ("ftp://bayanitel.example/x", "a ftp:// link"),
        ("<img src=x onerror=alert(1)>", "markup (an HTML tag)"),
        ("&lt;b&gt;", "markup (an HTML entity)"),
        ("@a @b @c", "3 @mentions"),
        ("call 0917 - 123 - 4567", "personal data (phone)"),
        ("call 0 9 1 7 1 2 3 4 5 6 7", "personal data (phone)"),
    ],
)
def test_what_may_not_be_published(text: str, reason: str) -> None:
    assert any(p.startswith(reason) for p in problems(text, BRAND)), problems(text, BRAND)


@pytest.mark.parametrize(
    "text",
    [
        "Service is restored in Quezon City. Thank you for your patience \u2014 tell us if you still have no data.",
        "Maintenance on 23/11/2026 from 01:00 to 04:00, e.g. in Cubao. Details: https://bayanitel.example/m",
        "Call our hotline +63 2 8888 1234, (02) 8888-1234 or care@bayanitel.example; @bayanitelcares",
        "Upgrade to BayaniFiber 1 Gbps for \u20b11,299/month",
    ],
)
def test_ordinary_care_text_and_the_brands_own_contacts_pass(text: str) -> None:
    assert problems(text, BRAND) == []


def test_a_brand_missing_from_brand_yaml_gets_the_strict_default() -> None:
    publishing = Publishing({"bayanitel": BRAND}, {"x-care": "bayanitel", "x-other": "otherbrand"})
    assert publishing.problems("https://bayanitel.example/x", "x-care") == []
    assert publishing.problems("https://bayanitel.example/x", "x-other")[0].startswith("a link to")


def test_a_template_that_is_not_publishable_is_a_located_load_error(policy_dir: Path) -> None:
    path = policy_dir / "templates" / "en.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "  sneaky: Win a phone! https://prizes.example/$handle <b>now</b>\n",
        encoding="utf-8",
    )
    errors = policy_errors(policy_dir)
    assert any(
        e.startswith(f"{path}: sneaky: not publishable for bayanitel: a link to 'prizes.example'") for e in errors
    )
    assert any(e.startswith(f"{path}: sneaky: not publishable for bayanitel: markup") for e in errors)


def test_brand_yaml_is_validated_with_located_errors(policy_dir: Path) -> None:
    path = policy_dir / "brand.yaml"
    path.write_text(
        "brands:\n  bayanitel:\n    link_domains: [Bayanitel.Example]\n    contacts: [hotline]\n"
        "    max_mentions: 99\n    colour: red\n",
        encoding="utf-8",
    )
    errors = policy_errors(policy_dir)
    assert f"{path}: brands.bayanitel.link_domains[0]: 'Bayanitel.Example' is not a lower-case domain name" in errors
    assert f"{path}: brands.bayanitel.contacts[0]: 'hotline' is not one phone number or e-mail" in errors
    assert f"{path}: brands.bayanitel.max_mentions: expected a whole number from 0 to 10" in errors
    assert any(e.startswith(f"{path}: brands.bayanitel.colour: unknown field") for e in errors)

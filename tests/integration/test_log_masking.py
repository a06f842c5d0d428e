"""Personal data never reaches a log line: posts carrying phone numbers and e-mails (some disguised) go
through the whole pipeline — webhook, queue, processor, a rule that errors with the post text in its
message — and every line the Powertools logger writes is searched for the raw values."""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from app import app
from chalicelib.observability import SERVICE, logger
from chalicelib.runtime import Runtime
from tests.conftest import POLICIES, X_SECRET, make_settings, runtime_on_dynamodb
from tests.support import mention_delivery, x_headers

PHONE_FORMATS = (
    "+63 917 {a} {b}",
    "0917-{a}-{b}",
    "0917{a}{b}",
    "(02) {a} {b}",
    "+44 20 {a} {b}",
    "555.{a}.{b}",
    "0917\u200b{a}\u200b{b}",  # zero-width spaces
    "\uff10\uff19\uff11\uff17{a}{b}",  # full-width 0917
)


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    handler.setFormatter(logger().registered_formatter)
    log = logging.getLogger(SERVICE)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield handler
    log.removeHandler(handler)
    log.setLevel(level)


@pytest.fixture
def runtime_with_failing_rule(tmp_path: Path, dynamodb_endpoint: str) -> Iterator[Runtime]:
    """The default policy with a rule in front whose expression fails with the post text in its message."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "rules" / "00-broken.yaml").write_text(
        "rules:\n  - {name: broken, order: -1, when: 'abs(post.text) > `0`', actions: [{type: ignore}]}\n",
        encoding="utf-8",
    )
    yield from runtime_on_dynamodb(make_settings(tmp_path, policies_dir=policies))


def _posts(count: int) -> list[tuple[str, list[str]]]:
    """(post text, the raw personal data in it) with random numbers, formats and wording."""
    rng = random.Random(9)
    posts = []
    for i in range(count):
        a, b = f"{rng.randrange(1000):03d}", f"{rng.randrange(10000):04d}"
        phone = rng.choice(PHONE_FORMATS).format(a=a, b=b)
        email = f"{rng.choice(['maria', 'juan.dc', 'ana_b'])}{i}@{rng.choice(['gmail.com', 'example.ph'])}"
        words = rng.choice(["no signal since 6am", "billing is wrong", "cancel my plan", "thanks!"])
        posts.append((f"@bayanitelcares {words}, call me on {phone} or mail {email}", [phone, email, a + b]))
    return posts


def test_no_log_line_carries_the_personal_data_of_a_post(
    runtime_with_failing_rule: Runtime, captured: Captured
) -> None:
    posts = _posts(40)
    with Client(app, stage_name="local") as client:
        for number, (text, _) in enumerate(posts):
            body = mention_delivery(str(7000 + number), text, author_id=str(900 + number))  # no case links
            response = client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body)
            assert response.status_code == 200
    runtime_with_failing_rule.queue.join()  # type: ignore[attr-defined]
    rule_errors = [line for line in captured.lines if '"rule_error"' in line]
    assert len(rule_errors) >= len(posts)  # every post went through the failing rule (a budget race retries)
    leaks = [(value, line) for _, values in posts for value in values for line in captured.lines if value in line]
    assert leaks == []

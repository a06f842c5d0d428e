from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.privacy import DEFAULT_DAYS, Retention, RetentionError
from tests.conftest import POLICIES


def test_shipped_retention_is_valid_and_covers_every_table_with_personal_data() -> None:
    retention = Retention.load(POLICIES)
    assert set(retention.days) == set(DEFAULT_DAYS)


def test_stamp_adds_the_expiry_once() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    retention = Retention({"decisions": 2})
    stamped = retention.stamp("decisions", {"a": 1}, moment)
    assert stamped["expires_at"] == int(datetime(2026, 1, 3, tzinfo=UTC).timestamp())
    assert retention.stamp("decisions", {"expires_at": 5}, moment) == {"expires_at": 5}
    assert retention.stamp("activity", {"a": 1}, moment) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("decisions: 0\n", "days must be a whole number from 1 to 3650"),
        ("decisions: '90'\n", "days must be a whole number"),
        ("decisons: 90\n", "'decisons' is not a table"),
        ("- 1\n", "must be a mapping"),
        ("decisions: [\n", "not valid YAML"),
    ],
)
def test_bad_retention_is_a_located_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "retention.yaml").write_text(text)
    with pytest.raises(RetentionError) as caught:
        Retention.load(tmp_path)
    assert message in str(caught.value) and "retention.yaml" in str(caught.value)

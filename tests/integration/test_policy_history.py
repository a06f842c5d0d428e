"""Policy versions recorded where policies enter service, on DynamoDB Local: once per bundle however many
processes load it, each with the unified diff against the version before it."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.policy.errors import VersionNotFound
from chalicelib.policy.history import DIFF_LIMIT, Bundle, PolicyHistory, bounded, record_in_service
from chalicelib.runtime import Runtime
from tests.conftest import make_settings, runtime_on_dynamodb

T1 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path, policy_dir: Path, dynamodb_endpoint: str) -> Iterator[Runtime]:
    yield from runtime_on_dynamodb(make_settings(tmp_path, policies_dir=policy_dir))


def _history(rt: Runtime) -> PolicyHistory:
    return PolicyHistory(rt.dynamodb, rt.settings.table("policies"))


def test_the_same_bundle_loaded_twice_is_recorded_once(rt: Runtime) -> None:
    first = record_in_service(rt, "serve")
    again = record_in_service(rt, "cold start: carewire-prod-ProcessIntake")

    assert first is not None
    assert again is None
    versions = _history(rt).recent()
    assert [v["digest"] for v in versions] == [first.digest]
    assert versions[0]["recorded_by"] == "serve"
    assert versions[0]["first"] is True
    assert versions[0]["files_changed"] == len(Bundle.read(rt.settings.policies_dir).files)


def test_two_versions_make_one_change_with_the_diff_of_what_changed(rt: Runtime, policy_dir: Path) -> None:
    history = _history(rt)
    one = history.record(Bundle.read(policy_dir), "serve", T1)
    rules = policy_dir / "rules" / "10-default.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("priority: 2", "priority: 1", 1), encoding="utf-8")
    (policy_dir / "NOTES.md").write_text("why we changed it\n", encoding="utf-8")
    (policy_dir / "storms.yaml").unlink()
    two = history.record(Bundle.read(policy_dir), "deploy: arn:aws:iam::1:user/lea", T2)

    assert one is not None and two is not None
    newest, oldest = history.recent()
    assert (newest["digest"], oldest["digest"]) == (two.digest, one.digest)
    assert newest["previous"] == one.digest
    assert newest["recorded_by"] == "deploy: arn:aws:iam::1:user/lea"
    assert newest["recorded_at"] == "2026-11-23T10:00:00.000Z"
    changes = {c["path"]: c for c in newest["changes"]}
    assert set(changes) == {"NOTES.md", "rules/10-default.yaml", "storms.yaml"}
    assert changes["rules/10-default.yaml"] == {
        "path": "rules/10-default.yaml",
        "status": "modified",
        "added": 1,
        "removed": 1,
    }
    assert changes["NOTES.md"]["status"] == "added" and changes["storms.yaml"]["status"] == "removed"
    removed_lines = changes["storms.yaml"]["removed"]
    assert newest["added"] == 2 and newest["removed"] == 1 + removed_lines

    shown = history.show(two.digest[:12])
    diff = shown["diff"]
    assert "--- a/rules/10-default.yaml\n+++ b/rules/10-default.yaml\n" in diff
    assert "\n-      - {type: escalate, queue: network, priority: 2}\n" in diff
    assert "\n+      - {type: escalate, queue: network, priority: 1}\n" in diff
    assert "+++ b/NOTES.md" in diff and "+why we changed it" in diff
    assert "--- a/storms.yaml\n+++ /dev/null" in diff
    assert shown["diff_truncated"] is False
    assert history.show(one.digest)["diff"] == ""  # the first version has nothing to compare with


def test_a_large_file_is_compared_by_digest_and_the_model_never_stored(rt: Runtime, policy_dir: Path) -> None:
    history = _history(rt)
    history.record(Bundle.read(policy_dir), "serve", T1)
    model = policy_dir / "model" / "care_model.json"
    model.write_bytes(model.read_bytes() + b"\n")
    two = history.record(Bundle.read(policy_dir), "serve", T2)

    assert two is not None
    (change,) = history.recent(1)[0]["changes"]
    assert change == {"path": "model/care_model.json", "status": "modified", "added": None, "removed": None}
    assert "compared by digest only" in history.show(two.digest)["diff"]


def test_a_diff_too_long_for_an_item_is_cut_at_a_line_and_says_so() -> None:
    noise = "".join(f"+{i:08x} {zlib.crc32(str(i).encode()):08x} {i * 7919 % 104729}\n" for i in range(60_000))
    packed, cut = bounded(noise)

    assert cut is True and len(packed) <= DIFF_LIMIT
    text = zlib.decompress(packed).decode()
    assert text.endswith("\n") and noise.startswith(text)
    assert bounded("+one line\n") == (zlib.compress(b"+one line\n", 9), False)


def test_an_unknown_version_is_not_found(rt: Runtime) -> None:
    with pytest.raises(VersionNotFound):
        _history(rt).show("0" * 64)


def test_a_processor_cold_start_records_its_bundle_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREWIRE_RECORD_POLICY", "true")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "carewire-dev-ProcessIntake")
    rt.policy  # noqa: B018 - what a cold start's first post does
    Runtime(rt.settings, clock=rt.clock).policy  # noqa: B018 - a second container on the same bundle

    (version,) = _history(rt).recent()
    assert version["recorded_by"] == "cold start: carewire-dev-ProcessIntake"


def test_a_history_that_cannot_be_written_never_stops_a_cold_start(tmp_path: Path, policy_dir: Path) -> None:
    settings = make_settings(tmp_path, policies_dir=policy_dir)
    broken = Runtime(settings)
    broken.__dict__["dynamodb"] = object()  # no client at all: every call fails

    assert record_in_service(broken, "serve") is None

"""Events kept by reference: files locally, S3 in AWS; a reference can only point where it was stored."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store.blobs import BlobMissing, FileBlobs, S3Blobs, by_reference, resolve_message


class FakeS3:
    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[(Bucket, Key)] = Body

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


def test_s3_blobs_round_trip_a_message_by_reference() -> None:
    s3 = FakeS3()
    blobs = S3Blobs("carewire-oversized", s3)
    message = {"channel": "x-care", "payload": {"event": {"text": "x" * 300_000}}}
    reference = by_reference(message, blobs)
    assert reference["message_ref"].startswith("s3://carewire-oversized/events/")
    assert resolve_message(reference, blobs) == message
    with pytest.raises(BlobMissing):
        blobs.get("s3://someone-elses-bucket/events/x.json")
    with pytest.raises(BlobMissing):
        blobs.get("s3://carewire-oversized/events/gone.json")


def test_the_s3_client_is_built_only_when_an_event_is_oversized(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def client(service: str, **_: Any) -> FakeS3:
        built.append(service)
        return FakeS3()

    monkeypatch.setattr("boto3.client", client)
    blobs = S3Blobs("bucket")
    assert resolve_message({"channel": "x-care"}, blobs) == {"channel": "x-care"}
    assert built == []
    blobs.put(b"{}")
    assert built == ["s3"]


def test_file_references_cannot_leave_their_directory(tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text("{}")
    blobs = FileBlobs(tmp_path / "blobs")
    ref = blobs.put(b'{"a": 1}')
    assert resolve_message({"message_ref": ref}, blobs) == {"a": 1}
    for forged in ("file:../secret.json", "file:/etc/passwd", "s3://bucket/key"):
        with pytest.raises(BlobMissing):
            blobs.get(forged)
    assert (tmp_path / "blobs").stat().st_mode & 0o777 == 0o700

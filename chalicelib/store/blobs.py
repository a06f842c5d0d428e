"""Events too large for where they must go (SQS's 256 KB message, DynamoDB's 400 KB item) kept by
reference: a file under the local home, an S3 object in AWS. A message then carries `{"message_ref": ref}`
and whoever reads it resolves the reference (`resolve_message`)."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.settings import Settings

REF_KEY = "message_ref"


class BlobMissing(ValueError):
    """A reference that resolves to nothing: permanent, so the message is parked (a ValueError)."""


class Blobs(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` durably; return its reference."""
        ...

    def get(self, ref: str) -> bytes: ...


_FILE_REF = re.compile(r"^file:([0-9a-f]{32}\.json)$")


class FileBlobs:
    """Blobs as files (mode 600, directory 700), written and fsynced before the reference is returned."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.json"
        fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return f"file:{name}"

    def expire(self, before: datetime) -> int:
        """Delete the stored events written before `before` (what S3's lifecycle rule does in AWS, where
        the bucket expires them after the parked retention); how many were deleted."""
        if not self.root.is_dir():
            return 0
        cutoff = before.timestamp()
        gone = 0
        for path in self.root.iterdir():
            if _FILE_REF.match(f"file:{path.name}") and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def get(self, ref: str) -> bytes:
        found = _FILE_REF.match(ref)  # a bare name: a reference can never point outside the directory
        if not found or not (self.root / found.group(1)).is_file():
            raise BlobMissing(f"no stored event {ref!r}")
        return (self.root / found.group(1)).read_bytes()


class S3Blobs:
    """Blobs in one S3 bucket; the client is built on first use (no boto3 S3 import at cold start)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def put(self, data: bytes) -> str:
        key = f"events/{datetime.now(UTC):%Y/%m/%d}/{uuid.uuid4().hex}.json"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/json")
        return f"s3://{self.bucket}/{key}"

    def get(self, ref: str) -> bytes:
        prefix = f"s3://{self.bucket}/"
        if not ref.startswith(prefix):
            raise BlobMissing(f"not a reference into {self.bucket}: {ref!r}")
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=ref[len(prefix) :])["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise BlobMissing(f"no stored event {ref!r}") from exc
        return bytes(body.read())


def blobs_for(settings: Settings) -> Blobs:
    bucket = os.environ.get("CAREWIRE_OVERSIZE_BUCKET")
    if bucket:
        return S3Blobs(bucket)
    return FileBlobs(settings.home / "blobs")


def by_reference(message: dict[str, Any], blobs: Blobs) -> dict[str, Any]:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return {REF_KEY: blobs.put(data), "bytes": len(data)}


def resolve_message(message: dict[str, Any], blobs: Blobs) -> dict[str, Any]:
    """The message itself, or the one its reference points to."""
    ref = message.get(REF_KEY)
    if not isinstance(ref, str):
        return message
    resolved = json.loads(blobs.get(ref))
    if not isinstance(resolved, dict):
        raise BlobMissing(f"stored event {ref!r} is not a message")
    return resolved

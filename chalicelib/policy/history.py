"""Which policy bundle went into service when, by whom, and what changed: the care leads' "recent policy
changes". Lambda has no git, so the record is made where policies enter service — a processor or API cold
start in AWS, `carewire serve`, `carewire deploy` — once per bundle digest (a conditional put: N containers
starting on one bundle record it once).

Each version item (PoliciesTable, key `digest`) holds the bundle's file digests, the files' text (zlib,
so the next version can be diffed against it), and the unified diff against the version recorded before it
(zlib, bounded: `diff_truncated` says when cut). Files over `TEXT_LIMIT` (the learned model's weights) are
compared by digest only. A cold start costs one GetItem when its bundle is known; a new bundle adds one query,
one get and one put. Nothing here is on the per-post path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.clock import iso
from chalicelib.policy.errors import VersionNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.clock import Clock
    from chalicelib.settings import Settings
else:
    DynamoDBClient = Any

TEXT_LIMIT = 256_000
"""Files larger than this (model weights) are compared by digest, never diffed or stored."""
BUNDLE_LIMIT = 250_000
"""Compressed bytes of file text kept per version; a bigger bundle is recorded without it (the next
version then lists what changed by digest only)."""
DIFF_LIMIT = 100_000
"""Compressed bytes of diff kept per version (items stop at 400 KB); a longer diff is cut at a line."""
SUMMARY = ("digest", "seq", "recorded_at", "recorded_by", "previous", "changes", "added", "removed", "first")
HISTORY_KEY = "policy"
"""The one partition of the by_time index: versions are few (a handful a day at most)."""


class HistoryError(ValueError):
    """A version named in a way that names none (not a digest or a prefix of 8+ hex characters)."""


@dataclass(frozen=True)
class Bundle:
    """A policy directory as it entered service: per file its digest and, when small, its text."""

    digest: str
    files: dict[str, str]
    texts: dict[str, str]

    @classmethod
    def read(cls, directory: Path) -> Bundle:
        """Every file under `directory` except policy test cases, dot files and caches (what `carewire
        package` ships), read once."""
        files: dict[str, str] = {}
        texts: dict[str, str] = {}
        whole = hashlib.sha256()
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            relative = path.relative_to(directory)
            if any(part == "tests" or part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            raw = path.read_bytes()
            name = relative.as_posix()
            files[name] = hashlib.sha256(raw).hexdigest()
            whole.update(name.encode() + b"\0" + files[name].encode() + b"\0")
            if len(raw) <= TEXT_LIMIT:
                with contextlib.suppress(UnicodeDecodeError):  # not text: compared by digest
                    texts[name] = raw.decode("utf-8")
        return cls(whole.hexdigest(), files, texts)


def _changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str]]:
    """(path, added|removed|modified) of every file that differs, by path."""
    changed = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            changed.append((name, "added"))
        elif name not in new:
            changed.append((name, "removed"))
        elif old[name] != new[name]:
            changed.append((name, "modified"))
    return changed


def diff_bundles(
    old_files: dict[str, str], old_texts: dict[str, str] | None, new: Bundle
) -> tuple[list[dict[str, Any]], str]:
    """Per changed file its status and +/- line counts, and the unified diff of them all. Without the old
    texts (or for a file too large to keep) a change is listed by digest, its lines uncounted."""
    import difflib  # only when a new version is recorded: not on every cold start

    summary: list[dict[str, Any]] = []
    chunks: list[str] = []
    for name, status in _changes(old_files, new.files):
        before = None if status == "added" else (old_texts or {}).get(name)
        after = None if status == "removed" else new.texts.get(name)
        comparable = (status == "added" or before is not None) and (status == "removed" or after is not None)
        if not comparable:
            summary.append({"path": name, "status": status, "added": None, "removed": None})
            chunks.append(f"--- a/{name}\n+++ b/{name}\n@@ compared by digest only: {status} @@\n")
            continue
        lines = list(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (after or "").splitlines(keepends=True),
                fromfile="/dev/null" if status == "added" else f"a/{name}",
                tofile="/dev/null" if status == "removed" else f"b/{name}",
            )
        )
        body = [ln for ln in lines[2:] if not ln.startswith("@@")]
        summary.append(
            {
                "path": name,
                "status": status,
                "added": sum(1 for ln in body if ln.startswith("+")),
                "removed": sum(1 for ln in body if ln.startswith("-")),
            }
        )
        chunks.append("".join(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines))
    return summary, "".join(chunks)


def bounded(text: str, limit: int = DIFF_LIMIT) -> tuple[bytes, bool]:
    """`text` compressed, cut at a line until it fits `limit` bytes; and whether it was cut."""
    packed = zlib.compress(text.encode("utf-8"), 9)
    cut = False
    while len(packed) > limit:
        text = text[: text.rfind("\n", 0, len(text) // 2) + 1]
        packed = zlib.compress(text.encode("utf-8"), 9)
        cut = True
    return packed, cut


@dataclass(frozen=True)
class Version:
    """One recorded version as the history shows it."""

    doc: dict[str, Any]

    @property
    def digest(self) -> str:
        return str(self.doc["digest"])


class PolicyHistory:
    """The policy versions in PoliciesTable (infra/resources.yaml): get by digest; GSI by_time (`history` /
    `seq`, the summary fields projected) lists them newest first. `seq` is one more than the latest version's
    (by time alone, two versions recorded in one millisecond would have no order)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def known(self, digest: str) -> bool:
        got = self._client.get_item(TableName=self._table, Key={"digest": {"S": digest}}, ProjectionExpression="digest")
        return "Item" in got

    def record(self, bundle: Bundle, by: str, now: datetime) -> Version | None:
        """Record `bundle` as in service since `now`; None when it was recorded before (by anyone)."""
        if self.known(bundle.digest):
            return None
        latest = self.recent(1)
        previous = self._get(latest[0]["digest"], "files, texts") if latest else None
        doc: dict[str, Any] = {
            "digest": bundle.digest,
            "recorded_at": iso(now),
            "recorded_by": by[:200],
            "history": HISTORY_KEY,
            "seq": int(latest[0]["seq"]) + 1 if latest else 1,
            "files": bundle.files,
            "first": previous is None,
        }
        if previous is None:
            changes: list[dict[str, Any]] = [
                {"path": n, "status": "added", "added": None, "removed": None} for n in sorted(bundle.files)
            ]
            diff_text = ""
        else:
            old_texts = _unpack(previous.get("texts"))
            changes, diff_text = diff_bundles(previous.get("files") or {}, old_texts, bundle)
            doc["previous"] = latest[0]["digest"]
        packed_diff, truncated = bounded(diff_text)
        texts = zlib.compress(json.dumps(bundle.texts, sort_keys=True).encode("utf-8"), 9)
        doc.update(
            changes=changes,
            added=sum(c["added"] or 0 for c in changes) if previous else 0,
            removed=sum(c["removed"] or 0 for c in changes) if previous else 0,
            diff_truncated=truncated,
            texts_kept=len(texts) <= BUNDLE_LIMIT,
        )
        item = _to_item(doc)
        item["diff"] = {"B": packed_diff}
        if len(texts) <= BUNDLE_LIMIT:
            item["texts"] = {"B": texts}
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(digest)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return None  # another container recorded it first
        return Version({k: doc.get(k) for k in (*SUMMARY, "diff_truncated")})

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        """The last `limit` versions, newest first: their summaries (no diff, no texts)."""
        got = self._client.query(
            TableName=self._table,
            IndexName="by_time",
            KeyConditionExpression="history = :h",
            ExpressionAttributeValues={":h": {"S": HISTORY_KEY}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_summary(_from_item(raw)) for raw in got.get("Items", [])]

    def show(self, digest: str) -> dict[str, Any]:
        """One version's summary and its diff text (a digest prefix of 8+ characters names it too)."""
        if len(digest) < 64:
            digest = self._expand(digest)
        got = self._get(digest, ", ".join((*SUMMARY, "diff", "diff_truncated")))
        if got is None:
            raise VersionNotFound(f"no recorded policy version {digest!r}")
        diff = got.pop("diff", None)
        return {**_summary(got), "diff": zlib.decompress(diff).decode("utf-8") if diff else ""}

    def _expand(self, prefix: str) -> str:
        if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
            raise HistoryError("a version is named by its digest (at least 8 hex characters)")
        found = [v["digest"] for v in self.recent(200) if str(v["digest"]).startswith(prefix)]
        if len(found) != 1:
            raise VersionNotFound(f"{len(found)} recorded versions start with {prefix!r}")
        return str(found[0])

    def _get(self, digest: str, projection: str) -> dict[str, Any] | None:
        names = {f"#{n}": n for n in (p.strip() for p in projection.split(","))}
        got = self._client.get_item(
            TableName=self._table,
            Key={"digest": {"S": digest}},
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        return _from_item(got["Item"]) if "Item" in got else None


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    changes = doc.get("changes") or []
    return {
        "digest": doc["digest"],
        "seq": doc.get("seq"),
        "recorded_at": doc.get("recorded_at"),
        "recorded_by": doc.get("recorded_by"),
        "previous": doc.get("previous"),
        "first": bool(doc.get("first")),
        "files_changed": len(changes),
        "changes": changes,
        "added": doc.get("added", 0),
        "removed": doc.get("removed", 0),
        "diff_truncated": bool(doc.get("diff_truncated")),
    }


def _unpack(texts: Any) -> dict[str, str] | None:
    if not texts:
        return None
    loaded = json.loads(zlib.decompress(texts).decode("utf-8"))
    return {str(k): str(v) for k, v in loaded.items()}


def _to_item(doc: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.store.dynamo import to_item

    return to_item(doc)


def _from_item(raw: dict[str, Any]) -> dict[str, Any]:
    """Like store.dynamo.from_item, but binary attributes stay bytes."""
    from boto3.dynamodb.types import TypeDeserializer

    from chalicelib.store.dynamo import from_item

    binary = {k: bytes(TypeDeserializer().deserialize(v)) for k, v in raw.items() if "B" in v}
    return {**from_item({k: v for k, v in raw.items() if "B" not in v}), **binary}


class Wired(Protocol):
    """What recording needs of a runtime (chalicelib.runtime.Runtime has it; named here so the runtime,
    which records at cold start, and this module do not import each other)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def dynamodb(self) -> Any: ...

    @property
    def clock(self) -> Clock: ...


def record_in_service(rt: Wired, by: str) -> Version | None:
    """Record the runtime's policy bundle as in service (see module doc). Never raises: a history that
    cannot be written must not stop a cold start, a deploy or `carewire serve` — it is logged and skipped."""
    from chalicelib.observability import logger

    try:
        bundle = Bundle.read(rt.settings.policies_dir)
        recorded = PolicyHistory(rt.dynamodb, rt.settings.table("policies")).record(bundle, by, rt.clock())
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger().warning("policy version not recorded", extra={"error": f"{type(exc).__name__}: {exc}"})
        return None
    if recorded is not None:
        logger().info("policy version recorded", extra={"digest": recorded.digest, "by": by})
    return recorded

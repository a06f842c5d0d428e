"""Helpers shared by the test folders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """Exact bytes of a fixture file, e.g. `x/tweet_create_mention_reply.json` (for signature tests)."""
    return (FIXTURES / name).read_bytes()


def load_event(name: str) -> Any:
    return json.loads(fixture_bytes(name))


BRAND_ID = "1000000000000000001"
BRAND_HANDLE = "bayanitelcares"


def mention_delivery(post_id: str, text: str, author_id: str = "42", handle: str = "maria_qc") -> bytes:
    """An X Account Activity delivery of one tweet that mentions the brand."""
    at = text.find("@" + BRAND_HANDLE)
    mentions = [{"screen_name": BRAND_HANDLE, "id_str": BRAND_ID, "indices": [at, at + len(BRAND_HANDLE) + 1]}]
    tweet = {
        "id_str": post_id,
        "text": text,
        "timestamp_ms": "1795424400000",
        "user": {"id_str": author_id, "screen_name": handle, "name": "Maria Santos"},
        "entities": {"user_mentions": mentions if at >= 0 else []},
    }
    return json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": [tweet]}).encode()


def x_headers(body: bytes, secret: str) -> dict[str, str]:
    from chalicelib.channels.x import PLATFORM

    return {"Content-Type": "application/json", **PLATFORM.sign(body, secret)}


def policy_errors(directory: Path) -> list[str]:
    """Every located error `load_policy` reports for `directory` (it must fail)."""
    import pytest

    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.loader import load_policy

    with pytest.raises(PolicyErrors) as caught:
        load_policy(directory)
    return [str(e) for e in caught.value.errors]


def json_paths(value: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every node of a JSON document with its path (keys and indexes), the root first: for fuzzing.
    Iterative, so documents nested as deep as the parser allows are walked too."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        yield path, node
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack.extend(((*path, key), child) for key, child in children)


def replace_at(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    """`doc` with the node at `path` replaced by `new` (in place; the root path returns `new`)."""
    if not path:
        return new
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return doc


def policy_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of policies/ in one commit (for `policies diff --base HEAD`)."""
    import shutil
    import subprocess

    from tests.conftest import POLICIES

    repo = tmp_path / "repo"
    shutil.copytree(POLICIES, repo / "policies")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    return repo


def live_notice(**fields: Any) -> Any:
    """An active notice (chalicelib.model.Notice) for tests: `fields` over a minimal outage in English."""
    from chalicelib.model import Notice

    base: dict[str, Any] = {
        "id": "n1",
        "kind": "outage",
        "title": {"en": "T"},
        "body": {"en": "B"},
        "starts_at": "2026-11-23T00:00:00Z",
        "status": "active",
        "version": 1,
        "author": "a",
        "created_at": "",
        "updated_at": "",
    }
    return Notice(**{**base, **fields})

"""The shipped corpus is what its work folder builds: writers' posts + two blind annotations + rulings ->
posts.jsonl, stats.json and agreement.json, byte for byte (corpus/care-posts/README.md promises it), and the
test split is exactly the operators the crc32 rule holds out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus" / "care-posts"


def test_the_work_folder_rebuilds_the_shipped_corpus_byte_for_byte(tmp_path: Path) -> None:
    work = tmp_path / "work"
    for part in ("raw", "labels", "adjudication"):
        shutil.copytree(CORPUS / "work" / part, work / part)
    out = tmp_path / "posts.jsonl"
    for step in (["chunks"], ["merge"], ["final", "--out", str(out)]):
        subprocess.run(
            [sys.executable, str(REPO / "corpus" / "build.py"), *step, "--work", str(work)],
            check=True,
            capture_output=True,
        )
    assert out.read_bytes() == (CORPUS / "posts.jsonl").read_bytes()
    assert (tmp_path / "stats.json").read_bytes() == (CORPUS / "stats.json").read_bytes()
    assert (work / "agreement.json").read_bytes() == (CORPUS / "agreement.json").read_bytes()


def test_the_test_split_is_whole_operators_held_out_by_crc32() -> None:
    rows = [json.loads(line) for line in (CORPUS / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        held_out = zlib.crc32(row["operator"].lower().encode("utf-8")) % 5 == 0  # the rule, restated
        assert row["split"] == ("test" if held_out else "train"), row["id"]
    assert len({r["operator"] for r in rows if r["split"] == "test"}) >= 8

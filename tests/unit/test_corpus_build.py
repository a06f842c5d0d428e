"""The shipped corpus is what its work folder builds: writers' posts + two blind annotations + rulings ->
posts.jsonl, stats.json and agreement.json, byte for byte (corpus/care-posts/README.md promises it), and the
test split is exactly the operators the crc32 rule holds out."""

from __future__ import annotations

import importlib.util
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


def test_each_writer_belongs_to_the_round_it_wrote_in() -> None:
    """agreement.json's `by_round` and stats.json's `by_round` read this: w1-w3 round 1, w4-w11 round 2, w12 on
    round 3, for chunk names and post ids alike."""
    spec = importlib.util.spec_from_file_location("corpus_build", REPO / "corpus" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    found = {name: build.round_of(name) for name in ("w1-00", "w3-02", "w4-00", "w11-00", "w12-00", "w19-00412")}
    assert found == {"w1-00": 1, "w3-02": 1, "w4-00": 2, "w11-00": 2, "w12-00": 3, "w19-00412": 3}
    stats = json.loads((CORPUS / "stats.json").read_text(encoding="utf-8"))
    assert sorted(stats["by_round"]) == ["1", "2", "3"]

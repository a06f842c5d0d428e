"""The shipped corpus is what its work folder builds: writers' posts + two blind annotations + rulings ->
posts.jsonl, stats.json and agreement.json, byte for byte (corpus/care-posts/README.md promises it), and the
test split is exactly the operators the crc32 rule holds out."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from corpus import build

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus" / "care-posts"


def test_the_work_folder_rebuilds_the_shipped_corpus_byte_for_byte(tmp_path: Path) -> None:
    work = tmp_path / "work"
    for part in ("raw", "labels", "adjudication", "review"):
        if (CORPUS / "work" / part).exists():
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

    # a round labelled but held back is assembled only when asked for, after every shipped row, unchanged
    later = tmp_path / "later" / "posts.jsonl"
    later.parent.mkdir()
    later_round = max(build.ASSEMBLED_ROUNDS) + 1
    rounds = str(later_round)
    subprocess.run(
        [
            sys.executable,
            str(REPO / "corpus" / "build.py"),
            "final",
            "--out",
            str(later),
            "--work",
            str(work),
            "--rounds",
            rounds,
        ],
        check=True,
        capture_output=True,
    )
    shipped = out.read_bytes()
    assert later.read_bytes().startswith(shipped)
    added = [json.loads(line) for line in later.read_bytes()[len(shipped) :].decode("utf-8").splitlines()]
    assert all(build.round_of(row["id"]) == later_round for row in added)
    if any(build.round_of(p.stem) == later_round for p in (work / "raw").glob("*.jsonl")):
        assert added


def test_the_test_split_is_whole_operators_held_out_by_crc32() -> None:
    rows = [json.loads(line) for line in (CORPUS / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        held_out = zlib.crc32(row["operator"].lower().encode("utf-8")) % 5 == 0  # the rule, restated
        assert row["split"] == ("test" if held_out else "train"), row["id"]
    assert len({r["operator"] for r in rows if r["split"] == "test"}) >= 8


def test_every_writer_file_was_labelled_by_exactly_two_annotators() -> None:
    """The README's "two annotators per file, blind to each other": assembly reads the first two annotations of a
    chunk in name order, so a third (an annotation set aside, like round 8's ann117 and ann118) must not be in
    work/, or it could silently stand in for one of the two."""
    by_chunk = Counter(p.stem for p in (CORPUS / "work" / "labels").glob("*/*.tsv"))
    writers = {p.stem for p in (CORPUS / "work" / "raw").glob("w*.jsonl")}
    assert writers == {chunk.partition("-")[0] for chunk in by_chunk}
    assert dict(by_chunk) == dict.fromkeys(by_chunk, 2)


def test_an_operator_the_corpus_already_had_keeps_its_one_name() -> None:
    """Rounds 6 and 7's briefs named four operators differently from earlier rounds; assembly files them under the
    corpus's name, so no operator stands on both sides of a by-operator split. The writers' files keep theirs."""
    rows = [json.loads(line) for line in (CORPUS / "posts.jsonl").read_text(encoding="utf-8").splitlines()]
    names = Counter(r["operator"] for r in rows)
    raw = Counter(
        json.loads(line)["operator"]
        for path in (CORPUS / "work" / "raw").glob("w*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    for alias, name in build.SAME_OPERATOR.items():
        assert alias not in names
        assert raw[alias] > 0 and names[name] > raw[alias]  # the alias's posts joined the earlier ones


def test_each_writer_belongs_to_the_round_it_wrote_in() -> None:
    """agreement.json's `by_round` and stats.json's `by_round` read this (`build.ROUND_STARTS`), for chunk names and
    post ids alike: the first and last writer of a round and the first of the next."""
    names = (
        "w1-00",
        "w3-02",
        "w4-00",
        "w11-00",
        "w12-00",
        "w19-00412",
        "w20-00",
        "w27-00600",
        "w28-00",
        "w35-00001",
        "w36-00",
        "w44-00",
        "w52-00",
        "w59-00600",
        "w60-00",
        "w68-00",
        "w75-00600",
        "w76-00",
        "w84-00",
        "w91-00600",
        "w92-00",
        "w99-00600",
        "w100-00",
        "w107-00600",
        "w108-00",
        "w115-00600",
        "w116-00",
        "w121-00400",
        "w122-00",
        "w127-00400",
    )
    found = {name: build.round_of(name) for name in names}
    assert found == {
        "w1-00": 1,
        "w3-02": 1,
        "w4-00": 2,
        "w11-00": 2,
        "w12-00": 3,
        "w19-00412": 3,
        "w20-00": 4,
        "w27-00600": 4,
        "w28-00": 5,
        "w35-00001": 5,
        "w36-00": 6,
        "w44-00": 7,
        "w52-00": 8,
        "w59-00600": 8,
        "w60-00": 9,
        "w68-00": 10,
        "w75-00600": 10,
        "w76-00": 11,
        "w84-00": 12,
        "w91-00600": 12,
        "w92-00": 13,
        "w99-00600": 13,
        "w100-00": 14,
        "w107-00600": 14,
        "w108-00": 15,
        "w115-00600": 15,
        "w116-00": 16,
        "w121-00400": 16,
        "w122-00": 17,
        "w127-00400": 17,
    }
    stats = json.loads((CORPUS / "stats.json").read_text(encoding="utf-8"))
    assert sorted(stats["by_round"], key=int) == [str(n) for n in sorted(build.ASSEMBLED_ROUNDS)]


def test_rounds_are_named_as_a_last_round_or_a_list() -> None:
    assert build.parse_rounds("15") == frozenset(range(1, 16))
    assert build.parse_rounds("1-14,16") == frozenset([*range(1, 15), 16])
    assert build.parse_rounds("3") == frozenset({1, 2, 3})
    for bad in ("", "0", "x", "0-2", "1-", "14,,16", "3-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            build.parse_rounds(bad)


def _review(
    work: Path, readings: dict[str, str], fields: tuple[str, ...] = ("addressed_to_brand", "needs_human")
) -> None:
    folder = work / "review" / "rev3"
    folder.mkdir(parents=True)
    (folder / "review.json").write_text(json.dumps({"fields": list(fields), "why": "test"}), encoding="utf-8")
    for reviewer, text in readings.items():
        (folder / f"{reviewer}.tsv").write_text(text, encoding="utf-8")


def test_a_review_changes_a_label_only_where_both_reviewers_read_it_alike(tmp_path: Path) -> None:
    _review(tmp_path, {"r1": "w1-1\t1\t1\nw1-2\t1\t0\n", "r2": "w1-1\t1\t0\nw1-2\t0\t0\n"})
    reviews = build.read_reviews(tmp_path)
    changed: dict[str, Counter[str]] = {"rev3": Counter()}
    one = {"id": "w1-1", "addressed_to_brand": False, "needs_human": False}
    two = {"id": "w1-2", "addressed_to_brand": False, "needs_human": True}
    untouched = {"id": "w1-3", "addressed_to_brand": False, "needs_human": False}
    for row in (one, two, untouched):
        build.apply_reviews(row, reviews, changed)
    assert one == {"id": "w1-1", "addressed_to_brand": True, "needs_human": False}  # needs_human: they differ
    assert two == {"id": "w1-2", "addressed_to_brand": False, "needs_human": False}  # addressed: they differ
    assert untouched == {"id": "w1-3", "addressed_to_brand": False, "needs_human": False}
    assert changed["rev3"] == Counter({"addressed_to_brand": 1, "needs_human": 1})


def test_a_review_that_moves_the_topic_keeps_the_intent_inside_it(tmp_path: Path) -> None:
    _review(tmp_path, {"r1": "w1-1\tbilling\toverchage\n", "r2": "w1-1\tbilling\trefund\n"}, ("topic", "intent"))
    changed: dict[str, Counter[str]] = {"rev3": Counter()}
    row = {"id": "w1-1", "topic": "cancellation", "intent": "cancel"}
    build.apply_reviews(row, build.read_reviews(tmp_path), changed)
    assert row == {"id": "w1-1", "topic": "billing", "intent": "general"}
    assert changed["rev3"] == Counter({"topic": 1, "intent": 1})


def test_a_review_with_one_reviewer_or_an_unknown_field_is_refused(tmp_path: Path) -> None:
    _review(tmp_path / "a", {"r1": "w1-1\t1\t1\n"})
    with pytest.raises(SystemExit, match="exactly two"):
        build.read_reviews(tmp_path / "a")
    _review(tmp_path / "b", {"r1": "w1-1\t1\n", "r2": "w1-1\t1\n"}, fields=("mood",))
    with pytest.raises(SystemExit, match="labels of the guideline"):
        build.read_reviews(tmp_path / "b")


def test_a_round_left_out_of_the_list_is_not_assembled_nor_counted(tmp_path: Path) -> None:
    """`--rounds 1,3`: round 2's ruled posts stay in the work folder, out of posts.jsonl and of the agreement; its
    disagreements are still written for its adjudicator."""
    work = tmp_path / "work"
    writers = ("w1", "w4", "w12")  # one writer in each of rounds 1-3
    for writer in writers:
        posts = [
            {"id": f"{writer}-0000{n}", "operator": "Globe", "market": "PH", "operator_type": "mobile",
             "brand_handle": "@talk2GLOBE", "channel": "x_mention", "context": None,
             "text": f"{writer} post {n}: no signal since morning"}
            for n in (1, 2)
        ]  # fmt: skip
        build.write_jsonl(work / "chunks" / f"{writer}-00.jsonl", posts)
        for annotator, sentiment in (("annA", "negative"), ("annB", "neutral")):
            lines = "".join(f"{p['id']}\toutage\tno_service\t{sentiment}\t0\t1\t1\t0\t0\ten\n" for p in posts)
            (work / "labels" / annotator).mkdir(parents=True, exist_ok=True)
            (work / "labels" / annotator / f"{writer}-00.tsv").write_text(lines, encoding="utf-8")
        rulings = "".join(f"{p['id']}\tsentiment=negative\n" for p in posts)
        (work / "adjudication").mkdir(exist_ok=True)
        (work / "adjudication" / f"{writer}-00.tsv").write_text(rulings, encoding="utf-8")

    out = tmp_path / "posts.jsonl"
    build.cmd_final(work, out, build.parse_rounds("1,3"))
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == ["w1-00001", "w1-00002", "w12-00001", "w12-00002"]

    build.cmd_merge(work, build.parse_rounds("1,3"))
    agreement = json.loads((work / "agreement.json").read_text(encoding="utf-8"))
    assert sorted(agreement["by_round"]) == ["1", "3"]
    assert agreement["sentiment"]["raw_agreement"] == 0.0  # 4 posts, all disputed
    assert (work / "disagreements" / "w4-00.tsv").read_text(encoding="utf-8").count("sentiment=") == 2

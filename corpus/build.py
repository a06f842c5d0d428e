"""Assemble the care-post corpus from writers' posts and two independent annotations per post.

Steps (each reads and writes files under a work folder, default corpus/care-posts/work, which holds the
writers' files, every annotator's labels and every ruling, so `final` rebuilds posts.jsonl exactly):
  chunks  raw/<writer>.jsonl -> chunks/<writer>-NN.jsonl (the text annotators see: no labels)
  merge   chunks + labels/<annotator>/<chunk>.tsv -> disagreements/<chunk>.tsv (for the adjudicator)
          and agreement.json (Cohen's kappa per label: all posts, and each writing round on its own)
  final   + adjudication/<chunk>.tsv -> corpus/care-posts/posts.jsonl (with `split`) and stats.json
          + review/<name>/: a later guideline revision re-applied to some fields of some posts (`read_reviews`)

`merge` and `final` assemble the rounds `--rounds` names (default `ASSEMBLED_ROUNDS`; `15` is rounds 1 to 15,
`1-14,16` names them one by one): a round that is labelled and ruled but not yet part of the shipped corpus keeps
its files in the work folder (merge still writes its disagreements for the adjudicator) until a model trained with
it is shown to be better; `--rounds 15 --out F` assembles it into another file for that check.

Stdlib only; deterministic (sorted inputs, crc32 for the operator split).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chalicelib.labels import INTENTS, SENTIMENTS, TOPICS, held_out  # stdlib only, like this script

FIELDS = (
    "topic",
    "intent",
    "sentiment",
    "churn_risk",
    "needs_human",
    "addressed_to_brand",
    "spam",
    "abuse",
    "language",
)
LANGUAGES = ("en", "tl", "es", "hi-en", "other")
BOOLEANS = ("churn_risk", "needs_human", "addressed_to_brand", "spam", "abuse")
POST_FIELDS = ("id", "operator", "market", "operator_type", "brand_handle", "channel", "context", "text")
CHUNK = 1000
ROUND_STARTS = (
    (122, 17),
    (116, 16),
    (108, 15),
    (100, 14),
    (92, 13),
    (84, 12),
    (76, 11),
    (68, 10),
    (60, 9),
    (52, 8),
    (44, 7),
    (36, 6),
    (28, 5),
    (20, 4),
    (12, 3),
    (4, 2),
    (1, 1),
)
"""(first writer number, round): the writing round of each writer, newest first (w1-w3 wrote round 1; from w4 to
w115, eight writers a round; rounds 16 and 17, w116-w121 and w122-w127, six each). Rounds 2 and 3 were labelled
with the guideline's revision 2, which wrote down the first round's adjudications, and each later round N with
revision N-1 — so each round's agreement is reported on its own too."""

ASSEMBLED_ROUNDS: frozenset[int] = frozenset(range(1, 17))
"""The rounds the shipped posts.jsonl holds. Round 15 (w108-w115) was held back for a while: the first model trained
with it (care-8486a75e9dd4, rounds 1-15) scored below the shipped one on the held-out operators. Its paired ablation
then showed it helping out of fold on operators no fold had seen, and the model trained on rounds 1-16
(care-a9d1477769b6) passed `carewire train`'s gate, so both rounds are assembled. Round 17 (w122-w127) is held back:
the model trained on rounds 1-17 (care-8aaa8042f6f2) held out scored 0.8157, below both rounds 1-16 models (0.8162
with names as words, 0.8177 with features 2, care-0cf58cb7666e, shipped). A later round stays out of this set until
a model trained with it is shown to be better; `--rounds` assembles it into another file for that check."""


SAME_OPERATOR = {"Lebara": "Lebara UK", "Dish Network": "Dish", "Digicel": "Digicel Jamaica", "WE": "WE Egypt"}
"""Names rounds 6 and 7's writing briefs gave to operators the corpus already had under another name (the same operator,
the same market): assembly files their posts under the corpus's name, so a by-operator split never puts one
operator on both sides. The writers' files keep what they were told."""


def writer_number(name: str) -> int:
    """12 for a writer file, chunk or post id of writer w12 (`w12`, `w12-00`, `w12-00431`); 0 for anything else."""
    digits = name.partition("-")[0].lstrip("w")
    return int(digits) if digits.isdigit() else 0


def natural(path: Path) -> tuple[int, str]:
    """Writer files and chunks in writer order (w2 before w10), so adding writers never reorders earlier posts."""
    return (writer_number(path.stem), path.stem)


def round_of(name: str) -> int:
    """The writing round of a writer file, chunk or post id."""
    number = writer_number(name)
    return next((rnd for first, rnd in ROUND_STARTS if number >= first), 1)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def posts_of(path: Path) -> list[dict[str, Any]]:
    """A writer's posts in file order (the post fields only)."""
    rows = []
    for row in read_jsonl(path):
        post = {k: row.get(k) for k in POST_FIELDS}
        if isinstance(post["text"], str) and post["id"]:
            rows.append(post)
    return rows


def cmd_chunks(work: Path) -> None:
    """Chunks per writer file, CHUNK posts each, named <writer>-NN: a writer appending posts never moves an
    earlier chunk, so annotation can start on full chunks before the writing ends."""
    out = work / "chunks"
    total = 0
    for path in sorted((work / "raw").glob("*.jsonl"), key=natural):
        rows = posts_of(path)
        for n, start in enumerate(range(0, len(rows), CHUNK)):
            part = rows[start : start + CHUNK]
            write_jsonl(out / f"{path.stem}-{n:02d}.jsonl", part)
            total += len(part)
            print(f"{path.stem}-{n:02d}: {len(part)} posts")
    print(f"{total} posts in chunks under {out}")


def parse_label_line(line: str) -> tuple[str, dict[str, str]] | None:
    parts = [p.strip() for p in line.rstrip("\n").split("\t")]
    if len(parts) != 1 + len(FIELDS):
        return None
    labels = dict(zip(FIELDS, parts[1:], strict=True))
    if labels["topic"] not in TOPICS or labels["sentiment"] not in SENTIMENTS:
        return None
    if labels["language"] not in LANGUAGES:
        labels["language"] = "other"
    if labels["intent"] not in INTENTS[labels["topic"]]:
        labels["intent"] = "general"
    if any(labels[b] not in ("0", "1") for b in BOOLEANS):
        return None
    return parts[0], labels


def read_labels(path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parsed = parse_label_line(line)
        if parsed:
            out[parsed[0]] = parsed[1]
    return out


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two annotators over the same items."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def chunk_annotations(work: Path, chunk: str) -> list[tuple[str, dict[str, dict[str, str]]]]:
    """(annotator, labels by post id) for each annotator who labelled `chunk`, in name order."""
    found = []
    for folder in sorted((work / "labels").glob("*")):
        labels = read_labels(folder / f"{chunk}.tsv")
        if labels:
            found.append((folder.name, labels))
    return found


def _agreement(pairs: dict[str, tuple[list[str], list[str]]]) -> dict[str, dict[str, float]]:
    return {
        f: {
            "kappa": round(kappa(*pairs[f]), 3),
            "raw_agreement": round(sum(x == y for x, y in zip(*pairs[f], strict=True)) / max(1, len(pairs[f][0])), 3),
            "n": len(pairs[f][0]),
        }
        for f in FIELDS
    }


def parse_rounds(spec: str) -> frozenset[int]:
    """`--rounds`: a lone number N is rounds 1 to N; otherwise comma-separated rounds and ranges (`1-14,16`)."""
    rounds: set[int] = set()
    try:
        if spec.strip().isdigit():
            rounds.update(range(1, int(spec) + 1))
        else:
            for part in spec.split(","):
                first, dash, last = part.strip().partition("-")
                rounds.update(range(int(first), int(last if dash else first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a round list: {spec!r} (e.g. 15 or 1-14,16)") from None
    if not rounds or min(rounds) < 1:
        raise argparse.ArgumentTypeError(f"not a round list: {spec!r} (e.g. 15 or 1-14,16)")
    return frozenset(rounds)


def cmd_merge(work: Path, rounds: frozenset[int] = ASSEMBLED_ROUNDS) -> None:
    pairs: dict[str, tuple[list[str], list[str]]] = {f: ([], []) for f in FIELDS}
    by_round: dict[int, dict[str, tuple[list[str], list[str]]]] = {}
    total_dis = 0
    missing = 0
    for chunk_path in sorted((work / "chunks").glob("*.jsonl"), key=natural):
        chunk = chunk_path.stem
        anns = chunk_annotations(work, chunk)
        if len(anns) < 2:
            print(f"{chunk}: {len(anns)} annotation(s); need 2", file=sys.stderr)
            continue
        (name_a, a), (name_b, b) = anns[0], anns[1]
        # agreement of the assembled rounds only; disagreements of every round (for its adjudicator)
        rnd = by_round.setdefault(round_of(chunk), {f: ([], []) for f in FIELDS}) if round_of(chunk) in rounds else None
        lines = []
        for post in read_jsonl(chunk_path):
            pid = post["id"]
            if pid not in a or pid not in b:
                missing += 1
                continue
            differ = [f for f in FIELDS if a[pid][f] != b[pid][f]]
            if rnd is not None:
                for f in FIELDS:
                    for acc in (pairs, rnd):
                        acc[f][0].append(a[pid][f])
                        acc[f][1].append(b[pid][f])
            if differ:
                total_dis += 1
                detail = " ".join(f"{f}={a[pid][f]}|{b[pid][f]}" for f in differ)
                lines.append(f"{pid}\t{detail}")
        out = work / "disagreements" / f"{chunk}.tsv"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{chunk}: annotators {name_a}, {name_b}; {len(lines)} posts disagree on some label")
    agreement: dict[str, object] = dict(_agreement(pairs))
    agreement["by_round"] = {str(r): _agreement(p) for r, p in sorted(by_round.items())}
    (work / "agreement.json").write_text(json.dumps(agreement, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(agreement, indent=2))
    print(f"posts with any disagreement: {total_dis}; posts missing a label: {missing}")


def read_adjudication(path: Path) -> dict[str, dict[str, str]]:
    """Lines `id<TAB>field=value field=value`: the adjudicator's value for each disputed field."""
    out: dict[str, dict[str, str]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        pid, rest = line.split("\t", 1)
        values = dict(part.split("=", 1) for part in rest.split() if "=" in part)
        out[pid.strip()] = {k: v for k, v in values.items() if k in FIELDS}
    return out


def resolve(a: dict[str, str], b: dict[str, str], adj: dict[str, str]) -> dict[str, str] | None:
    """Agreed values; disputed ones from the adjudicator. None if a dispute has no ruling."""
    labels = {}
    for f in FIELDS:
        if a[f] == b[f]:
            labels[f] = a[f]
        elif f in adj:
            labels[f] = adj[f]
        else:
            return None
    if labels["topic"] not in TOPICS:
        return None
    if labels["intent"] not in INTENTS[labels["topic"]]:
        labels["intent"] = "general"
    return labels


Review = tuple[str, tuple[str, ...], dict[str, dict[str, str]], dict[str, float]]
"""a review's name, its fields, the values both reviewers gave alike (by post id), and their kappa per field"""


def read_reviews(work: Path) -> list[Review]:
    """`review/<name>/review.json` (`{"fields": [...], "why": ...}`) and exactly two reviewers' files
    `review/<name>/<reviewer>.tsv`, lines `id<TAB>value<TAB>value...` in the order of `fields`, each reviewer blind to
    the other. A post's field takes the reviewers' value where both gave the same one; where they differ, the
    annotators' (or adjudicator's) value stands."""
    out: list[Review] = []
    root = work / "review"
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = json.loads((folder / "review.json").read_text(encoding="utf-8"))
        fields = tuple(meta["fields"])
        if not fields or any(f not in FIELDS for f in fields):
            raise SystemExit(f"{folder}: fields must be labels of the guideline, not {fields}")
        files = sorted(folder.glob("*.tsv"))
        if len(files) != 2:  # a change needs two independent readings
            raise SystemExit(f"{folder}: a review needs exactly two reviewers' files, found {len(files)}")
        readings = []
        for path in files:
            rows: dict[str, dict[str, str]] = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.rstrip("\n").split("\t")
                if len(parts) != len(fields) + 1:
                    continue
                rows[parts[0].strip()] = {f: v.strip() for f, v in zip(fields, parts[1:], strict=True)}
            readings.append(rows)
        a, b = readings
        ids = [pid for pid in a if pid in b]
        agreed = {pid: {f: a[pid][f] for f in fields if a[pid][f] == b[pid][f]} for pid in ids}
        k = {f: round(kappa([a[pid][f] for pid in ids], [b[pid][f] for pid in ids]), 3) for f in fields}
        out.append((folder.name, fields, agreed, k))
    return out


def apply_reviews(row: dict[str, Any], reviews: list[Review], changed: dict[str, Counter[str]]) -> None:
    for name, fields, agreed, _kappa in reviews:
        values = agreed.get(row["id"])
        if not values:
            continue
        for f, v in values.items():
            new = (v == "1") if f in BOOLEANS else v
            if new != row[f]:
                row[f] = new
                changed[name][f] += 1
        if "topic" in fields and row["intent"] not in INTENTS[row["topic"]]:  # agreed on a topic, not its intent
            row["intent"] = "general"
            changed[name]["intent"] += 1


def typed(labels: dict[str, str]) -> dict[str, Any]:
    return {f: (labels[f] == "1") if f in BOOLEANS else labels[f] for f in FIELDS}


def cmd_final(work: Path, out: Path, rounds: frozenset[int] = ASSEMBLED_ROUNDS) -> None:
    rows: list[dict[str, Any]] = []
    unresolved = duplicates = 0
    texts: set[str] = set()
    reviews = read_reviews(work)
    changed: dict[str, Counter[str]] = {name: Counter() for name, *_ in reviews}
    for chunk_path in sorted((work / "chunks").glob("*.jsonl"), key=natural):
        chunk = chunk_path.stem
        anns = chunk_annotations(work, chunk)
        if len(anns) < 2 or round_of(chunk) not in rounds:
            continue
        (_, a), (_, b) = anns[0], anns[1]
        adj = read_adjudication(work / "adjudication" / f"{chunk}.tsv")
        for post in read_jsonl(chunk_path):
            pid = post["id"]
            if pid not in a or pid not in b:
                continue
            labels = resolve(a[pid], b[pid], adj.get(pid, {}))
            if labels is None:
                unresolved += 1
                continue
            text_key = " ".join(post["text"].lower().split())
            if text_key in texts:  # a writer repeating a post verbatim adds nothing
                duplicates += 1
                continue
            texts.add(text_key)
            row = dict(post)
            row["operator"] = SAME_OPERATOR.get(post["operator"], post["operator"])
            row.update(typed(labels))
            apply_reviews(row, reviews, changed)
            row["split"] = "test" if held_out(row["operator"]) else "train"
            rows.append(row)
    write_jsonl(out, rows)
    stats: dict[str, Any] = {"posts": len(rows), "unresolved_dropped": unresolved, "duplicates_dropped": duplicates}
    for f in ("topic", "sentiment", "language", "market", "channel", "split", "operator_type"):
        stats[f] = dict(Counter(r[f] for r in rows).most_common())
    for f in BOOLEANS:
        stats[f] = sum(1 for r in rows if r[f])
    if reviews:
        stats["reviews"] = {
            name: {
                "posts": len(agreed),
                "fields": list(fields),
                "kappa": k,
                "changed": dict(sorted(changed[name].items())),
            }
            for name, fields, agreed, k in reviews
        }
    stats["by_round"] = dict(sorted(Counter(str(round_of(r["id"])) for r in rows).items(), key=lambda kv: int(kv[0])))
    stats["markets"] = len({r["market"] for r in rows})
    stats["operators"] = len({r["operator"] for r in rows})
    stats["test_operators"] = sorted({r["operator"] for r in rows if r["split"] == "test"})
    (out.parent / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("chunks", "merge", "final"))
    parser.add_argument("--work", type=Path, default=Path(__file__).resolve().parent / "care-posts" / "work")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "care-posts" / "posts.jsonl")
    parser.add_argument(
        "--rounds",
        type=parse_rounds,
        default=ASSEMBLED_ROUNDS,
        help="the rounds to assemble: N for 1 to N, or a list such as 1-14,16 (default: the shipped corpus's)",
    )
    args = parser.parse_args()
    if args.step == "chunks":
        cmd_chunks(args.work)
    elif args.step == "merge":
        cmd_merge(args.work, args.rounds)
    else:
        cmd_final(args.work, args.out, args.rounds)


if __name__ == "__main__":
    main()

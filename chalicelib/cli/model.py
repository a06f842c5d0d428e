"""The care model for care leads: `carewire train`, `carewire model show|diff`, `carewire escalations correct`."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, _settings, cli
from chalicelib.cli.escalations import _default_agent, escalations
from chalicelib.cli.operations import replay_options

DEFAULT_CORPUS = Path("corpus") / "care-posts" / "posts.jsonl"


def _repo_root(policies_dir: Path) -> Path:
    return policies_dir.resolve().parent


def _prevalence(given: tuple[str, ...]) -> tuple[dict[str, float], dict[str, float]]:
    """`LABEL=SHARE` pairs over `REAL_PREVALENCE` (SHARE 0 drops the label: the training rows' own share), and
    the topic prior (`topic=0`: none, the training rows' own mix)."""
    from chalicelib.cli.training import REAL_PREVALENCE, REAL_TOPIC_PREVALENCE

    out = dict(REAL_PREVALENCE)
    topics = dict(REAL_TOPIC_PREVALENCE)
    for item in given:
        label, _, share = item.partition("=")
        if label == "topic" and share == "0":
            topics = {}
            continue
        try:
            value = float(share)
        except ValueError:
            value = -1.0
        if label not in REAL_PREVALENCE or not 0.0 <= value < 1.0:
            known = ", ".join(REAL_PREVALENCE)
            raise click.BadParameter(
                f"{item!r}: expected LABEL=SHARE, LABEL one of {known}, 0 <= SHARE < 1; or topic=0"
            )
        if value:
            out[label] = value
        else:
            out.pop(label)
    return out, topics


@cli.command("train")
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="labelled JSONL (repeatable; default: corpus/care-posts/posts.jsonl)",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="default: policies/")
@click.option("--force", is_flag=True, help="write the model even when it scores worse than the current one")
@click.option(
    "--prevalence",
    "prevalence",
    multiple=True,
    metavar="LABEL=SHARE",
    help="the share of posts with LABEL (churn_risk, needs_human) in the traffic its cut is for; SHARE 0: the "
    "training rows' own (e.g. for an operator's own history); topic=0: the topics' own mix, no prior shift. "
    "Default: the corpus's realistic round",
)
@click.option(
    "--export-corrections",
    "export_to",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the agents' stored corrections as training rows to this JSONL file, and stop",
)
@click.pass_context
def train_command(  # noqa: PLR0915 - read, train, score, gate, write
    ctx: click.Context,
    data_files: tuple[Path, ...],
    out: Path | None,
    force: bool,
    prevalence: tuple[str, ...],
    export_to: Path | None,
) -> None:
    """Train the care model from labelled posts; print held-out figures; write it unless it is worse.

    Rows with `split: test` are only scored (held-out operators); rows without a split are held out by operator
    (crc32 of the operator name, 1 in 5). Training is deterministic: the same data gives the same file, byte for
    byte."""
    if export_to is not None:
        _export_corrections(ctx, export_to)
        return
    from chalicelib.classify import Classifier
    from chalicelib.classify.learned import MODEL_FILE, CareModel, ModelError
    from chalicelib.cli.evaluation import figures, predict, score_gap, table
    from chalicelib.cli.training import (
        Options,
        TrainingError,
        dumps,
        model_from_doc,
        read_rows,
        sha256_file,
        train,
    )

    settings = _settings(ctx)
    root = _repo_root(settings.policies_dir)
    files = list(data_files) or [root / DEFAULT_CORPUS]
    rows = []
    sources = []
    try:
        for path in files:
            found = read_rows(path)
            rows += found
            sources.append({"file": path.name, "sha256": sha256_file(path), "rows": len(found)})
    except TrainingError as exc:
        raise CarewireCliError(str(exc)) from exc
    _hold_out_unsplit(rows)
    training = [r for r in rows if r.split != "test"]
    held_out = [r for r in rows if r.split == "test"]
    click.echo(f"{len(training)} training rows, {len(held_out)} held-out rows (never trained on)")
    base = Classifier.from_policies(settings.policies_dir, learned=False)
    shares, topic_shares = _prevalence(prevalence)
    options = Options(prevalence=shares, topic_prevalence=topic_shares)
    try:
        trained = train(base, training, options, {"trained_on": sources}, log=click.echo)
    except TrainingError as exc:
        raise CarewireCliError(str(exc)) from exc
    click.echo("out-of-fold (by operator, what calibration and thresholds were chosen on):")
    for name, value in trained.oof.items():
        click.echo(f"  {name:<34} {value:.3f}")
    target = out or settings.policies_dir / MODEL_FILE
    new_clf = base.with_model(model_from_doc(trained.doc))
    if held_out:
        new_preds = predict(new_clf, held_out)
        new_figs = figures(held_out, new_preds)
        click.echo(f"held-out operators ({', '.join(sorted({r.operator for r in held_out}))}), new model:")
        for line in table(new_figs):
            click.echo(line)
        current_path = settings.policies_dir / MODEL_FILE
        if current_path.is_file():
            try:
                current = base.with_model(CareModel.load(current_path))
            except ModelError as exc:
                click.echo(f"current model unreadable ({exc}); not compared")
            else:
                old_preds = predict(current, held_out)
                old_figs = figures(held_out, old_preds)
                click.echo(f"score on held-out rows: new {new_figs.score():.4f}, current {old_figs.score():.4f}")
                gap = score_gap(held_out, new_preds, old_preds)
                click.echo(
                    f"  new - current {gap.gap:+.4f}; 95% interval {gap.low:+.4f} to {gap.high:+.4f} over {gap.draws} "
                    f"draws of the held-out {gap.unit} with replacement; {gap.verdict}"
                )
                if new_figs.score() < old_figs.score() and not force:
                    raise CarewireCliError(
                        "the new model scores worse than the current one on the held-out rows; "
                        "nothing written (--force to write it anyway)"
                    )
    text = dumps(trained.doc)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target} ({len(text.encode()) / 1e6:.2f} MB, {trained.doc['version']})")


def _hold_out_unsplit(rows: list[Any]) -> None:
    from chalicelib.labels import held_out

    for r in rows:
        if r.split not in ("train", "test"):
            r.split = "test" if held_out(r.operator) else "train"


def _export_corrections(ctx: click.Context, export_to: Path) -> None:
    from chalicelib.escalations.corrections import Corrections, training_row

    with _runtime(ctx) as runtime:
        channels = runtime.channels
        store = Corrections(runtime.dynamodb, runtime.settings.table("escalations"))
        rows = []
        for item in store.corrected():
            channel = channels.get((item.get("post") or {}).get("channel", ""))
            brand = (channel.brand or channel.id) if channel else ""
            handle = channel.brand_handles[0] if channel and channel.brand_handles else ""
            row = training_row(item, brand, handle)
            if row is not None:
                rows.append(row)
    rows.sort(key=lambda r: str(r["id"]))
    export_to.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), "utf-8")
    click.echo(f"wrote {len(rows)} corrected posts to {export_to}")


@cli.group("model")
def model_group() -> None:
    """The learned care model (policies/model/care_model.json)."""


@model_group.command("show")
@click.pass_context
def model_show(ctx: click.Context) -> None:
    """Version, size, load time, thresholds and what it was trained on."""
    import time

    from chalicelib.classify.learned import MODEL_FILE, CareModel, ModelError

    path = _settings(ctx).policies_dir / MODEL_FILE
    if not path.is_file():
        raise CarewireCliError(f"{path}: no model; the classifier uses the lexicon alone")
    start = time.perf_counter()
    try:
        model = CareModel.load(path)
    except ModelError as exc:
        raise CarewireCliError(str(exc)) from exc
    elapsed = (time.perf_counter() - start) * 1000
    _echo_json(
        {
            "file": str(path),
            "version": model.version,
            "bytes": path.stat().st_size,
            "load_ms": round(elapsed, 1),
            "hashed_rows": len(model.hashed),
            "thresholds": model.thresholds,
            "temperature": model.temperature,
            "priors": model.priors,
            "meta": model.meta,
        }
    )


def _model_at(policies_dir: Path, base: str) -> Path:
    """The model file at git revision `base`, in a temporary file."""
    from chalicelib.classify.learned import MODEL_FILE

    path = (policies_dir / MODEL_FILE).resolve()
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], check=False, cwd=path.parent.parent, capture_output=True, text=True
    )
    if top.returncode != 0:
        raise CarewireCliError(f"{policies_dir} is not in a git repository")
    relative = path.relative_to(Path(top.stdout.strip()))
    shown = subprocess.run(
        ["git", "show", f"{base}:{relative.as_posix()}"], check=False, cwd=top.stdout.strip(), capture_output=True
    )
    if shown.returncode != 0:
        raise CarewireCliError(f"no {relative} at {base}: {shown.stderr.decode().strip()}")
    tmp = Path(tempfile.mkdtemp()) / "care_model.json"
    tmp.write_bytes(shown.stdout)
    return tmp


@model_group.command("diff")
@click.option(
    "--candidate",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="model file to compare with the working one (e.g. from `carewire train --out`)",
)
@click.option("--base", default=None, help="compare the working model with the one at this git revision instead")
@replay_options
@click.pass_context
def model_diff(ctx: click.Context, candidate: Path | None, base: str | None, posts_file: Any, limit: int) -> None:
    """Which decisions a model change would change, and how the classification moved: reviewed like a rule."""
    from chalicelib.classify.learned import MODEL_FILE, CareModel, ModelError
    from chalicelib.cli.operations import _describe, _policy_parts, _post_doc, _read_posts
    from chalicelib.policy.offline import PostError
    from chalicelib.policy.offline import decide as decide_one

    if (candidate is None) == (base is None):
        raise CarewireCliError("give exactly one of --candidate FILE or --base REV")
    settings = _settings(ctx)
    policy, working, channels = _policy_parts(ctx)
    try:
        if candidate is not None:
            before_clf, after_clf = working, working.with_model(CareModel.load(candidate))
            names = (str(settings.policies_dir / MODEL_FILE), str(candidate))
        else:
            assert base is not None
            before_clf = working.with_model(CareModel.load(_model_at(settings.policies_dir, base)))
            after_clf = working
            names = (f"{base}", "the working model")
    except ModelError as exc:
        raise CarewireCliError(str(exc)) from exc
    if posts_file is not None:
        docs = _read_posts(posts_file)
    else:
        with _runtime(ctx) as runtime:
            stored = runtime.store.decisions(limit, channels=list(runtime.channels))  # the index, not a scan
            docs = [_post_doc(d) for d in stored if d.get("post")]
    changed = 0
    watched = ("topic", "churn_risk", "spam", "abuse", "addressed_to_brand")
    for doc in docs:
        try:
            before = decide_one(policy, before_clf, channels, doc)
            after = decide_one(policy, after_clf, channels, doc)
        except PostError as exc:
            raise CarewireCliError(f"post {doc.get('id')}: {exc}") from exc
        was = [(a["type"], a.get("template") or a.get("queue") or "") for a in before["actions"]]
        now = [(a["type"], a.get("template") or a.get("queue") or "") for a in after["actions"]]
        if (before["rule"], was) == (after["rule"], now):
            continue
        changed += 1
        b, a = before["classification"], after["classification"]
        moved = [f"{k} {b.get(k)!r}→{a.get(k)!r}" for k in watched if b.get(k) != a.get(k)]
        if b["sentiment"]["label"] != a["sentiment"]["label"]:
            moved.append(f"sentiment {b['sentiment']['label']}→{a['sentiment']['label']}")
        if b["needs_human"]["value"] != a["needs_human"]["value"]:
            moved.append(f"needs_human {b['needs_human']['p']:.2f}→{a['needs_human']['p']:.2f}")
        text = str(doc["text"])
        click.echo(f"{doc.get('id')}: {_describe(before)}  →  {_describe(after)}")
        click.echo(f"    text: {text[:100]}{'…' if len(text) > 100 else ''}")
        if moved:
            click.echo(f"    classification: {'; '.join(moved)}")
    click.echo(f"{changed} of {len(docs)} decisions change between {names[0]} and {names[1]}")


@escalations.command("correct")
@click.argument("escalation_id")
@click.option("--topic", default=None)
@click.option("--intent", default=None)
@click.option("--sentiment", type=click.Choice(["negative", "neutral", "positive"]), default=None)
@click.option("--churn/--no-churn", "churn_risk", default=None)
@click.option("--needs-human/--no-needs-human", "needs_human", default=None)
@click.option("--spam/--no-spam", "spam", default=None)
@click.option("--note", default=None)
@click.option("--agent", default=_default_agent, show_default="cli:$USER")
@click.pass_context
def escalations_correct(ctx: click.Context, /, escalation_id: str, agent: str, **fields: Any) -> None:
    """Correct what the classifier said about an escalated post (becomes a training row)."""
    from chalicelib.escalations.corrections import Corrections, parse_correction
    from chalicelib.escalations.errors import EscalationError

    body = {k: v for k, v in fields.items() if v is not None}
    with _runtime(ctx) as runtime:
        try:
            correction = parse_correction(body)
            store = Corrections(runtime.dynamodb, runtime.settings.table("escalations"))
            recorded = store.record(escalation_id, correction, agent, runtime.clock())
        except EscalationError as exc:
            raise CarewireCliError(str(exc)) from exc
    click.echo(json.dumps({"escalation_id": escalation_id, **recorded}, ensure_ascii=False, sort_keys=True))

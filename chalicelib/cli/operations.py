"""Operations: channels, policies, classify, package."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, NotFoundError, _echo_json, _runtime, _settings, cli


@cli.group()
def channels() -> None:
    """Channels (policies/channels.yaml)."""


@channels.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--health", is_flag=True, help="also whether each channel can send (reads the outbox's channel state)")
@click.pass_context
def channels_list(ctx: click.Context, as_json: bool, health: bool) -> None:
    """Each channel's id, platform and webhook path (and, in the local stage, its development secret)."""
    from chalicelib.channels.config import ChannelConfigError, SecretResolver, load_channels

    settings = _settings(ctx)
    try:
        found = load_channels(settings.policies_dir / "channels.yaml")
    except ChannelConfigError as exc:
        raise CarewireCliError(str(exc)) from exc
    resolver = SecretResolver(settings)
    rows = []
    for channel in found.values():
        row: dict[str, Any] = {
            "id": channel.id,
            "platform": channel.platform,
            "webhook_path": channel.webhook_path,
            "secret_ref": channel.secret.describe(),
            "secrets": {name: named.describe() for name, named in channel.secrets.items()},
            "brand_handles": list(channel.brand_handles),
        }
        if settings.is_local:
            row["development_secret"] = resolver.resolve(channel)
            row["development_secrets"] = {name: resolver.value(channel, name) for name in channel.secrets}
        rows.append(row)
    if health:
        from chalicelib.cli.outbox import channel_health

        with _runtime(ctx) as runtime:
            for row in rows:
                row["delivery"] = channel_health(runtime, row["id"])
    if as_json:
        _echo_json(rows)
    else:
        for row in rows:
            others = len(row["secrets"]) - 1  # the names are in --json
            more = f" (+{others} more named)" if others > 0 else ""
            line = f"{row['id']:<16} {row['platform']:<10} {row['webhook_path']:<26} secret {row['secret_ref']}{more}"
            click.echo(line + (f"  {row['delivery']['summary']}" if health else ""))


@channels.command("schema")
def channels_schema() -> None:
    """Print the JSON Schema of posts pushed to a generic (`webhook`, Standard Webhooks) channel."""
    from chalicelib.channels.standard_webhooks import SCHEMA

    _echo_json(SCHEMA)


@cli.group()
def policies() -> None:
    """Policies: check, schema."""


@policies.command("check")
@click.pass_context
def policies_check(ctx: click.Context) -> None:
    """Validate every file under the policy directory; exit 2 listing every error of every file, each with
    its file, line, rule and field."""
    from chalicelib.policy.check import check_policies

    directory = _settings(ctx).policies_dir
    policy, problems = check_policies(directory)
    if problems or policy is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(problems)} error(s) in {len({p.file for p in problems})} file(s)", err=True)
        sys.exit(2)
    click.echo(
        f"{directory}: {len(policy.rules)} rules, {len(policy.queues)} queues, "
        f"templates in {sorted(policy.templates)}: OK"
    )


@policies.command("schema")
@click.option(
    "--part",
    type=click.Choice(["rules", "context", "all"]),
    default="rules",
    show_default=True,
    help="rules: the rule files' schema (for editors); context: every field `when`/`unless` may read",
)
def policies_schema(part: str) -> None:
    """Print the JSON Schema of rule files, or of the context document rules read."""
    from chalicelib.policy.fields import context_schema
    from chalicelib.policy.schema import rule_file_schema

    if part == "all":
        _echo_json({"rules": rule_file_schema(), "context": context_schema()})
    else:
        _echo_json(rule_file_schema() if part == "rules" else context_schema())


@cli.command()
@click.argument("text", required=False)
@click.option("--channel", "channel_id", default=None, help="judge for this channel's brand (default: every channel's)")
@click.option("--lexicon-only", is_flag=True, help="the lexicon alone, without the learned model")
@click.pass_context
def classify(ctx: click.Context, text: str | None, channel_id: str | None, lexicon_only: bool) -> None:
    """Classify TEXT, or JSONL {"id", "text"} lines on stdin; one JSON line out per post."""

    classifier = _classifier(_settings(ctx).policies_dir, learned=not lexicon_only)
    if channel_id is not None and channel_id not in classifier.brands:
        raise CarewireCliError(f"unknown channel {channel_id!r}; known: {sorted(classifier.brands)}")
    brand = classifier.brand_of(channel_id)

    def emit(post_id: Any, body: str) -> None:
        doc = classifier.classify_text(body, brand=brand).to_doc()
        click.echo(json.dumps({"id": post_id, **doc}, ensure_ascii=False))

    if text is not None:
        emit(None, text)
        return
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            emit(item.get("id"), str(item["text"]))
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
            raise CarewireCliError(f'stdin line {number}: expected JSON {{"id", "text"}}: {exc}') from exc


@cli.command("package")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build/package"), show_default=True
)
@click.option("--deploy-stage", default="dev", show_default=True, help="the Chalice stage to package")
def package_command(out: Path, deploy_stage: str) -> None:
    """Package for AWS: Chalice's template merged with infra/resources.yaml, plus deployment.zip."""
    from chalicelib.packaging import PackagingError, package

    try:
        template = package(out, deploy_stage, say=lambda line: click.echo(line, err=True))
    except PackagingError as exc:
        raise CarewireCliError(str(exc)) from exc
    click.echo(f"wrote {template} and {template.parent / 'deployment.zip'}")


@cli.group()
def access() -> None:
    """Access to the agent and notices APIs."""


@access.command("tokens")
@click.pass_context
def access_tokens(ctx: click.Context) -> None:
    """The local stage's bearer token per role (in AWS the APIs use IAM instead)."""
    from chalicelib.auth import local_tokens

    settings = _settings(ctx)
    if not settings.is_local:
        raise CarewireCliError("tokens exist only in the local stage; deployed stages use IAM (policies/access.yaml)")
    _echo_json(local_tokens(settings))


def _classifier(policies_dir: Path, learned: bool = True) -> Any:
    """The classifier, or why it does not load as one line (`policies check` lists every problem)."""
    from chalicelib.classify import Classifier, LexiconError
    from chalicelib.classify.learned import ModelError

    try:
        return Classifier.from_policies(policies_dir, learned=learned)
    except ModelError as exc:
        raise CarewireCliError(str(exc)) from exc
    except LexiconError as exc:
        from chalicelib.policy.located import read_yaml

        found: list[Any] = []  # a YAML error located as `policies check` locates it, not in PyYAML's words
        for path in sorted((policies_dir / "lexicon").glob("*.yaml")):
            read_yaml(path, found)
        detail = str(found[0]) if found else str(exc)
        raise CarewireCliError(f"the lexicon does not load: {detail} (`carewire policies check` lists all)") from exc


def _policy_parts(ctx: click.Context, directory: Path | None = None) -> tuple[Any, Any, Any]:
    from chalicelib.channels.config import load_channels
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.loader import load_policy

    settings = _settings(ctx)
    directory = directory or settings.policies_dir
    try:
        policy = load_policy(directory)
    except PolicyErrors as exc:
        raise CarewireCliError(f"{directory}: the policy does not load:\n{exc}") from exc
    classifier = _classifier(settings.policies_dir)
    return policy, classifier, load_channels(settings.policies_dir / "channels.yaml")


def replay_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--posts FILE` and `--limit N`: what a diff replays (the stored decisions unless a file is given)."""
    command = click.option("--limit", type=int, default=1000, show_default=True, help="stored decisions to replay")(
        command
    )
    return click.option(
        "--posts",
        "posts_file",
        type=click.File("r", encoding="utf-8"),
        default=None,
        help="JSONL posts (default: the stored decisions)",
    )(command)


def _read_posts(source: Any) -> list[dict[str, Any]]:
    from chalicelib.json_input import JsonRejected, text_objects

    try:
        return [doc for _, doc in text_objects(source)]
    except JsonRejected as exc:
        raise CarewireCliError(f"line {exc}") from None


@cli.command()
@click.option(
    "--posts", "posts_file", type=click.File("r", encoding="utf-8"), default="-", help="JSONL posts (default: stdin)"
)
@click.option(
    "--notices",
    "notice_sources",
    multiple=True,
    help="notice files (YAML, as `notices publish` takes) to treat as live, or `live` for the stage's live notices",
)
@click.option("--now", "now_text", help="decide at this ISO time (default: the post's `now`, or now with `live`)")
@click.pass_context
def decide(ctx: click.Context, posts_file: Any, notice_sources: tuple[str, ...], now_text: str | None) -> None:
    """Decide JSONL posts offline — {"id","text"} plus optional platform, channel, author, is_dm,
    in_reply_to, now — one JSON line out per post: action, rule, reasons, the reply text it would send
    (`replies`: per action, in the post's language, for its platform), classification. Writes nothing."""
    from contextlib import nullcontext

    from chalicelib.clock import parse
    from chalicelib.notices.errors import NoticeInvalid
    from chalicelib.policy.offline import PostError, notices_from_files
    from chalicelib.policy.offline import decide as decide_one

    policy, classifier, channels = _policy_parts(ctx)
    posts = _read_posts(posts_file)
    files = [Path(s) for s in notice_sources if s != "live"]
    live = "live" in notice_sources
    try:
        now = parse(now_text) if now_text else None
    except ValueError as exc:
        raise CarewireCliError(f"--now: not an ISO-8601 time: {now_text!r}") from exc
    with _runtime(ctx) if live else nullcontext() as runtime:
        sources = []
        if files:
            try:
                sources.append(notices_from_files(files, _settings(ctx).policies_dir, channels, now))
            except NoticeInvalid as exc:
                raise CarewireCliError(f"--notices: {exc}") from exc
        if runtime is not None:
            sources.append(runtime.notices.for_post)
            now = now or runtime.clock()

        def source(post: Any, classification: Any, at: Any) -> list[dict[str, Any]]:
            found = [doc for one in sources for doc in one(post, classification, at)]
            return sorted(found, key=lambda d: -int(d.get("score", 0)))

        for number, doc in enumerate(posts, start=1):
            try:
                decided = decide_one(
                    policy, classifier, channels, doc, now=now, notice_source=source if sources else None
                )
            except PostError as exc:
                raise CarewireCliError(f"post {number}: {exc}") from exc
            click.echo(json.dumps(decided, ensure_ascii=False))


@policies.command("test")
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="default: <policies>/tests",
)
@click.option("--show", is_flag=True, help="print what each case's post would be told, per language and platform")
@click.pass_context
def policies_test(ctx: click.Context, cases_dir: Path | None, show: bool) -> None:
    """Run the policy test cases; exit 1 when any fails."""
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.testing import run_cases

    policy, classifier, channels = _policy_parts(ctx)
    try:
        results = run_cases(policy, classifier, channels, cases_dir or _settings(ctx).policies_dir / "tests")
    except PolicyErrors as exc:
        raise CarewireCliError(str(exc)) from exc
    failed = [r for r in results if not r.passed]
    if show:
        for result in results:
            click.echo(f"{'ok  ' if result.passed else 'FAIL'} {Path(result.file).name}: {result.name}")
            for reply in result.decision.get("replies", []):
                where = f"{reply['language']}/{reply['platform']}{', private' if reply['private'] else ''}"
                click.echo(f"     says ({where}): {reply['text']}")
    for result in failed:
        click.echo(f"FAIL {Path(result.file).name}: {result.name}", err=True)
        for failure in result.failures:
            click.echo(f"     {failure}", err=True)
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


@policies.command("history")
@click.option("--show", "digest", default=None, help="one version's diff (its digest, or 8+ leading characters)")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def policies_history(ctx: click.Context, digest: str | None, limit: int, as_json: bool) -> None:
    """The policy versions that went into service (cold starts, `serve`, `deploy`), newest first."""
    from chalicelib.policy.errors import VersionNotFound
    from chalicelib.policy.history import HistoryError, PolicyHistory

    with _runtime(ctx) as rt:
        history = PolicyHistory(rt.dynamodb, rt.settings.table("policies"))
        try:
            rows = [history.show(digest)] if digest else history.recent(limit)
        except HistoryError as exc:
            raise CarewireCliError(str(exc)) from exc
        except VersionNotFound as exc:
            raise NotFoundError(str(exc)) from exc
    if as_json:
        _echo_json(rows)
        return
    if digest:
        click.echo(rows[0]["diff"] or "(first recorded version: nothing to compare with)", nl=False)
        if rows[0]["diff_truncated"]:
            click.echo("\n[diff truncated: it was longer than a version record holds]")
        return
    for row in rows:
        lines = "first version" if row["first"] else f"+{row['added']} -{row['removed']}"
        files = ", ".join(c["path"] for c in row["changes"][:4]) + (" …" if row["files_changed"] > 4 else "")
        click.echo(f"{row['recorded_at']}  {row['digest'][:12]}  {row['recorded_by']}  {lines}  {files}")


@policies.command("diff")
@click.option("--base", required=True, help="git revision of the policy to compare against")
@replay_options
@click.option("--json", "as_json", is_flag=True, help="one JSON document: every change, before and after")
@click.option("--exit-code", "exit_code", is_flag=True, help="exit 1 when any decision or reply text changes (CI)")
@click.pass_context
def policies_diff(ctx: click.Context, base: str, posts_file: Any, limit: int, as_json: bool, exit_code: bool) -> None:
    """Replay posts under the policy at BASE and the working policy; print the decisions that change —
    what fires, and the text the customer would read (per language and platform)."""
    from chalicelib.policy.offline import decide as decide_one

    policy, classifier, channels = _policy_parts(ctx)
    if posts_file is not None:
        posts = [(doc, None) for doc in _read_posts(posts_file)]
    else:
        with _runtime(ctx) as runtime:
            stored = runtime.store.decisions(limit, channels=list(runtime.channels))
        posts = [(_post_doc(d), d["classification"]) for d in stored if d.get("post")]
    with _policy_at(ctx, base) as base_dir:
        base_policy, _, _ = _policy_parts(ctx, base_dir)
        changes = []
        for doc, classification in posts:
            before = decide_one(base_policy, classifier, channels, doc, classification_overrides=classification)
            after = decide_one(policy, classifier, channels, doc, classification_overrides=classification)
            change = _change(doc, before, after)
            if change is not None:
                changes.append(change)
    changed = [c for c in changes if c["kind"] != "guarded"]
    guarded = len(changes) - len(changed)
    if as_json:
        _echo_json({"base": base, "posts": len(posts), "changed": len(changed), "guarded": guarded, "changes": changes})
    else:
        for change in changes:
            _print_change(change)
        click.echo(
            f"{len(changed)} of {len(posts)} decisions change between {base} and the working policy"
            + (f"; guardrails stop the change for {guarded} more" if guarded else "")
        )
    if exit_code and changed:
        sys.exit(1)


@contextmanager
def _policy_at(ctx: click.Context, revision: str) -> Iterator[Path]:
    """The policy directory as it was at git `revision`, extracted to a temporary directory."""
    import subprocess
    import tarfile
    import tempfile

    relative = _settings(ctx).policies_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], check=False, cwd=relative, capture_output=True, text=True
        )
        if top.returncode != 0:
            raise CarewireCliError(f"{relative} is not in a git repository")
        inside = relative.relative_to(Path(top.stdout.strip()))
        archive = Path(tmp) / "base.tar"
        done = subprocess.run(
            ["git", "archive", "--output", str(archive), revision, str(inside)],
            check=False,
            cwd=top.stdout.strip(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise CarewireCliError(f"cannot read {inside} at {revision}: {done.stderr.strip()}")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / inside


def _said(decision: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("language", "platform", "private", "text")} for r in decision.get("replies", [])]


def _change(doc: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """How one post's decision changes (None: not at all): `decision` (what fires), `text` (only what the
    customer reads), or `guarded` (the same, because a guardrail held)."""
    summary = [(a["type"], a.get("template") or a.get("queue") or "") for a in after["actions"]]
    was = [(a["type"], a.get("template") or a.get("queue") or "") for a in before["actions"]]
    new_reasons = [r for r in after["reasons"] if r not in before["reasons"]]
    if (before["rule"], was) != (after["rule"], summary):
        kind = "decision"
    elif _said(before) != _said(after):
        kind = "text"
    elif new_reasons:
        kind = "guarded"
    else:
        return None
    return {
        "id": doc.get("id"),
        "kind": kind,
        "text": str(doc["text"]),
        "before": {"summary": _describe(before), "rule": before["rule"], "replies": _said(before)},
        "after": {"summary": _describe(after), "rule": after["rule"], "replies": _said(after)},
        "reasons": after["reasons"] if kind == "decision" else new_reasons,
    }


def _print_change(change: dict[str, Any]) -> None:
    text = change["text"]
    before, after = change["before"], change["after"]
    if change["kind"] == "guarded":
        click.echo(f"{change['id']}: unchanged, {after['summary']} — a guardrail holds:")
    else:
        click.echo(f"{change['id']}: {before['summary']}  →  {after['summary']}")
    click.echo(f"    text: {text[:100]}{'…' if len(text) > 100 else ''}")
    if change["kind"] != "guarded":
        for label, side in (("said", before), ("says", after)):
            for reply in side["replies"]:
                where = f"{reply['language']}/{reply['platform']}{', private' if reply['private'] else ''}"
                click.echo(f"    {label} ({where}): {reply['text']}")
    for reason in change["reasons"]:
        click.echo(f"    {'guardrail' if change['kind'] == 'guarded' else 'why'}: {reason}")


def _post_doc(decision: dict[str, Any]) -> dict[str, Any]:
    post = decision["post"]
    return {
        "id": decision["post_key"],
        "text": post["text"],
        "channel": post["channel"],
        "platform": post["platform"],
        "is_dm": post.get("is_dm", False),
        "addressed_to_brand": post.get("addressed_to_brand"),
        "author": post.get("author") or {},
        "conversation_id": post.get("conversation_id"),
    }


def _describe(decision: dict[str, Any]) -> str:
    acts = ", ".join(
        f"{a['type']}({a.get('template') or a.get('queue') or a.get('reason') or ''})" for a in decision["actions"]
    )
    return f"{decision['rule'] or '(no rule)'}: {acts or 'ignore'}"

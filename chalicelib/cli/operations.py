"""Operations: channels, policies, classify, package."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, _echo_json, _runtime, _settings, cli


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
    """Validate every policy file; exit 2 naming the file, rule and field of each error."""
    from chalicelib.channels.config import ChannelConfigError, load_channels
    from chalicelib.incidents.storms import StormConfig, StormConfigError
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.loader import load_policy
    from chalicelib.privacy import Retention, RetentionError

    directory = _settings(ctx).policies_dir
    problems = []
    try:
        policy = load_policy(directory)
    except PolicyErrors as exc:
        problems += [str(e) for e in exc.errors]
    try:
        load_channels(directory / "channels.yaml")
    except ChannelConfigError as exc:
        problems.append(str(exc))
    try:
        Retention.load(directory)
    except RetentionError as exc:
        problems += str(exc).splitlines()
    try:
        storms = StormConfig.load(directory)
        if "policy" in locals() and storms.queue not in policy.queues:
            problems.append(
                f"{directory / 'storms.yaml'}: queue: unknown queue {storms.queue!r}; valid: {sorted(policy.queues)}"
            )
    except StormConfigError as exc:
        problems += str(exc).splitlines()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(2)
    click.echo(
        f"{directory}: {len(policy.rules)} rules, {len(policy.queues)} queues, "
        f"templates in {sorted(policy.templates)}: OK"
    )


@policies.command("schema")
def policies_schema() -> None:
    """Print the JSON Schema of rule files (for editors)."""
    from chalicelib.policy.schema import rule_file_schema

    _echo_json(rule_file_schema())


@cli.command()
@click.argument("text", required=False)
@click.option("--channel", "channel_id", default=None, help="judge for this channel's brand (default: every channel's)")
@click.option("--lexicon-only", is_flag=True, help="the lexicon alone, without the learned model")
@click.pass_context
def classify(ctx: click.Context, text: str | None, channel_id: str | None, lexicon_only: bool) -> None:
    """Classify TEXT, or JSONL {"id", "text"} lines on stdin; one JSON line out per post."""
    from chalicelib.classify import Classifier, LexiconError
    from chalicelib.classify.learned import ModelError

    try:
        classifier = Classifier.from_policies(_settings(ctx).policies_dir, learned=not lexicon_only)
    except (LexiconError, ModelError) as exc:
        raise CarewireCliError(str(exc)) from exc
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


def _policy_parts(ctx: click.Context, directory: Path | None = None) -> tuple[Any, Any, Any]:
    from chalicelib.channels.config import load_channels
    from chalicelib.classify import Classifier
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.loader import load_policy

    settings = _settings(ctx)
    directory = directory or settings.policies_dir
    try:
        policy = load_policy(directory)
    except PolicyErrors as exc:
        raise CarewireCliError(f"{directory}: the policy does not load:\n{exc}") from exc
    classifier = Classifier.from_policies(settings.policies_dir)
    return policy, classifier, load_channels(settings.policies_dir / "channels.yaml")


def _read_posts(source: Any) -> list[dict[str, Any]]:
    posts = []
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CarewireCliError(f"line {number}: not JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
            raise CarewireCliError(f"line {number}: expected an object with a text")
        posts.append(doc)
    return posts


@cli.command()
@click.option(
    "--posts", "posts_file", type=click.File("r", encoding="utf-8"), default="-", help="JSONL posts (default: stdin)"
)
@click.pass_context
def decide(ctx: click.Context, posts_file: Any) -> None:
    """Decide JSONL posts offline — {"id","text"} plus optional platform, channel, author, is_dm,
    in_reply_to — one JSON line out per post (action, rule, reasons, classification). No side effects."""
    from chalicelib.policy.offline import PostError
    from chalicelib.policy.offline import decide as decide_one

    policy, classifier, channels = _policy_parts(ctx)
    for number, doc in enumerate(_read_posts(posts_file), start=1):
        try:
            click.echo(json.dumps(decide_one(policy, classifier, channels, doc), ensure_ascii=False))
        except PostError as exc:
            raise CarewireCliError(f"post {number}: {exc}") from exc


@policies.command("test")
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="default: <policies>/tests",
)
@click.pass_context
def policies_test(ctx: click.Context, cases_dir: Path | None) -> None:
    """Run the policy test cases; exit 1 when any fails."""
    from chalicelib.policy.errors import PolicyErrors
    from chalicelib.policy.testing import run_cases

    policy, classifier, channels = _policy_parts(ctx)
    try:
        results = run_cases(policy, classifier, channels, cases_dir or _settings(ctx).policies_dir / "tests")
    except PolicyErrors as exc:
        raise CarewireCliError(str(exc)) from exc
    failed = [r for r in results if not r.passed]
    for result in failed:
        click.echo(f"FAIL {Path(result.file).name}: {result.name}", err=True)
        for failure in result.failures:
            click.echo(f"     {failure}", err=True)
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


@policies.command("diff")
@click.option("--base", required=True, help="git revision of the policy to compare against")
@click.option(
    "--posts",
    "posts_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="JSONL posts (default: the stored decisions)",
)
@click.option("--limit", type=int, default=1000, show_default=True, help="stored decisions to replay")
@click.pass_context
def policies_diff(ctx: click.Context, base: str, posts_file: Any, limit: int) -> None:
    """Replay posts under the policy at BASE and the working policy; print the decisions that change."""
    import subprocess
    import tarfile
    import tempfile

    from chalicelib.policy.offline import decide as decide_one

    settings = _settings(ctx)
    policy, classifier, channels = _policy_parts(ctx)
    if posts_file is not None:
        posts = [(doc, None) for doc in _read_posts(posts_file)]
    else:
        with _runtime(ctx) as runtime:
            stored = runtime.store.decisions(limit, channels=list(runtime.channels))
        posts = [(_post_doc(d), d["classification"]) for d in stored if d.get("post")]
    relative = settings.policies_dir.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], check=False, cwd=relative, capture_output=True, text=True
        )
        if top.returncode != 0:
            raise CarewireCliError(f"{relative} is not in a git repository")
        inside = relative.relative_to(Path(top.stdout.strip()))
        archive = Path(tmp) / "base.tar"
        done = subprocess.run(
            ["git", "archive", "--output", str(archive), base, str(inside)],
            check=False,
            cwd=top.stdout.strip(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise CarewireCliError(f"cannot read {inside} at {base}: {done.stderr.strip()}")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        base_policy, _, _ = _policy_parts(ctx, Path(tmp) / inside)
        changed = guarded = 0
        for doc, classification in posts:
            before = decide_one(base_policy, classifier, channels, doc, classification_overrides=classification)
            after = decide_one(policy, classifier, channels, doc, classification_overrides=classification)
            summary = [(a["type"], a.get("template") or a.get("queue") or "") for a in after["actions"]]
            was = [(a["type"], a.get("template") or a.get("queue") or "") for a in before["actions"]]
            new_reasons = [r for r in after["reasons"] if r not in before["reasons"]]
            text = str(doc["text"])
            if (before["rule"], was) == (after["rule"], summary):
                if new_reasons:  # same outcome, but only because a guardrail stopped the change
                    guarded += 1
                    click.echo(f"{doc.get('id')}: unchanged, {_describe(after)} — a guardrail holds:")
                    click.echo(f"    text: {text[:100]}{'…' if len(text) > 100 else ''}")
                    for reason in new_reasons:
                        click.echo(f"    guardrail: {reason}")
                continue
            changed += 1
            click.echo(f"{doc.get('id')}: {_describe(before)}  →  {_describe(after)}")
            click.echo(f"    text: {text[:100]}{'…' if len(text) > 100 else ''}")
            for reason in after["reasons"]:
                click.echo(f"    why: {reason}")
    click.echo(
        f"{changed} of {len(posts)} decisions change between {base} and the working policy"
        + (f"; guardrails stop the change for {guarded} more" if guarded else "")
    )


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

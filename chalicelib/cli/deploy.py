"""Run it in AWS: `stages check`, `deploy`, `status`, `logs`, `rollback`, `destroy` — all reading the stage file
(stages/<name>.yaml) and the outputs the last deploy recorded (.carewire/stages/<name>.json)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from chalicelib.cli import CarewireCliError, InfrastructureError, NotFoundError, _settings, _use_stage_outputs, cli
from chalicelib.cli.secrets import channels_for, missing_secrets, stage_for
from chalicelib.cli.stages import StageError, load_stage, stages_dir, write_outputs


@cli.group()
def stages() -> None:
    """Stage settings (stages/<name>.yaml)."""


@stages.command("check")
def stages_check() -> None:
    """Validate every stage file; exit 2 naming the file and field of each error."""
    directory = stages_dir()
    problems, names = [], []
    for path in sorted(directory.glob("*.yaml")):
        try:
            names.append(load_stage(path.stem, directory).name)
        except StageError as exc:
            problems.append(str(exc))
    if problems:
        raise CarewireCliError("\n".join(problems))
    click.echo(f"{directory}: {', '.join(names) or 'no stages'}: OK")


def _say(line: str) -> None:
    click.echo(line, err=True)


@cli.command()
@click.option("--stage", "stage_name", help="the stage to deploy (default: the global --stage)")
@click.option("--yes", is_flag=True, help="execute the change set without asking")
@click.option(
    "--from",
    "prebuilt",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="deploy this `carewire package` output (its cfn/ folder) instead of packaging now",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build/package"), show_default=True
)
@click.pass_context
def deploy(ctx: click.Context, stage_name: str | None, yes: bool, prebuilt: Path | None, out: Path) -> None:
    """Package, upload, and deploy the stage through a CloudFormation change set; record its outputs."""
    from chalicelib.cli.cloud import Cloud, DeployFailed, NoChanges, StackBlocked

    if stage_name:
        ctx.obj["settings"] = _with_stage(ctx, stage_name)
    stage = stage_for(ctx)
    channels = channels_for(ctx)
    cloud = Cloud(stage)
    missing = missing_secrets(cloud.client("ssm"), stage, channels)
    if missing:
        fixes = "; ".join(f"carewire --stage {stage.name} secrets set {c} {n}" for c, n in missing)
        raise NotFoundError(f"stage {stage.name} is missing {len(missing)} channel secret(s); run: {fixes}")
    template_url = _upload(cloud, _package_folder(prebuilt, out))
    try:
        change_set, changes = cloud.create_change_set(template_url, stage.parameters())
    except StackBlocked as exc:
        raise NotFoundError(str(exc)) from exc
    except NoChanges:
        click.echo(f"stack {stage.stack} is up to date: nothing to deploy")
        _record(ctx, cloud, channels)
        return
    except DeployFailed as exc:
        raise InfrastructureError(str(exc)) from exc
    click.echo(f"change set {change_set} for {stage.stack}: {len(changes)} change(s)")
    for change in changes:
        click.echo(change.line())
    if not yes and not click.confirm("execute this change set?", default=False):
        cloud.discard_change_set(change_set)
        click.echo("not deployed; the change set was deleted")
        return
    try:
        cloud.execute(change_set, _say)
    except DeployFailed as exc:
        raise InfrastructureError(str(exc)) from exc
    _record(ctx, cloud, channels)


def _package_folder(prebuilt: Path | None, out: Path) -> Path:
    """The folder holding sam.yaml and deployment.zip: the one given, or a fresh `carewire package`."""
    if prebuilt is not None:
        return prebuilt / "cfn" if (prebuilt / "cfn").is_dir() else prebuilt
    from chalicelib.packaging import PackagingError, package

    try:
        return package(out, stage="dev", say=_say).parent
    except PackagingError as exc:
        raise InfrastructureError(str(exc)) from exc


def _upload(cloud: Any, folder: Path) -> str:
    """Upload the code and the template that points at it to the artifacts bucket; returns the template's URL."""
    template, code = folder / "sam.yaml", folder / "deployment.zip"
    if not template.exists():
        raise NotFoundError(f"{folder}: no sam.yaml (run carewire package)")
    bucket = cloud.artifacts_bucket(_say)
    prefix = f"carewire/{cloud.stage.name}"
    text = template.read_text(encoding="utf-8")
    if code.exists():
        code_key = cloud.upload(bucket, code, prefix)
        text = text.replace("CodeUri: ./deployment.zip", f"CodeUri: s3://{bucket}/{code_key}")
    resolved = folder / "sam.deploy.yaml"
    resolved.write_text(text, encoding="utf-8")
    template_key = cloud.upload(bucket, resolved, prefix)
    _say(f"uploaded to s3://{bucket}/{prefix}/; creating a change set for stack {cloud.stage.stack}")
    return str(cloud.template_url(bucket, template_key))


def _with_stage(ctx: click.Context, stage_name: str) -> Any:
    import dataclasses

    return dataclasses.replace(_settings(ctx), stage=stage_name)


def _record(ctx: click.Context, cloud: Any, channels: dict[str, Any]) -> None:
    outputs = cloud.outputs(sorted(channels))
    path = write_outputs(_settings(ctx).home, outputs)
    click.echo(f"stage {outputs.stage} deployed: stack {outputs.stack_name}; outputs in {path}")
    if outputs.api_url:
        click.echo(f"  API:       {outputs.api_url}")
    for channel, url in sorted(outputs.webhook_urls.items()):
        click.echo(f"  webhook {channel}: {url}   ← register this URL with the platform")
    _record_policy_version(ctx, cloud)


def _record_policy_version(ctx: click.Context, cloud: Any) -> None:
    """The policies just deployed, in the stage's policy history as recorded by the deploying identity."""
    from chalicelib.policy.history import record_in_service
    from chalicelib.runtime import Runtime

    try:
        who = str(cloud.client("sts").get_caller_identity()["Arn"])
    except Exception:  # noqa: BLE001 - the record says "deploy" without a name rather than fail a deploy
        who = "unknown"
    _use_stage_outputs(ctx)
    recorded = record_in_service(Runtime(_settings(ctx)), f"deploy: {who}")
    if recorded is not None:
        click.echo(f"  policies:  version {recorded.digest[:12]} recorded (carewire policies history)")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Stack state, function versions, queue depths, parked events, open escalations."""
    from chalicelib.cli import _echo_json
    from chalicelib.cli.cloud import Cloud

    settings = _settings(ctx)
    report: dict[str, Any] = {"stage": settings.stage}
    if settings.is_local:
        from chalicelib.cli import _local_stack

        with _local_stack(settings) as runtime:
            report.update(_store_counts(runtime))
    else:
        outputs = _use_stage_outputs(ctx)
        cloud = Cloud(stage_for(ctx))
        stack = cloud.stack()
        report["stack"] = {"name": outputs.stack_name, "status": stack["StackStatus"] if stack else "MISSING"}
        sqs = cloud.client("sqs")
        report["queues"] = {}
        for name, url in outputs.queues.items():
            attrs = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            report["queues"][name] = {
                "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            }
        report["functions"] = _versions(cloud, outputs.functions)
        from chalicelib.runtime import Runtime

        report.update(_store_counts(Runtime(_settings(ctx))))
    if as_json:
        _echo_json(report)
        return
    for key, value in report.items():
        click.echo(f"{key:<20} {value}")


def _store_counts(runtime: Any) -> dict[str, Any]:
    queues = runtime.escalations.stats(runtime.clock())["queues"]
    return {
        "parked": len(runtime.store.parked()),
        "open_escalations": {name: q["open"] + q["claimed"] for name, q in queues.items()},
    }


def _versions(cloud: Any, functions: dict[str, str]) -> dict[str, str]:
    lam = cloud.client("lambda")
    found = {}
    for name, physical in functions.items():
        try:
            alias = lam.get_alias(FunctionName=physical, Name="live")
            found[name] = f"live → v{alias['FunctionVersion']}"
        except lam.exceptions.ResourceNotFoundException:
            found[name] = "no live alias"
    return found


@cli.command()
@click.argument("function", required=False)
@click.option("--since", default="10m", show_default=True, help="how far back: 30s, 10m, 2h, 1d")
@click.option("--follow", is_flag=True, help="keep printing new events (Ctrl-C stops)")
@click.option("--filter", "pattern", help="a CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'")
@click.pass_context
def logs(ctx: click.Context, function: str | None, since: str, follow: bool, pattern: str | None) -> None:
    """Print a deployed stage's function logs (every function when FUNCTION is not given)."""
    from chalicelib.cli.cloud import Cloud

    if _settings(ctx).is_local:
        raise CarewireCliError("the local stage logs to the terminal running `carewire serve`; use --stage")
    outputs = _use_stage_outputs(ctx)
    groups = {k.removesuffix("LogGroup"): v for k, v in outputs.outputs.items() if k.endswith("LogGroup")}
    from chalicelib.cli.cloud import _snake

    groups = {_snake(k): v for k, v in groups.items()}
    if function is not None:
        if function not in groups:
            raise NotFoundError(f"unknown function {function!r}; known: {', '.join(sorted(groups))}")
        groups = {function: groups[function]}
    start = datetime.now(UTC) - parse_since(since)
    client = Cloud(stage_for(ctx)).client("logs")
    seen: set[tuple[str, str]] = set()
    while True:
        for name, group in sorted(groups.items()):
            request: dict[str, Any] = {"logGroupName": group, "startTime": int(start.timestamp() * 1000)}
            if pattern:
                request["filterPattern"] = pattern
            for page in client.get_paginator("filter_log_events").paginate(**request):
                for event in page.get("events", []):
                    if (group, event["eventId"]) in seen:
                        continue
                    seen.add((group, event["eventId"]))
                    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
                    click.echo(f"{stamp} {name:<14} {event['message'].rstrip()}")
        if not follow:
            return
        start = datetime.now(UTC) - timedelta(seconds=30)
        time.sleep(2)


def parse_since(text: str) -> timedelta:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise CarewireCliError(f"--since {text!r}: a number and one of s, m, h, d (e.g. 10m)")
    return timedelta(**{units[unit]: int(number)})


@cli.command()
@click.argument("function", required=False)
@click.option("--yes", is_flag=True)
@click.pass_context
def rollback(ctx: click.Context, function: str | None, yes: bool) -> None:
    """Point each function's `live` alias (or FUNCTION's) back to the version before the current one."""
    from chalicelib.cli.cloud import Cloud

    if _settings(ctx).is_local:
        raise CarewireCliError("rollback needs a deployed stage; use --stage")
    outputs = _use_stage_outputs(ctx)
    functions = outputs.functions
    if function is not None:
        if function not in functions:
            raise NotFoundError(f"unknown function {function!r}; known: {', '.join(sorted(functions))}")
        functions = {function: functions[function]}
    lam = Cloud(stage_for(ctx)).client("lambda")
    plan = []
    for name, physical in sorted(functions.items()):
        try:
            current = lam.get_alias(FunctionName=physical, Name="live")["FunctionVersion"]
        except lam.exceptions.ResourceNotFoundException:
            click.echo(f"{name}: no live alias; skipped", err=True)
            continue
        versions = sorted(
            int(v["Version"])
            for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=physical)
            for v in page["Versions"]
            if v["Version"].isdigit()
        )
        older = [v for v in versions if v < int(current)]
        if not older:
            click.echo(f"{name}: live is v{current}, the oldest version; nothing to roll back to", err=True)
            continue
        plan.append((name, physical, current, str(older[-1])))
    if not plan:
        raise NotFoundError("nothing to roll back")
    for name, _physical, current, previous in plan:
        click.echo(f"  {name:<16} live v{current} → v{previous}")
    if not yes and not click.confirm("move these aliases?", default=False):
        return
    for name, physical, _current, previous in plan:
        lam.update_alias(FunctionName=physical, Name="live", FunctionVersion=previous)
        click.echo(f"{name}: live → v{previous}")
    click.echo("the next `carewire deploy` publishes the template's code again")


@cli.command()
@click.option("--stage", "stage_name", required=True, help="the stage to tear down (asked again unless --yes)")
@click.option("--yes", is_flag=True)
@click.pass_context
def destroy(ctx: click.Context, stage_name: str, yes: bool) -> None:
    """Delete the stage's stack. Retained tables and the dead-letter queue stay with their data (it says how to
    delete them), and so do the stage's secrets."""
    from chalicelib.cli.cloud import Cloud, DeployFailed
    from chalicelib.cli.stages import outputs_path

    ctx.obj["settings"] = _with_stage(ctx, stage_name)
    stage = stage_for(ctx)
    cloud = Cloud(stage)
    if cloud.stack() is None:
        raise NotFoundError(f"stack {stage.stack} does not exist in {stage.region}")
    kept = _retained(cloud)
    click.echo(f"deleting stack {stage.stack} in {stage.region}; these are RETAINED with their data:")
    for logical, kind, physical in kept:
        click.echo(f"  {logical:<26} {kind:<22} {physical}")
    if not yes and click.prompt(f"type the stage name ({stage.name}) to delete", default="") != stage.name:
        raise CarewireCliError("not deleted")
    try:
        cloud.delete(_say)
    except DeployFailed as exc:
        raise InfrastructureError(str(exc)) from exc
    outputs_path(_settings(ctx).home, stage.name).unlink(missing_ok=True)
    click.echo(f"stack {stage.stack} deleted. Secrets stay under {stage.secrets_path} in SSM.")
    for _logical, kind, physical in kept:
        if kind == "AWS::DynamoDB::Table":
            click.echo(f"  to delete: aws dynamodb delete-table --region {stage.region} --table-name {physical}")
        elif kind == "AWS::SQS::Queue":
            click.echo(f"  to delete: aws sqs delete-queue --region {stage.region} --queue-url {physical}")


def _retained(cloud: Any) -> list[tuple[str, str, str]]:
    """Resources whose template DeletionPolicy is Retain: what a delete leaves behind."""
    import yaml

    from chalicelib.store.tables import _CfnLoader

    cfn = cloud.client("cloudformation")
    body = cfn.get_template(StackName=cloud.stage.stack, TemplateStage="Original")["TemplateBody"]
    doc = body if isinstance(body, dict) else yaml.load(body, Loader=_CfnLoader)
    retained = {k for k, v in doc.get("Resources", {}).items() if v.get("DeletionPolicy") == "Retain"}
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=cloud.stage.stack)
    return [
        (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["LogicalResourceId"] in retained
    ]

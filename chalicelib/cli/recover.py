"""Recover what failed: `parked` (events that could never be processed, with their reason; locally and in AWS)
and `dlq` (intake messages SQS gave up on after five receives; a deployed stage only)."""

from __future__ import annotations

import json
from typing import Any

import click

from chalicelib.cli import CarewireCliError, NotFoundError, _echo_json, _runtime, _settings, _use_stage_outputs, cli

# ---- parked ------------------------------------------------------------------------------------------------


@cli.group()
def parked() -> None:
    """Parked events: list, show, replay (after fixing the cause), discard."""


def _parked_item(runtime: Any, park_id: str) -> dict[str, Any]:
    from chalicelib.store.dynamo import from_item

    got = runtime.dynamodb.get_item(
        TableName=runtime.settings.table("parked"), Key={"park_id": {"S": park_id}}, ConsistentRead=True
    )
    if "Item" not in got:
        raise NotFoundError(f"no parked event {park_id!r} (carewire parked list)")
    return from_item(got["Item"])


def _unpark(runtime: Any, park_id: str) -> bool:
    """Delete the parked item; False when someone else already did (replayed or discarded twice)."""
    try:
        runtime.dynamodb.delete_item(
            TableName=runtime.settings.table("parked"),
            Key={"park_id": {"S": park_id}},
            ConditionExpression="attribute_exists(park_id)",
        )
    except runtime.dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


@parked.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.pass_context
def parked_list(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Oldest first: id, when, and why."""
    with _runtime(ctx) as runtime:
        rows = runtime.store.parked()[:limit]
    if as_json:
        _echo_json([{k: v for k, v in row.items() if k != "message"} for row in rows])
        return
    for row in rows:
        click.echo(f"{row['park_id']}  {row['parked_at']}  {str(row['reason'])[:120]}")
    click.echo(f"{len(rows)} parked event(s)", err=True)


@parked.command("show")
@click.argument("park_id")
@click.pass_context
def parked_show(ctx: click.Context, park_id: str) -> None:
    """The parked event as it was received, with its reason."""
    with _runtime(ctx) as runtime:
        item = _parked_item(runtime, park_id)
    message = item.get("message")
    item["message"] = json.loads(message) if isinstance(message, str) else message
    _echo_json(item)


@parked.command("replay")
@click.argument("park_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="every parked event")
@click.pass_context
def parked_replay(ctx: click.Context, park_ids: tuple[str, ...], replay_all: bool) -> None:
    """Send parked events through again: to the intake queue in AWS, through the processor locally. Each
    leaves the parked table once it is re-sent; one that still cannot be processed is parked again, with its reason."""
    if not park_ids and not replay_all:
        raise CarewireCliError("name PARK_ID(s) or pass --all")
    with _runtime(ctx) as runtime:
        items = runtime.store.parked() if replay_all else [_parked_item(runtime, p) for p in park_ids]
        sqs = None
        if runtime.settings.intake_queue_url:
            import boto3

            sqs = boto3.client("sqs")
        for item in items:
            message = json.loads(item["message"]) if isinstance(item["message"], str) else item["message"]
            if not _unpark(runtime, item["park_id"]):
                click.echo(f"{item['park_id']}: already replayed or discarded; skipped", err=True)
                continue
            if sqs is not None:
                sqs.send_message(QueueUrl=runtime.settings.intake_queue_url, MessageBody=json.dumps(message))
                click.echo(f"{item['park_id']}: re-enqueued")
            else:
                outcome = runtime.processor.process_message(message)
                click.echo(f"{item['park_id']}: {outcome.status} — {outcome.reason}")


@parked.command("discard")
@click.argument("park_ids", nargs=-1, required=True)
@click.option("--yes", is_flag=True)
@click.pass_context
def parked_discard(ctx: click.Context, park_ids: tuple[str, ...], yes: bool) -> None:
    """Delete parked events for good."""
    if not yes:
        click.confirm(f"discard {len(park_ids)} parked event(s) for good?", abort=True)
    with _runtime(ctx) as runtime:
        for park_id in park_ids:
            _parked_item(runtime, park_id)
            click.echo(f"{park_id}: {'discarded' if _unpark(runtime, park_id) else 'already gone'}")


# ---- dlq ---------------------------------------------------------------------------------------------------


@cli.group()
def dlq() -> None:
    """The intake dead-letter queue of a deployed stage: list, replay (redrive to intake), purge."""


def _queues(ctx: click.Context) -> tuple[Any, str, str]:
    from chalicelib.cli.cloud import Cloud
    from chalicelib.cli.secrets import stage_for

    if _settings(ctx).is_local:
        raise CarewireCliError(
            "the local stage has no dead-letter queue: what fails locally is parked (carewire parked list)"
        )
    outputs = _use_stage_outputs(ctx)
    if not outputs.queues.get("dead_letters") or not outputs.queues.get("intake"):
        raise NotFoundError(f"stage {outputs.stage}'s outputs name no intake queues; deploy it again")
    return Cloud(stage_for(ctx)).client("sqs"), outputs.queues["dead_letters"], outputs.queues["intake"]


def _receive(sqs: Any, url: str, visibility: int) -> list[dict[str, Any]]:
    got = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=visibility,
        WaitTimeSeconds=1,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
    )
    return list(got.get("Messages", []))


@dlq.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_context
def dlq_list(ctx: click.Context, limit: int) -> None:
    """Peek at dead letters; they stay in the queue."""
    sqs, dead, _intake = _queues(ctx)
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < limit:
        batch = [m for m in _receive(sqs, dead, 30) if m["MessageId"] not in seen]
        if not batch:
            break
        for message in batch:
            seen[message["MessageId"]] = message
    released = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(seen.values())
    ]
    for start in range(0, len(released), 10):  # visible again at once: listing must not delay a replay
        sqs.change_message_visibility_batch(QueueUrl=dead, Entries=released[start : start + 10])
    for message in list(seen.values())[:limit]:
        attrs = message.get("Attributes", {})
        click.echo(
            f"{message['MessageId']}  received {attrs.get('ApproximateReceiveCount', '?')}×  {message['Body'][:100]}"
        )
    click.echo(f"{len(seen)} dead letter(s) listed", err=True)


@dlq.command("replay")
@click.option("--max", "most", type=click.IntRange(1, 100000), default=1000, show_default=True)
@click.pass_context
def dlq_replay(ctx: click.Context, most: int) -> None:
    """Move dead letters back to the intake queue (after fixing what made them fail); each leaves the DLQ
    only once the intake queue has it."""
    sqs, dead, intake = _queues(ctx)
    moved = 0
    while moved < most:
        batch = _receive(sqs, dead, 60)[: most - moved]
        if not batch:
            break
        entries = [{"Id": str(i), "MessageBody": m["Body"], **_attributes(m)} for i, m in enumerate(batch)]
        sent = sqs.send_message_batch(QueueUrl=intake, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch) if str(i) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=dead, Entries=done)
        moved += len(done)
        for failure in sent.get("Failed", []):
            click.echo(f"not moved: {failure.get('Message', failure)}", err=True)
    click.echo(f"{moved} dead letter(s) moved back to the intake queue")


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    attrs = message.get("MessageAttributes")
    return {"MessageAttributes": attrs} if attrs else {}


@dlq.command("purge")
@click.option("--yes", is_flag=True)
@click.pass_context
def dlq_purge(ctx: click.Context, yes: bool) -> None:
    """Delete every dead letter for good."""
    sqs, dead, _intake = _queues(ctx)
    if not yes:
        click.confirm("delete every dead letter for good?", abort=True)
    sqs.purge_queue(QueueUrl=dead)
    click.echo("dead-letter queue purged")

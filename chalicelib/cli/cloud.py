"""The AWS control plane for `carewire deploy` and friends: the artifacts bucket, CloudFormation change sets and
what a stack's outputs say. Clients come from one `Cloud`, so tests point it at a stand-in (moto's server)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.cli.stages import StageOutputs, StageSettings

TERMINAL_OK = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
TERMINAL_FAILED = (
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_FAILED",
    "DELETE_FAILED",
)


class DeployFailed(RuntimeError):
    """The stack did not reach a good state; the message names the failing resource and CloudFormation's reason."""


class StackBlocked(RuntimeError):
    """The stack is in a state that forbids a change set (a conflict, not a failure)."""


class NoChanges(Exception):
    """The change set is empty: the stack already matches."""


@dataclass(frozen=True)
class Change:
    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""

    def line(self) -> str:
        replace = " (REPLACES the resource)" if self.replacement == "True" else ""
        return f"  {self.action:<7} {self.logical_id:<34} {self.resource_type}{replace}"


class Cloud:
    """boto3 clients for one stage's account and region, built lazily and once."""

    def __init__(self, stage: StageSettings, session: Any = None) -> None:
        self.stage = stage
        self._session = session
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                import boto3

                self._session = boto3.Session(profile_name=self.stage.profile, region_name=self.stage.region)
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    # ---- artifacts ---------------------------------------------------------------------------------------

    def artifacts_bucket(self, say: Callable[[str], None]) -> str:
        """The account's artifacts bucket for this region, created private and encrypted on first use."""
        s3 = self.client("s3")
        account = self.client("sts").get_caller_identity()["Account"]
        name = f"carewire-artifacts-{account}-{self.stage.region}"
        try:
            s3.head_bucket(Bucket=name)
            return name
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
        say(f"creating the artifacts bucket {name} (private, encrypted)")
        create: dict[str, Any] = {"Bucket": name}
        if self.stage.region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": self.stage.region}
        s3.create_bucket(**create)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
            },
        )
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def upload(self, bucket: str, path: Path, prefix: str) -> str:
        """Upload by content hash (an unchanged file is not sent twice); returns the key."""
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
        key = f"{prefix}/{digest}{path.suffix}"
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError:
            s3.upload_file(str(path), bucket, key)
        return key

    def template_url(self, bucket: str, key: str) -> str:
        return f"https://{bucket}.s3.{self.stage.region}.amazonaws.com/{key}"

    # ---- stacks ------------------------------------------------------------------------------------------

    def stack(self) -> dict[str, Any] | None:
        cfn = self.client("cloudformation")
        try:
            stacks = cfn.describe_stacks(StackName=self.stage.stack)["Stacks"]
        except cfn.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return dict(stacks[0]) if stacks else None

    def create_change_set(self, template_url: str, parameters: dict[str, str]) -> tuple[str, list[Change]]:
        """A change set against the stage's stack (CREATE on first deploy); NoChanges when there is nothing to do."""
        cfn = self.client("cloudformation")
        existing = self.stack()
        if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            raise StackBlocked(
                f"stack {self.stage.stack} never finished its first create (ROLLBACK_COMPLETE) and cannot be "
                f"updated; delete it with: carewire destroy --stage {self.stage.name}, then deploy again"
            )
        if (
            existing is not None
            and existing["StackStatus"].endswith("_IN_PROGRESS")
            and (existing["StackStatus"] != "REVIEW_IN_PROGRESS")
        ):
            raise StackBlocked(f"stack {self.stage.stack} is {existing['StackStatus']}; wait for it to finish")
        kind = "CREATE" if existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS" else "UPDATE"
        name = f"carewire-{datetime.now().strftime('%Y%m%d%H%M%S')}"
        cfn.create_change_set(
            StackName=self.stage.stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            TemplateURL=template_url,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            Tags=[{"Key": "carewire:stage", "Value": self.stage.name}],
        )
        deadline = time.monotonic() + 600
        while True:
            got = cfn.describe_change_set(StackName=self.stage.stack, ChangeSetName=name)
            if got["Status"] == "CREATE_COMPLETE":
                break
            if got["Status"] == "FAILED":
                reason = got.get("StatusReason", "")
                if "didn't contain changes" in reason or "No updates" in reason:
                    cfn.delete_change_set(StackName=self.stage.stack, ChangeSetName=name)
                    raise NoChanges(reason)
                raise DeployFailed(f"change set {name} failed: {reason}")
            if time.monotonic() > deadline:
                raise DeployFailed(f"change set {name} still {got['Status']} after 10 minutes")
            time.sleep(1)
        changes = [
            Change(
                action=c["ResourceChange"]["Action"],
                logical_id=c["ResourceChange"]["LogicalResourceId"],
                resource_type=c["ResourceChange"]["ResourceType"],
                replacement=str(c["ResourceChange"].get("Replacement", "")),
            )
            for c in got.get("Changes", [])
            if c.get("Type") == "Resource"
        ]
        return name, changes

    def discard_change_set(self, name: str) -> None:
        self.client("cloudformation").delete_change_set(StackName=self.stage.stack, ChangeSetName=name)

    def execute(self, change_set: str, say: Callable[[str], None], poll: float = 2.0, timeout: float = 3600) -> None:
        """Run the change set and wait, printing each resource as CloudFormation reports it."""
        cfn = self.client("cloudformation")
        started = datetime.now().astimezone()
        cfn.execute_change_set(StackName=self.stage.stack, ChangeSetName=change_set)
        self.wait(started, say, poll, timeout)

    def wait(self, since: datetime, say: Callable[[str], None], poll: float = 2.0, timeout: float = 3600) -> str:
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while True:
            events = self._events_since(since)
            for event in events:
                if event["EventId"] not in seen:
                    seen.add(event["EventId"])
                    reason = f" — {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
                    say(f"  {event['ResourceStatus']:<22} {event['LogicalResourceId']}{reason}")
            stack = self.stack()
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status in (*TERMINAL_OK, "DELETE_COMPLETE"):
                return status
            if status in TERMINAL_FAILED:
                raise DeployFailed(f"stack {self.stage.stack} is {status}: {first_failure(events)}")
            if time.monotonic() > deadline:
                raise DeployFailed(f"stack {self.stage.stack} still {status} after {timeout:.0f} s")
            time.sleep(poll)

    def _events_since(self, since: datetime) -> list[dict[str, Any]]:
        cfn = self.client("cloudformation")
        try:
            pages = cfn.get_paginator("describe_stack_events").paginate(StackName=self.stage.stack)
            events = [e for page in pages for e in page["StackEvents"] if e["Timestamp"] >= since]
        except cfn.exceptions.ClientError:
            return []
        return sorted(events, key=lambda e: e["Timestamp"])

    def delete(self, say: Callable[[str], None], poll: float = 2.0) -> None:
        started = datetime.now().astimezone()
        self.client("cloudformation").delete_stack(StackName=self.stage.stack)
        self.wait(started, say, poll)

    def outputs(self, webhook_channels: Iterable[str]) -> StageOutputs:
        """The stage's names and URLs, from the stack's outputs (suffix conventions in infra/resources.yaml)."""
        stack = self.stack()
        if stack is None:
            raise DeployFailed(f"stack {self.stage.stack} does not exist")
        raw = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        tables = {k.removesuffix("TableName").lower(): v for k, v in raw.items() if k.endswith("TableName")}
        queues = {
            "intake": raw.get("IntakeQueueUrl", ""),
            "dead_letters": raw.get("IntakeDeadLetterQueueUrl", ""),
        }
        functions = {_snake(k.removesuffix("FunctionName")): v for k, v in raw.items() if k.endswith("FunctionName")}
        api_url = raw.get("EndpointURL", "")
        base = api_url.rstrip("/")
        return StageOutputs(
            stage=self.stage.name,
            stack_name=self.stage.stack,
            region=self.stage.region,
            profile=self.stage.profile,
            api_url=api_url,
            webhook_urls={c: f"{base}/webhooks/{c}" for c in webhook_channels} if base else {},
            tables=tables,
            queues={k: v for k, v in queues.items() if v},
            functions=functions,
            outputs=raw,
        )


def first_failure(events: list[dict[str, Any]]) -> str:
    """The first resource that failed and why: the cause, not the rollbacks it set off."""
    for event in events:
        if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason"):
            reason = event["ResourceStatusReason"]
            if "cancelled" in reason.lower() and any(e is not event for e in events):
                continue
            return f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')}): {reason}"
    return "no resource reported a reason (see the CloudFormation console's Events tab)"


def _snake(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "_"
        out += ch.lower()
    return out

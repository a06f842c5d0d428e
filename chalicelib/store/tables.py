"""Table definitions, read from `infra/resources.yaml` — the one definition AWS, DynamoDB Local and tests share."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from chalicelib.settings import TABLES, Settings

INFRA_FILE = Path(__file__).resolve().parents[2] / "infra" / "resources.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML; short-form intrinsics (!Ref, !GetAtt, !Sub) load as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _intrinsic)  # type: ignore[no-untyped-call]


def logical_id(table: str) -> str:
    return f"{table.capitalize()}Table"


def load_definitions(path: Path = INFRA_FILE) -> dict[str, dict[str, Any]]:
    """Map logical table name (e.g. "decisions") → the CloudFormation `Properties` of its table."""
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    resources = doc.get("Resources", {})
    definitions = {}
    for table in TABLES:
        resource = resources.get(logical_id(table))
        if not resource or resource.get("Type") != "AWS::DynamoDB::Table":
            raise ValueError(f"{path}: no AWS::DynamoDB::Table named {logical_id(table)}")
        definitions[table] = resource["Properties"]
    return definitions


def create_table_request(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation table properties → a `CreateTable` request."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
            for g in properties["GlobalSecondaryIndexes"]
        ]
    if properties.get("StreamSpecification"):
        request["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    return request


class TableDrift(RuntimeError):
    """An existing table no longer matches infra/resources.yaml (keys or indexes changed)."""


def _shape(description: dict[str, Any]) -> tuple[Any, ...]:
    def keys(schema: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((k["AttributeName"], k["KeyType"]) for k in schema)

    indexes = {g["IndexName"]: keys(g["KeySchema"]) for g in description.get("GlobalSecondaryIndexes") or []}
    return keys(description["KeySchema"]), tuple(sorted(indexes.items()))


def create_tables(client: Any, settings: Settings, path: Path = INFRA_FILE) -> list[str]:
    """Create every missing table (and its TTL) from the infra definition; returns the names created.

    An existing table whose keys or indexes differ from the definition raises TableDrift naming what
    differs: queries against a stale local table would fail later, and far less clearly."""
    existing = {name for page in client.get_paginator("list_tables").paginate() for name in page["TableNames"]}
    created = []
    for table, properties in load_definitions(path).items():
        name = settings.table(table)
        if name in existing:
            have = _shape(client.describe_table(TableName=name)["Table"])
            want = _shape(create_table_request(name, properties))
            if have != want:
                raise TableDrift(
                    f"table {name} differs from infra/resources.yaml (has {have}, defined {want}); "
                    f"local data predates a table change: move {settings.home / 'dynamodb'} aside and start again"
                )
            continue
        client.create_table(**create_table_request(name, properties))
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            _wait_active(client, name)
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        created.append(name)
    for name in created:
        _wait_active(client, name)
    return created


def _wait_active(client: Any, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name} not ACTIVE after {timeout} s")
        time.sleep(0.05)

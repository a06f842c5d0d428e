"""Delivery reports: what recording WhatsApp statuses on their outbox items costs in DynamoDB, for the design
chosen (a sparse keys-only GSI `by_platform_id` on OutboxTable) beside the alternative (a small mapping item
`ctl#pid#<platform id>` → reply id, written when an item is sent).

    .venv/bin/python bench/delivery_reports_bench.py [--items 300]

On DynamoDB Local: `--items` WhatsApp DMs are sent (put, claim, sent), then each gets a `delivered` and a
`read` status through `DeliveryReports`; every one must be recorded. Calls are counted on the client.
DynamoDB Local reports no consumed capacity, so units follow DynamoDB's billing rules from the measured
item sizes (a write unit per started KB, a read unit per started 4 KB, half for an eventually consistent
read; a keys-only index entry is its keys plus 100 bytes). Printed as a markdown table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402 - needs the path above

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="CRITICAL", CAREWIRE_STAGE="local")


class Meter:
    """Counts the DynamoDB calls one client makes (DynamoDB Local reports no consumed capacity)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("after-call.dynamodb.*", self._add)

    def _add(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


class Quiet:
    def count(self, name: str, value: float = 1) -> None:
        pass


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings UTF-8, numbers ~their digits)."""

    def size(value: dict[str, Any]) -> int:
        ((kind, raw),) = value.items()
        if kind == "M":
            return 3 + sum(len(k.encode()) + size(v) for k, v in raw.items())
        if kind == "L":
            return 3 + sum(1 + size(v) for v in raw)
        if kind in {"BOOL", "NULL"}:
            return 1
        return len(str(raw).encode())

    return sum(len(name.encode()) + size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, -(-size // 1024))


def read_units(size: int, consistent: bool) -> float:
    return max(1, -(-size // 4096)) * (1.0 if consistent else 0.5)


def run(endpoint: str, n: int) -> list[tuple[str, str, str, str]]:
    import boto3

    from chalicelib.channels.base import DeliveryReport
    from chalicelib.delivery import reports as reports_module
    from chalicelib.delivery.reports import DeliveryReports
    from chalicelib.outbox import OutboxItem, outbox_item
    from chalicelib.settings import TABLES, Settings
    from chalicelib.store.outbox import OutboxStore
    from chalicelib.store.tables import create_tables

    prefix = "b" + uuid.uuid4().hex[:8]
    settings = Settings(stage="local", home=Path("/tmp") / prefix, table_names={t: f"{prefix}-{t}" for t in TABLES})
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    create_tables(client, settings)
    reports_module.COUNTERS = Quiet()  # type: ignore[assignment,attr-defined]  # no metric lines between the table's
    meter = Meter(client)
    outbox = OutboxStore(client, settings.table("outbox"))
    table = settings.table("outbox")
    now = datetime.now(UTC)
    text = "We are sorry about the outage in Quezon City: a technician is on the way, about two hours. " * 2

    claims = []
    for i in range(n):
        doc = outbox_item(
            kind="dm",
            key=(f"whatsapp#wamid.in{i}",),
            channel="whatsapp-care",
            platform="whatsapp",
            created_at=now.isoformat(),
            text=text,
            conversation_id=f"wa{i}",
            recipient_id="15551234567",
            customer_at=now.isoformat(),
        )
        outbox.put(doc)
        claimed = outbox.claim(OutboxItem.from_doc(doc), now, timedelta(seconds=30))
        assert claimed is not None
        claims.append(claimed)
    for i, claimed in enumerate(claims):
        outbox.sent(claimed, f"wamid.out{i}", now)
    time.sleep(0.5)  # let the index catch up, as it does in well under a second in AWS

    reports = DeliveryReports(outbox, clock=lambda: now + timedelta(hours=1))
    before = meter.total()
    for i in range(n):
        for status in ("delivered", "read"):
            recorded = reports(DeliveryReport("whatsapp", "whatsapp-care", f"wamid.out{i}", status, now.isoformat()))
            assert recorded.status == "recorded", recorded
    calls_per_status = (meter.total() - before) / (2 * n)
    sample = client.get_item(TableName=table, Key={"reply_id": {"S": claims[0].reply_id}})["Item"]
    size = item_bytes(sample)
    index_entry = len(b"reply_id") + len(claims[0].reply_id) + len(b"platform_id") + len(b"wamid.out0") + 100
    mapping = {"reply_id": {"S": "ctl#pid#wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="}}
    mapping["to"] = {"S": claims[0].reply_id}
    mapping_size = item_bytes(mapping)
    update = write_units(size)
    mapping_read = f"{read_units(mapping_size, True)} RCU (consistent: it was just written)"
    return [
        ("outbox item (sent, delivered, read)", f"{size} B", "", ""),
        ("GSI: on send", "0 (DynamoDB writes the index)", f"{write_units(index_entry)} index WCU", "0"),
        (
            "GSI: per status",
            f"{calls_per_status:.1f} (Query + UpdateItem)",
            f"{update} WCU",
            f"{read_units(index_entry, False)} RCU (eventually consistent)",
        ),
        ("mapping item: on send", "1 PutItem (or a 2x-cost transaction)", f"{write_units(mapping_size)} WCU", "0"),
        (
            "mapping item: per status",
            "2 (GetItem + UpdateItem)",
            f"{update} WCU",
            mapping_read,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=300)
    args = parser.parse_args()
    from chalicelib.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as server:
        rows = run(server.endpoint, args.items)
    print(f"{args.items} WhatsApp messages (~200 characters) sent, each reported delivered and read; per message\n")
    print("| what | calls | write units | read units |")
    print("|---|---|---|---|")
    for name, calls, write, read in rows:
        print(f"| {name} | {calls} | {write} | {read} |")


if __name__ == "__main__":
    main()

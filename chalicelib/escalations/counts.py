"""Live counts per queue, kept as counters so statistics never scan the queue.

One counter item per queue in EscalationsTable (`escalation_id = counts#<queue>`, outside every index):
`n_<status>_<priority>` for open and claimed items and `sla_<state>` for live items. Every write that
opens, moves or closes an item adds its deltas to the counters in the same transaction, so the counts are
exactly the items (a crash leaves both or neither).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.escalations import keys
from chalicelib.store.dynamo import batch_get

PREFIX = "counts#"


def counter_key(queue: str) -> dict[str, dict[str, str]]:
    return {"escalation_id": {"S": PREFIX + queue}}


def facets(item: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(queue, counter) pairs one item adds to: nothing unless it is live."""
    if not item or item.get("status") not in keys.LIVE:
        return []
    queue = str(item["queue"])
    return [(queue, f"n_{item['status']}_{int(item['priority'])}"), (queue, f"sla_{item.get('sla_state', 'ok')}")]


def deltas(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Counter[str]]:
    """What changes in each queue's counters when `before` becomes `after` (None: absent)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for queue, name in facets(before):
        out[queue][name] -= 1
    for queue, name in facets(after):
        out[queue][name] += 1
    return {q: Counter({k: v for k, v in c.items() if v}) for q, c in out.items() if any(c.values())}


def transact_updates(table: str, changes: Mapping[str, Counter[str]]) -> list[dict[str, Any]]:
    """TransactWriteItems `Update` entries that add `changes` to the counters."""
    entries = []
    for queue, counts in sorted(changes.items()):
        names = {f"#c{i}": name for i, name in enumerate(sorted(counts))}
        values = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(sorted(counts))}
        entries.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": counter_key(queue),
                    "UpdateExpression": "ADD " + ", ".join(f"{n} {v}" for n, v in zip(names, values, strict=True)),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        )
    return entries


def effect_for_new(item: Mapping[str, Any]) -> dict[str, Any]:
    """The counter update of a newly opened item, as an action `Effect`'s fields (table, key, update, values)."""
    [(queue, count), (_q, sla)] = facets(item)
    return {
        "key": {"escalation_id": PREFIX + queue},
        "update": "ADD #n :one, #s :one",
        "names": {"#n": count, "#s": sla},
        "values": {":one": 1},
    }


def read(client: Any, table: str, queues: Iterable[str]) -> dict[str, dict[str, int]]:
    """Each queue's counters (absent counters are 0)."""
    names = list(queues)
    found: dict[str, dict[str, int]] = {q: {} for q in names}
    if not names:
        return found
    for raw in batch_get(client, table, [counter_key(q) for q in names], ConsistentRead=True):
        queue = raw["escalation_id"]["S"][len(PREFIX) :]
        found[queue] = {k: int(v["N"]) for k, v in raw.items() if "N" in v}
    return found

"""The stages import in one direction: no module of chalicelib/ reaches itself through its imports — eager,
lazy (inside a function) or for types only. (Issue 13: `actions` ↔ `notices/items` ↔ `notices/render`,
`escalations/sweep` ↔ `runtime`, storage importing `Effect` from the act stage.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KNOWN = [
    # the CLI group and its command modules register on each other by design (cli/__init__.py)
    {"chalicelib.cli", *(f"chalicelib.cli.{p.stem}" for p in (ROOT / "chalicelib" / "cli").glob("*.py"))},
    # erasure reads the tables through the store, and the store stamps retention on what it writes
    {"chalicelib.privacy", "chalicelib.store.dynamo"},
    # for types only: the sender is built from the runtime, which builds it lazily (to break next, as
    # escalations/sweep was: name what it needs in a Protocol)
    {"chalicelib.delivery.wiring", "chalicelib.runtime"},
    # the platform registry, its modules' base and the channel config name each other (found at merge)
    {"chalicelib.channels.base", "chalicelib.channels.config", "chalicelib.channels.registry"},
    # the lexicon and the operators' gazetteer read each other (found at merge)
    {"chalicelib.classify.brands", "chalicelib.classify.lexicon"},
]


def _graph() -> dict[str, set[str]]:
    modules = {}
    for path in (ROOT / "chalicelib").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib"):
                found.add(node.module)
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_but_the_known_ones() -> None:
    unexpected = [sorted(c) for c in _cycles(_graph()) if not any(c <= known for known in KNOWN)]
    assert unexpected == []


def test_the_check_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]

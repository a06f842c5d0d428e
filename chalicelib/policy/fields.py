"""The `classification` part of the context document: every field a rule may read, with its type.

`carewire policies check` refuses a rule that reads a classification field that does not exist (a typo such as
`classification.needs_humna.p` would otherwise be null and silently never match), and `carewire policies schema`
lists these fields for editors. `Classification.to_doc` and this table are kept equal by a test.
"""

from __future__ import annotations

from typing import Any

_JUDGED = {"value": "boolean", "p": "number 0..1 (calibrated)"}

CLASSIFICATION_FIELDS: dict[str, Any] = {
    "topic": "string: outage | billing | device | account | cancellation | service_complaint | praise | other",
    "topic_p": "number 0..1: calibrated probability of `topic` (1 when only the lexicon judged)",
    "topics": {"*": "number 0..1: each topic's probability (empty without a learned model)"},
    "intent": "string or null: the finer intent within the topic",
    "intent_p": "number 0..1",
    "sentiment": {
        "label": "string: negative | neutral | positive",
        "score": "number -1..1: the lexicon's intensity (with a model, the label and `p` are the model's)",
        "p": {"negative": "number", "neutral": "number", "positive": "number"},
    },
    "churn_risk": "boolean",
    "churn": _JUDGED,
    "needs_human": _JUDGED,
    "addressed_to_brand": "boolean",
    "language": "string: en | tl | es | unknown",
    "urgency": "number 0..1",
    "is_question": "boolean",
    "spam": "boolean",
    "spam_p": "number 0..1",
    "abuse": "boolean",
    "abuse_p": "number 0..1",
    "pii": ["object: type, start, end (never the value)"],
    "regions": ["string"],
    "services": ["string"],
    "evidence": {"*": ["string"]},
    "model": "string: the learned model's version ('' = lexicon only)",
}


def _chain(node: Any) -> list[str] | None:
    """`a.b.c` as ['a', 'b', 'c'] when the node is a plain field path (however JMESPath nested it)."""
    if not isinstance(node, dict):
        return None
    if node.get("type") == "field":
        return [str(node["value"])]
    if node.get("type") == "subexpression":
        out: list[str] = []
        for child in node.get("children", []):
            part = _chain(child)
            if part is None:
                return out or None
            out += part
        return out
    return None


def unknown_classification_fields(node: Any) -> list[str]:
    """Every `classification.<path>` in a parsed expression that names no field (as dotted paths)."""
    found: list[str] = []
    if not isinstance(node, dict):
        return found
    chain = _chain(node) if node.get("type") in ("field", "subexpression") else None
    if chain and chain[0] == "classification":
        spec: Any = CLASSIFICATION_FIELDS
        for depth, name in enumerate(chain[1:], start=1):
            if not isinstance(spec, dict):
                break
            if name in spec:
                spec = spec[name]
            elif "*" in spec:
                spec = spec["*"]
            else:
                found.append(".".join(chain[: depth + 1]))
                break
        return found
    for child in node.get("children", []):
        found += unknown_classification_fields(child)
    return found


def valid_fields(prefix: str = "classification", spec: Any = None) -> list[str]:
    """Dotted paths of every field, for error messages and the schema's description."""
    spec = CLASSIFICATION_FIELDS if spec is None else spec
    out: list[str] = []
    for name, sub in spec.items():
        path = f"{prefix}.{name}" if name != "*" else f"{prefix}.<name>"
        out.append(path)
        if isinstance(sub, dict):
            out += valid_fields(path, sub)
    return out

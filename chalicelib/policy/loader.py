"""Load `policies/` once per cold start and validate it in passes, collecting every located error:
YAML without duplicate keys → JSON Schema → meaning (expressions compile and call known functions,
templates use known variables, queues and templates exist, rule names are unique)."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

import jmespath
import yaml

from chalicelib.actions import ACTIONS, TEMPLATE_VARIABLES
from chalicelib.policy.errors import PolicyError, PolicyErrors
from chalicelib.policy.expressions import FUNCTIONS, compile_expression
from chalicelib.policy.model import Policy, Queue, Rule
from chalicelib.policy.schema import QUEUES_SCHEMA, TEMPLATES_SCHEMA, rule_file_schema


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, errors: list[PolicyError]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        errors.append(PolicyError(str(path), f"invalid YAML: {exc}".replace("\n", " ")))
    except OSError as exc:
        errors.append(PolicyError(str(path), f"cannot read: {exc}"))
    return None


def _schema_errors(path: Path, doc: Any, schema: dict[str, Any]) -> list[PolicyError]:
    from jsonschema import Draft202012Validator  # imported here: only loading policies needs it

    found = []
    for error in sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(map(str, e.path))):
        location = list(error.absolute_path)
        rule = None
        if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
            raw = doc["rules"][location[1]]
            rule = (
                raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else f"#{location[1] + 1}"
            )
            location = location[2:]
        field = ".".join(str(p) for p in location) or None
        found.append(PolicyError(str(path), error.message, rule=rule, field=field))
    return found


def _functions_called(node: Any) -> set[str]:
    if isinstance(node, dict):
        names = {node["value"]} if node.get("type") == "function_expression" else set()
        for child in node.get("children", []):
            names |= _functions_called(child)
        return names
    return set()


def _negated_paths(node: Any) -> bool:
    """True when the tree holds `!a.b`, which JMESPath reads as `(!a).b` — always null, so never true."""
    if not isinstance(node, dict):
        return False
    children = node.get("children", [])
    if node.get("type") == "subexpression" and children and children[0].get("type") == "not_expression":
        return True
    return any(_negated_paths(child) for child in children)


def _check_expression(path: Path, rule: str, expression: str) -> list[PolicyError]:
    try:
        parsed = compile_expression(expression)
    except jmespath.exceptions.JMESPathError as exc:
        return [PolicyError(str(path), f"JMESPath does not compile: {exc}".replace("\n", " "), rule, "when")]
    if _negated_paths(parsed.parsed):
        return [
            PolicyError(str(path), "`!a.b` means `(!a).b` in JMESPath and never matches; write `!(a.b)`", rule, "when")
        ]
    unknown = sorted(_functions_called(parsed.parsed) - set(FUNCTIONS))
    if unknown:
        return [PolicyError(str(path), f"unknown function(s) {unknown}; valid: {FUNCTIONS}", rule, "when")]
    return []


def _load_templates(directory: Path, errors: list[PolicyError]) -> dict[str, dict[str, Template]]:
    templates: dict[str, dict[str, Template]] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = _read_yaml(path, errors)
        if doc is None:
            continue
        schema_errors = _schema_errors(path, doc, TEMPLATES_SCHEMA)
        if schema_errors:
            errors.extend(schema_errors)
            continue
        by_name = templates.setdefault(doc["language"], {})
        for name, text in doc["templates"].items():
            template = Template(text)
            if not template.is_valid():
                errors.append(PolicyError(str(path), "invalid placeholder (use $name or ${name})", field=name))
                continue
            unknown = sorted(set(template.get_identifiers()) - set(TEMPLATE_VARIABLES))
            if unknown:
                errors.append(
                    PolicyError(
                        str(path), f"unknown variable(s) {unknown}; valid: {list(TEMPLATE_VARIABLES)}", field=name
                    )
                )
            by_name[name] = template
    return templates


def load_policy(directory: Path) -> Policy:
    """Load and validate a policy directory; raises PolicyErrors listing every problem found."""
    errors: list[PolicyError] = []
    queues_path = directory / "queues.yaml"
    queues_doc = _read_yaml(queues_path, errors) if queues_path.exists() else None
    if queues_doc is None and not errors:
        errors.append(PolicyError(str(queues_path), "missing: every escalation queue is declared here"))
    queues: dict[str, Queue] = {}
    default_language = "en"
    if queues_doc is not None:
        queue_errors = _schema_errors(queues_path, queues_doc, QUEUES_SCHEMA)
        errors.extend(queue_errors)
        if not queue_errors:
            default_language = queues_doc.get("default_language", "en")
            queues = {
                name: Queue(name, q["sla_minutes"], q.get("description", ""))
                for name, q in queues_doc["queues"].items()
            }
    templates = _load_templates(directory / "templates", errors)

    rules: list[Rule] = []
    rule_files = sorted((directory / "rules").glob("*.yaml"))
    if not rule_files:
        errors.append(PolicyError(str(directory / "rules"), "no rule files (*.yaml)"))
    schema = rule_file_schema()
    position = 0
    for path in rule_files:
        doc = _read_yaml(path, errors)
        if doc is None:
            continue
        schema_errors = _schema_errors(path, doc, schema)
        if schema_errors:
            errors.extend(schema_errors)
            continue
        for raw in doc["rules"]:
            position += 1
            rules.append(
                Rule(
                    name=raw["name"],
                    when=raw["when"],
                    action=dict(raw["action"]),
                    file=str(path),
                    order=int(raw.get("order", position * 10)),
                    description=raw.get("description", ""),
                )
            )
    policy = Policy(
        rules=tuple(sorted(rules, key=lambda r: r.order)),
        templates=templates,
        queues=queues,
        default_language=default_language,
        files=tuple(str(p) for p in rule_files),
    )
    seen: dict[str, str] = {}
    for rule in policy.rules:
        if rule.name in seen:
            errors.append(PolicyError(rule.file, f"rule name is also used in {seen[rule.name]}", rule.name, "name"))
        seen[rule.name] = rule.file
        errors.extend(_check_expression(Path(rule.file), rule.name, rule.when))
        for field, message in ACTIONS[rule.action["type"]].check(rule.action, policy):
            errors.append(PolicyError(rule.file, message, rule.name, field))
    if errors:
        raise PolicyErrors(errors)
    return policy

"""Load `policies/` once per cold start and validate it in passes, collecting every located error:
YAML without duplicate keys → JSON Schema → meaning (expressions compile and call known functions,
templates use known variables, queues and templates exist, rule names are unique)."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from string import Template
from typing import Any

import jmespath
import yaml

from chalicelib.actions import ACTIONS, TEMPLATE_VARIABLES
from chalicelib.policy.errors import PolicyError, PolicyErrors
from chalicelib.policy.expressions import FUNCTIONS, compile_expression, compile_regex, options
from chalicelib.policy.fields import CLASSIFICATION_FIELDS, unknown_classification_fields
from chalicelib.policy.model import Guardrails, Policy, Queue, ReplyTemplate, Rule, Schedule, Scope, own_fragments
from chalicelib.policy.schema import GUARDRAILS_SCHEMA, QUEUES_SCHEMA, TEMPLATES_SCHEMA, rule_file_schema
from chalicelib.publishing import BrandFileError, ContentRules, load_rules
from chalicelib.publishing import problems as content_problems


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc,unused-ignore]
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _read_yaml(path: Path, errors: list[PolicyError]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        errors.append(PolicyError(str(path), f"invalid YAML: {exc}".replace("\n", " ")))
    except OSError as exc:
        errors.append(PolicyError(str(path), f"cannot read: {exc}"))
    return None


VALIDATED_MARK = ".validated"
"""Written by `carewire package` next to policies it validated: the digest of the files it checked."""


def policy_digest(directory: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*/*.yaml")):
        if path.parent.name != "tests":
            digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _already_validated(directory: Path) -> bool:
    mark = directory / VALIDATED_MARK
    return mark.exists() and mark.read_text(encoding="utf-8").strip() == policy_digest(directory)


_SCHEMA_PASS: ContextVar[bool] = ContextVar("schema_pass", default=True)


def _read_valid(path: Path, schema: dict[str, Any], errors: list[PolicyError]) -> Any:
    """The document at `path` when it parses and fits `schema`; None (with the errors recorded) otherwise."""
    doc = _read_yaml(path, errors)
    if doc is None:
        return None
    problems = _schema_errors(path, doc, schema)
    errors.extend(problems)
    return None if problems else doc


def _schema_errors(path: Path, doc: Any, schema: dict[str, Any]) -> list[PolicyError]:
    if not _SCHEMA_PASS.get():
        return []
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


def _regex_problems(node: Any) -> list[str]:
    """Every `regex_match` in the tree takes a literal pattern that compiles (a pattern read from the post
    would let a customer write the regex); what is wrong with each, in words."""
    if not isinstance(node, dict):
        return []
    children = node.get("children", [])
    found = [problem for child in children for problem in _regex_problems(child)]
    if node.get("type") == "function_expression" and node.get("value") == "regex_match" and len(children) == 2:
        pattern = children[1]
        if pattern.get("type") != "literal" or not isinstance(pattern.get("value"), str):
            found.append("regex_match takes its pattern as a literal 'string'")
        else:
            import regex

            try:
                compile_regex(pattern["value"])
            except regex.error as exc:
                found.append(f"regex {pattern['value']!r} does not compile: {exc}")
    return found


def _check_expression(path: Path, rule: str, expression: str, field: str = "when") -> list[PolicyError]:
    try:
        parsed = compile_expression(expression)
    except jmespath.exceptions.JMESPathError as exc:
        return [PolicyError(str(path), f"JMESPath does not compile: {exc}".replace("\n", " "), rule, field)]
    if _negated_paths(parsed.parsed):
        return [
            PolicyError(str(path), "`!a.b` means `(!a).b` in JMESPath and never matches; write `!(a.b)`", rule, field)
        ]
    unknown = sorted(_functions_called(parsed.parsed) - set(FUNCTIONS))
    if unknown:
        return [PolicyError(str(path), f"unknown function(s) {unknown}; valid: {FUNCTIONS}", rule, field)]
    misspelt = unknown_classification_fields(parsed.parsed)
    if misspelt:
        valid = sorted(CLASSIFICATION_FIELDS)
        return [PolicyError(str(path), f"unknown field(s) {misspelt}; classification has {valid}", rule, field)]
    return [PolicyError(str(path), problem, rule, field) for problem in _regex_problems(parsed.parsed)]


def _load_templates(directory: Path, errors: list[PolicyError]) -> dict[str, dict[str, ReplyTemplate]]:
    templates: dict[str, dict[str, ReplyTemplate]] = {}
    for path in sorted(directory.glob("*.yaml")):
        doc = _read_valid(path, TEMPLATES_SCHEMA, errors)
        if doc is None:
            continue
        by_name = templates.setdefault(doc["language"], {})
        for name, entry in doc["templates"].items():
            spec = entry if isinstance(entry, dict) else {"text": entry}
            template = Template(spec["text"])
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
            by_name[name] = ReplyTemplate(
                template, bool(spec.get("promotional", False)), bool(spec.get("needs_account", False))
            )
    return templates


def _content_rules(directory: Path, errors: list[PolicyError]) -> dict[str, ContentRules]:
    try:
        return load_rules(directory)
    except BrandFileError as exc:
        errors.extend(PolicyError(str(exc.path), why, field=where or None) for where, why in exc.problems)
        return {}


def _check_templates(
    directory: Path, templates: dict[str, dict[str, ReplyTemplate]], rules: dict[str, ContentRules]
) -> list[PolicyError]:
    """Every template, its variables left empty, is publishable for every brand (templates are shared)."""
    found = []
    blank = dict.fromkeys(TEMPLATE_VARIABLES, "")
    for language, by_name in templates.items():
        for name, template in by_name.items():
            text = template.text.safe_substitute(blank)
            for brand_rules in list(rules.values()) or [ContentRules("")]:
                for problem in content_problems(text, brand_rules):
                    where = str(directory / f"{language}.yaml")
                    found.append(
                        PolicyError(
                            where, f"not publishable for {brand_rules.brand or 'a brand'}: {problem}", field=name
                        )
                    )
    return found


def _load_guardrails(directory: Path, errors: list[PolicyError]) -> Guardrails:
    path = directory / "guardrails.yaml"
    if not path.exists():
        return Guardrails()
    doc = _read_valid(path, GUARDRAILS_SCHEMA, errors)
    if not isinstance(doc, dict):
        return Guardrails()
    return Guardrails(**(doc.get("reply_budgets") or {}), **(doc.get("post_age") or {}))


def _rule(raw: dict[str, Any], path: Path, position: int) -> Rule:
    scope = raw.get("scope") or {}
    schedule = raw.get("schedule")
    return Rule(
        name=raw["name"],
        when=raw["when"],
        actions=tuple(dict(a) for a in raw["actions"]),
        file=str(path),
        order=int(raw.get("order", position * 10)),
        description=raw.get("description", ""),
        unless=raw.get("unless"),
        stop=bool(raw.get("stop", True)),
        shadow=bool(raw.get("shadow", False)),
        scope=Scope(*(tuple(scope.get(k) or ()) for k in ("channels", "platforms", "brands"))),
        schedule=Schedule(schedule["calendar"], schedule["during"]) if schedule else None,
        allow_unaddressed=bool(raw.get("allow_unaddressed", False)),
    )


def _queues(
    path: Path, docs: dict[str, Any], calendars: dict[str, Any], broken: bool, errors: list[PolicyError]
) -> dict[str, Queue]:
    """Queues with their calendars resolved and per-priority SLAs checked (`broken`: calendars.yaml itself
    failed to load, and said so already)."""
    from chalicelib.calendars import ALWAYS

    queues = {}
    for name, q in docs.items():
        by_priority: dict[int, int] = {}
        for priority, minutes in (q.get("sla_by_priority") or {}).items():
            if str(priority) not in ("1", "2", "3", "4", "5"):
                errors.append(PolicyError(str(path), f"priority {priority!r} is not 1..5", field=f"queues.{name}"))
                continue
            by_priority[int(priority)] = minutes
        calendar = calendars.get(q.get("calendar", ALWAYS.name))
        if calendar is None and broken:
            calendar = ALWAYS  # calendars.yaml itself is broken: its errors are reported already
        if calendar is None:
            message = f"unknown calendar {q['calendar']!r}; valid: {sorted(calendars)}"
            errors.append(PolicyError(str(path), message, field=f"queues.{name}.calendar"))
            calendar = ALWAYS
        queues[name] = Queue(
            name,
            q["sla_minutes"],
            q.get("description", ""),
            sla_by_priority=by_priority,
            calendar=calendar,
            shards=q.get("shards", 1),
        )
    return queues


def _calendars(directory: Path, errors: list[PolicyError]) -> tuple[dict[str, Any], bool]:
    """policies/calendars.yaml, and whether it failed to load (its errors recorded; `always` stands in)."""
    from chalicelib.calendars import ALWAYS, CalendarError, load_calendars

    try:
        return dict(load_calendars(directory / "calendars.yaml", check_schema=_SCHEMA_PASS.get())), False
    except CalendarError as exc:
        errors.extend(PolicyError(*line.split(": ", 1)) for line in str(exc).splitlines())
        return {ALWAYS.name: ALWAYS}, True


def load_policy(directory: Path) -> Policy:
    """Load and validate a policy directory; raises PolicyErrors listing every problem found.

    When the directory carries the digest of a full validation (`carewire package` writes it) and the
    files still match it, the JSON Schema pass is skipped: importing jsonschema costs a Lambda cold start
    ~200 ms. Every other pass runs, as it must to compile the expressions.
    """
    token = _SCHEMA_PASS.set(not _already_validated(directory))
    try:
        return _load(directory)
    finally:
        _SCHEMA_PASS.reset(token)


def _load(directory: Path) -> Policy:
    errors: list[PolicyError] = []
    calendars, calendars_broken = _calendars(directory, errors)
    queues_path = directory / "queues.yaml"
    queues: dict[str, Queue] = {}
    default_language = "en"
    if not queues_path.exists():
        errors.append(PolicyError(str(queues_path), "missing: every escalation queue is declared here"))
    elif (queues_doc := _read_valid(queues_path, QUEUES_SCHEMA, errors)) is not None:
        default_language = queues_doc.get("default_language", "en")
        queues = _queues(queues_path, queues_doc["queues"], calendars, calendars_broken, errors)
    templates = _load_templates(directory / "templates", errors)
    content_rules = _content_rules(directory, errors)
    errors.extend(_check_templates(directory / "templates", templates, content_rules))

    rules: list[Rule] = []
    rule_files = sorted((directory / "rules").glob("*.yaml"))
    if not rule_files:
        errors.append(PolicyError(str(directory / "rules"), "no rule files (*.yaml)"))
    schema = rule_file_schema()
    position = 0
    for path in rule_files:
        doc = _read_valid(path, schema, errors)
        if doc is None:
            continue
        for raw in doc["rules"]:
            position += 1
            rules.append(_rule(raw, path, position))

    def business_hours(calendar: str, moment: Any) -> bool:
        from chalicelib.calendars import in_business_hours

        return in_business_hours(calendars[calendar], moment)

    policy = Policy(
        rules=tuple(sorted(rules, key=lambda r: r.order)),
        templates=templates,
        queues=queues,
        default_language=default_language,
        guardrails=_load_guardrails(directory, errors),
        business_hours_fn=business_hours,
        own_fragments=own_fragments(templates),
        options=options(business_hours),
        files=tuple(str(p) for p in rule_files),
        content_rules=content_rules,
    )
    seen: dict[str, str] = {}
    for rule in policy.rules:
        if rule.name in seen:
            errors.append(PolicyError(rule.file, f"rule name is also used in {seen[rule.name]}", rule.name, "name"))
        seen[rule.name] = rule.file
        errors.extend(_check_expression(Path(rule.file), rule.name, rule.when))
        if rule.unless:
            errors.extend(_check_expression(Path(rule.file), rule.name, rule.unless, "unless"))
        if rule.schedule and rule.schedule.calendar not in calendars:
            message = f"unknown calendar {rule.schedule.calendar!r}; valid: {sorted(calendars)}"
            errors.append(PolicyError(rule.file, message, rule.name, "schedule.calendar"))
        for index, action in enumerate(rule.actions):
            for field, message in ACTIONS[action["type"]].check(action, policy):
                errors.append(PolicyError(rule.file, message, rule.name, f"actions[{index}].{field}"))
    if errors:
        raise PolicyErrors(errors)
    return policy

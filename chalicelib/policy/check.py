"""`carewire policies check` and `carewire package`: every file under `policies/` validated in one run,
every error of every file reported together, each located (file, line, rule, field) and worded for a
person. What this refuses, the package refuses.

Files and what checks them: rules, templates, queues, calendars, guardrails, brand — the policy loader;
channels.yaml, retention.yaml, storms.yaml, lexicon/ — their own loaders (run here so a broken file fails
`check`, not the first classification); access.yaml — its schema; notices/examples/ — the notice checks
the API applies; every YAML file — parsed first, duplicate keys refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from chalicelib.policy.errors import PolicyError, PolicyErrors
from chalicelib.policy.located import add_lines, error_from_text, field_name, read_yaml, schema_problems
from chalicelib.policy.model import Policy

ACCESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "roles": {
            "type": "object",
            "propertyNames": {"enum": ["agent", "supervisor", "marketer", "admin"]},
            "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "description": "Carewire role → the IAM role names that hold it",
        }
    },
    "required": ["roles"],
    "additionalProperties": False,
}


def _run(loader: Callable[[], object], errors: list[PolicyError], default_file: Path, *kinds: type[Exception]) -> None:
    try:
        loader()
    except kinds as exc:
        errors.extend(error_from_text(line, default_file) for line in str(exc).splitlines() if line.strip())


def _yaml_files(directory: Path, errors: list[PolicyError]) -> set[Path]:
    """Parse every YAML file (test cases included); the files that do not parse."""
    broken = set()
    for path in sorted(directory.rglob("*.y*ml")):
        before = len(errors)
        read_yaml(path, errors)
        if len(errors) > before:
            broken.add(path)
    for path in sorted(directory.rglob("*.json")):
        import json

        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            errors.append(PolicyError(str(path), f"invalid JSON: {exc}"))
            broken.add(path)
    return broken


def _access(directory: Path, errors: list[PolicyError]) -> None:
    path = directory / "access.yaml"
    if not path.exists():
        return
    doc = read_yaml(path, [])
    for place, message in schema_problems(doc, ACCESS_SCHEMA):
        errors.append(PolicyError(str(path), message, field=field_name(place), at=place))


def _notice_examples(directory: Path, errors: list[PolicyError]) -> None:
    from chalicelib.channels.config import ChannelConfigError, load_channels
    from chalicelib.clock import parse, utcnow
    from chalicelib.notices.errors import NoticeInvalid
    from chalicelib.notices.validate import RELATIVE_HINT, Vocabulary, check_fields

    files = sorted((directory / "notices").rglob("*.yaml")) if (directory / "notices").is_dir() else []
    if not files:
        return
    try:
        channels: Mapping[str, Any] = load_channels(directory / "channels.yaml")
    except ChannelConfigError:  # reported on its own; the notices can still be checked against its ids
        raw = read_yaml(directory / "channels.yaml", [])
        listed = raw.get("channels") if isinstance(raw, dict) else None
        channels = {
            str(c["id"]): SimpleNamespace(brand=str(c.get("brand") or c["id"]))
            for c in (listed if isinstance(listed, list) else [])
            if isinstance(c, dict) and c.get("id")
        }
    try:
        vocabulary = Vocabulary.load(directory, channels)
    except (OSError, ValueError, AttributeError):
        return  # the lexicon or brand.yaml is broken, and reported on its own
    now = utcnow()
    for path in files:
        doc = read_yaml(path, [])
        try:
            values = check_fields(doc, vocabulary, creating=True, now=now)
        except NoticeInvalid as exc:
            for where, why in exc.errors:
                place = tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", where))
                errors.append(PolicyError(str(path), why, field=where or None, at=place))
            continue
        if values.get("ends_at") is not None and parse(values["ends_at"]) <= now:
            message = f"already past ({values['ends_at']}): `notices publish` would refuse it; write {RELATIVE_HINT}"
            errors.append(PolicyError(str(path), message, field="ends_at", at=("ends_at",)))


_LEXICON_WHERE = re.compile(r"^(?P<file>[\w-]+\.yaml)(?::| (?P<field>[\w.]+):) (?P<message>.*)$")


def _lexicon(lexicon: Path, errors: list[PolicyError]) -> None:
    """The classifier's lexicon, loaded as the classifier loads it; its first problem, in its file."""
    from chalicelib.classify.lexicon import Lexicon, LexiconError

    try:
        Lexicon.load(lexicon)
    except (LexiconError, KeyError, TypeError, ValueError) as exc:
        text = str(exc)
        found = _LEXICON_WHERE.match(text)
        if found is None:
            errors.append(error_from_text(text, lexicon))
            return
        field = found["field"]
        at = tuple(field.split(".")) if field else None
        errors.append(PolicyError(str(lexicon / found["file"]), found["message"], field=field, at=at))


def _test_cases(directory: Path, broken: set[Path], errors: list[PolicyError]) -> None:
    """The shape of every policy test-case file (`policies/tests/`): what `policies test` would refuse."""
    from chalicelib.policy.testing import case_errors

    for path in sorted((directory / "tests").glob("*.yaml")):
        if path not in broken:
            errors.extend(case_errors(path, read_yaml(path, [])))


def check_policies(directory: Path) -> tuple[Policy | None, list[PolicyError]]:
    """The policy (None when it does not load) and every error of every file under `directory`."""
    from chalicelib.channels.config import ChannelConfigError, load_channels
    from chalicelib.incidents.storms import StormConfig, StormConfigError
    from chalicelib.policy.loader import load_policy
    from chalicelib.privacy import Retention, RetentionError

    errors: list[PolicyError] = []
    broken = _yaml_files(directory, errors)
    policy = None
    try:
        policy = load_policy(directory, trust_digest=False)
    except PolicyErrors as exc:
        errors += exc.errors
    if directory / "channels.yaml" not in broken:
        _run(
            lambda: load_channels(directory / "channels.yaml"), errors, directory / "channels.yaml", ChannelConfigError
        )
    if directory / "retention.yaml" not in broken:
        _run(lambda: Retention.load(directory), errors, directory / "retention.yaml", RetentionError)
    if directory / "storms.yaml" not in broken:
        storms: list[StormConfig] = []
        _run(lambda: storms.append(StormConfig.load(directory)), errors, directory / "storms.yaml", StormConfigError)
        if storms and policy is not None and storms[0].queue not in policy.queues:
            message = f"unknown queue {storms[0].queue!r}; valid: {', '.join(sorted(policy.queues))}"
            errors.append(PolicyError(str(directory / "storms.yaml"), message, field="queue", at=("queue",)))
    if directory / "access.yaml" not in broken:
        _access(directory, errors)
    if not any(p.parent.name == "lexicon" for p in broken):
        _lexicon(directory / "lexicon", errors)
    if not broken & {directory / "channels.yaml", directory / "lexicon" / "operator.yaml"}:
        _notice_examples(directory, errors)
    _test_cases(directory, broken, errors)
    add_lines(errors)
    unique = {str(e): e for e in errors}
    return policy, sorted(unique.values(), key=lambda e: (e.file, e.line or 0, str(e)))

"""What a valid notice is. Every problem is reported at once, located as (field, reason), e.g.
`("regions[1]", "unknown region 'Cebu Cty'; valid: [...]")` — for the API's 400 and the CLI's one line.

Services and regions must be the operator lexicon's canonical names (what the classifier produces), or one
of their spellings, which is rewritten to the canonical name; otherwise a notice could never match a post.

Notice text and link go out in public, so they must pass the content rules (chalicelib/publishing.py) of
every brand whose channels carry the notice: when written (`check_fields`) and again when published
(`check_publishable`), since brand.yaml may have changed in between.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from chalicelib.classify.text import fold
from chalicelib.clock import iso, parse
from chalicelib.model import NOTICE_KINDS, Notice
from chalicelib.notices.errors import NoticeInvalid
from chalicelib.publishing import ContentRules, Publishing, load_publishing
from chalicelib.publishing import problems as content_problems

EDITABLE = (
    "kind",
    "language",
    "title",
    "body",
    "link",
    "services",
    "regions",
    "keywords",
    "channels",
    "starts_at",
    "ends_at",
    "announce_on",
    "follow_up",
)
"""Fields a marketer writes; status, version, author and history are Carewire's."""

TEXT_LIMITS = {"title": 120, "body": 1000, "follow_up": 500}
MAX_LIST = {"services": 20, "regions": 40, "keywords": 30, "channels": 20, "announce_on": 10}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_LINK = re.compile(r"^https://[^\s/?#]+\.[^\s/?#]+\S*$")

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Vocabulary:
    """What notices may name: the operator's services and regions, and the configured channels."""

    services: Mapping[str, str]
    """folded spelling → canonical name"""
    regions: Mapping[str, str]
    channels: frozenset[str]
    publishing: Publishing = field(default_factory=Publishing)
    """What may be published in public, per brand, and each channel's brand."""

    @classmethod
    def load(cls, policies_dir: Path, channels: Iterable[str]) -> Vocabulary:
        """`channels`: a mapping of channel id → its config, or channel ids (their brands are then read from
        channels.yaml)."""
        doc = yaml.safe_load((policies_dir / "lexicon" / "operator.yaml").read_text(encoding="utf-8")) or {}

        def spellings(section: Mapping[str, Any]) -> dict[str, str]:
            found: dict[str, str] = {}
            for canonical, names in section.items():
                for name in [canonical, *(names or [])]:
                    found.setdefault(fold(str(name)).strip(), str(canonical))
            return found

        brands = _channel_brands(policies_dir, channels)
        return cls(
            services=spellings(doc.get("services") or {}),
            regions=spellings(doc.get("regions") or {}),
            channels=frozenset(brands),
            publishing=load_publishing(policies_dir, brands),
        )


def _channel_brands(policies_dir: Path, channels: Iterable[str]) -> dict[str, str]:
    """Channel id → the brand it speaks for (its config's `brand`, else the channel id)."""
    if isinstance(channels, Mapping):
        return {str(c): str(getattr(config, "brand", "") or c) for c, config in channels.items()}
    ids = [str(c) for c in channels]
    configured: dict[str, Any] = {}
    if (policies_dir / "channels.yaml").exists():
        from chalicelib.channels.config import load_channels

        configured = load_channels(policies_dir / "channels.yaml")
    return {c: str(getattr(configured.get(c), "brand", "") or c) for c in ids}


def _texts(name: str, value: Any, problems: Problems) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        problems.append((name, "expected a mapping of language to text, e.g. {en: ..., tl: ...}"))
        return {}
    texts: dict[str, str] = {}
    for language, text in value.items():
        where = f"{name}.{language}"
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            problems.append((where, "not a language code (two or three lower-case letters, e.g. en, tl)"))
        elif not isinstance(text, str) or not text.strip():
            problems.append((where, "expected non-empty text"))
        elif len(text.strip()) > TEXT_LIMITS[name]:
            problems.append((where, f"{len(text.strip())} characters; at most {TEXT_LIMITS[name]}"))
        else:
            texts[language] = " ".join(text.split())
    return texts


def _names(
    name: str, value: Any, problems: Problems, known: Mapping[str, str] | None = None, noun: str = ""
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append((name, "expected a list"))
        return ()
    if len(value) > MAX_LIST[name]:
        problems.append((name, f"{len(value)} entries; at most {MAX_LIST[name]}"))
    found: list[str] = []
    for position, item in enumerate(value):
        where = f"{name}[{position}]"
        if not isinstance(item, str) or not item.strip():
            problems.append((where, "expected non-empty text"))
            continue
        if known is None:
            text = fold(" ".join(item.split()))
            if len(text) < 2 or len(text) > 60:
                problems.append((where, "a keyword is 2 to 60 characters"))
                continue
            found.append(text)
        elif fold(item).strip() in known:
            found.append(known[fold(item).strip()])
        else:
            valid = sorted(set(known.values()))
            problems.append((where, f"unknown {noun or name.rstrip('s')} {item!r}; valid: {valid}"))
    return tuple(dict.fromkeys(found))


_RELATIVE = re.compile(r"^\s*(?:now)?\s*(?:([+-])\s*(\d+)\s*([mhd]))?\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
RELATIVE_HINT = "a time relative to now: now, +30m, +24h, -2h, +3d"


def _relative(value: str, now: datetime | None) -> datetime | None:
    """`now`, `+24h`, `now-2h`, `+3d` → that moment; None when `value` is not relative."""
    found = _RELATIVE.match(value)
    if not found or not (value.strip().lower().startswith("now") or found[1]):
        return None
    if now is None:
        raise ValueError("a relative time needs a clock")
    if not found[1]:
        return now
    delta = timedelta(**{_UNITS[found[3].lower()]: int(found[2])})
    return now + delta if found[1] == "+" else now - delta


def _moment(name: str, value: Any, problems: Problems, now: datetime | None = None) -> str | None:
    example = f"e.g. 2026-11-23T08:00:00+08:00, or {RELATIVE_HINT}"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            relative = _relative(value, now)
        except ValueError:
            problems.append((name, "a time relative to now is not taken here; write an ISO-8601 time"))
            return None
        if relative is not None:
            return iso(relative)
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            problems.append((name, f"not an ISO-8601 time: {value!r}; {example}"))
            return None
    elif isinstance(value, date):
        problems.append((name, f"a date without a time; {example}"))
        return None
    else:
        problems.append((name, f"expected a time, {example}"))
        return None
    if moment.tzinfo is None:
        problems.append((name, "needs a timezone, e.g. 2026-11-23T08:00:00+08:00 or ...Z"))
        return None
    return iso(moment)


def check_fields(doc: Any, vocabulary: Vocabulary, *, creating: bool, now: datetime | None = None) -> dict[str, Any]:
    """The editable fields present in `doc`, normalised. Raises NoticeInvalid listing every problem.
    With `now`, `starts_at`/`ends_at` may be relative to it (`now`, `+24h`, `-2h`)."""
    if not isinstance(doc, Mapping):
        raise NoticeInvalid([("", "expected an object of notice fields")])
    problems: Problems = []
    allowed = (*EDITABLE, "id") if creating else EDITABLE
    values: dict[str, Any] = {}
    for name, value in doc.items():
        if name not in allowed:
            reason = "cannot be changed" if name == "id" else f"unknown field; valid: {sorted(allowed)}"
            problems.append((str(name), reason))
        elif name == "id":
            if not isinstance(value, str) or not _ID.match(value):
                problems.append(("id", "3-63 characters: lower-case letters, digits and '-'"))
            else:
                values["id"] = value
        elif name == "kind":
            if value not in NOTICE_KINDS:
                problems.append(("kind", f"unknown kind {value!r}; valid: {list(NOTICE_KINDS)}"))
            else:
                values["kind"] = value
        elif name == "language":
            if not isinstance(value, str) or not _LANGUAGE.match(value):
                problems.append(("language", "not a language code (two or three lower-case letters, e.g. en)"))
            else:
                values["language"] = value
        elif name in TEXT_LIMITS:
            values[name] = {} if name == "follow_up" and value in (None, {}) else _texts(name, value, problems)
        elif name == "link":
            if value in (None, ""):
                values["link"] = ""
            elif not isinstance(value, str) or len(value) > 300 or not _LINK.match(value):
                problems.append(("link", "expected an https:// URL of at most 300 characters"))
            else:
                values["link"] = value
        elif name == "services":
            values[name] = _names(name, value, problems, vocabulary.services)
        elif name == "regions":
            values[name] = _names(name, value, problems, vocabulary.regions)
        elif name == "keywords":
            values[name] = _names(name, value, problems)
        elif name in ("channels", "announce_on"):
            values[name] = _names(name, value, problems, {c: c for c in vocabulary.channels}, "channel")
        elif name == "starts_at":
            values[name] = _moment(name, value, problems, now)
        elif name == "ends_at":
            values[name] = None if value is None else _moment(name, value, problems, now)
    if creating:
        problems += [(name, "required") for name in ("kind", "title", "body") if name not in doc]
    problems += _content(
        values, vocabulary.publishing.rules_for([*values.get("channels", ()), *values.get("announce_on", ())])
    )
    if problems:
        raise NoticeInvalid(problems)
    return values


def _content(values: Mapping[str, Any], rules: list[ContentRules]) -> Problems:
    """The public texts among `values` (title, body, follow-up per language, link) checked against each
    brand's content rules."""
    problems: Problems = []
    texts = [(f"{name}.{lang}", text) for name in TEXT_LIMITS for lang, text in (values.get(name) or {}).items()]
    if values.get("link"):
        texts.append(("link", values["link"]))
    for where, text in texts:
        found = dict.fromkeys(p for brand in rules for p in content_problems(text, brand))
        problems += [(where, f"not publishable: {problem}") for problem in found]
    return problems


def check_publishable(notice: Notice, vocabulary: Vocabulary) -> None:
    """The notice's public texts pass the content rules of every brand that carries it (at publish time)."""
    values = {name: getattr(notice, name) for name in (*TEXT_LIMITS, "link")}
    problems = _content(values, vocabulary.publishing.rules_for([*notice.channels, *notice.announce_on]))
    if problems:
        raise NoticeInvalid(problems)


def check_notice(notice: Notice) -> None:
    """Rules across fields, on the notice as it would be stored."""
    problems: Problems = []
    for name in ("title", "body"):
        if notice.language not in getattr(notice, name):
            problems.append((f"{name}.{notice.language}", f"required: the notice's language is {notice.language!r}"))
    if notice.follow_up and notice.language not in notice.follow_up:
        problems.append((f"follow_up.{notice.language}", f"required: the notice's language is {notice.language!r}"))
    if notice.ends_at is not None and parse(notice.ends_at) <= parse(notice.starts_at):
        problems.append(("ends_at", "must be after starts_at"))
    if notice.kind != "announcement" and not (notice.services or notice.regions or notice.keywords):
        problems.append(("services", "name at least one service, region or keyword, or the notice can match no post"))
    if problems:
        raise NoticeInvalid(problems)


def read_notice_file(path: Path) -> Any:
    """A marketer's notice file: YAML with the editable fields (and `id`) at the top; duplicate keys refused
    (the policy files' loader).
    Checked by `Notices.create` / `update` like an API request."""
    from chalicelib.policy.located import StrictLoader, yaml_problem  # the policy files' reader

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except OSError as exc:
        raise NoticeInvalid([("", f"cannot read: {exc.strerror}")], source=str(path)) from exc
    except yaml.YAMLError as exc:
        message, line = yaml_problem(exc)  # its words and line, not PyYAML's `in "<unicode string>"`
        raise NoticeInvalid([("", f"line {line}: {message}" if line else message)], source=str(path)) from exc

"""What Carewire may say in public for a brand: the one check for reply templates (at policy load), service
notices (when written and when published) and agents' public replies (when sent).

Per brand (policies/brand.yaml):
- links only to the brand's allow-listed domains or their subdomains, and only http(s);
- no markup: no HTML tags or entities, no `javascript:`/`data:` URLs;
- at most `max_mentions` @mentions;
- no personal data, looked for after normalising the text (NFKC, invisible characters dropped, numbers split
  by separators joined: `pii.personal_data`), except the brand's own contact points (its hotline, e-mail).

Everything is checked on the normalised text, so a tag in full-width brackets or a zero-width space inside a
phone number is seen as what a reader sees. A brand missing from brand.yaml gets the strict default: no
links, no contact points.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.pii import normalise, personal_data

BRAND_FILE = "brand.yaml"
DEFAULT_MAX_MENTIONS = 2

_MARKUP = (
    (re.compile(r"<\s*/?\s*[a-z!?]", re.IGNORECASE), "markup (an HTML tag)"),
    (re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]{2,8});", re.IGNORECASE), "markup (an HTML entity)"),
)
_SCHEME = re.compile(r"(?<![\w.+-])([a-z][a-z0-9+.-]{1,20}):(//)?(\S*)", re.IGNORECASE)
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})
_WWW = re.compile(r"(?<![\w./@-])www\.([^\s/?#<>\"']+)", re.IGNORECASE)
_BARE_HOST = re.compile(r"(?<![\w./@:-])((?:[\w-]+\.)+([a-z]{2,24}))(?![\w@-])", re.IGNORECASE)
_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "info",
        "biz",
        "io",
        "co",
        "app",
        "dev",
        "xyz",
        "link",
        "click",
        "top",
        "site",
        "online",
        "shop",
        "store",
        "me",
        "ly",
        "gg",
        "tv",
        "cc",
        "ws",
        "page",
        "live",
        "news",
        "blog",
        "club",
        "pro",
        "tech",
        "cloud",
        "ai",
        "today",
        "world",
        "email",
        "example",
        "gov",
        "edu",
        "mobi",
        "asia",
        "tel",
        "name",
    ]
)
"""Top-level domains that make a bare `name.tld` a link (any two-letter country domain does too)."""
_MENTION = re.compile(r"(?<![\w@.+-])@\w{1,50}")


@dataclass(frozen=True)
class ContentRules:
    """One brand's rules for public text."""

    brand: str
    link_domains: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    """The brand's own phone numbers and e-mail addresses: the only personal-data-like text allowed."""
    max_mentions: int = DEFAULT_MAX_MENTIONS

    def link_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.link_domains)

    def is_contact(self, kind: str, value: str) -> bool:
        if kind == "email":
            return value.lower() in {c.lower() for c in self.contacts}
        digits = _digits(value).lstrip("0")
        for contact in self.contacts:
            known = _digits(contact).lstrip("0")
            shorter = min(len(digits), len(known))
            if shorter >= 7 and (known.endswith(digits) or digits.endswith(known)):
                return True
        return False


def every_contact(rules: Mapping[str, ContentRules]) -> ContentRules:
    """One rule set holding every brand's own contact points (for a writer that does not know the brand)."""
    return ContentRules("", contacts=tuple(c for r in rules.values() for c in r.contacts))


def problems(text: str, rules: ContentRules) -> list[str]:
    """Why `text` may not be published for `rules.brand`, in words; empty when it may."""
    normal = normalise(text)
    found: list[str] = []
    for pattern, what in _MARKUP:
        if pattern.search(normal):
            found.append(f"{what} is not allowed in public text")
    for host in sorted(_hosts(normal, found)):
        if not rules.link_allowed(host):
            allowed = list(rules.link_domains) or "none"
            found.append(f"a link to {host!r}, which is not on the {rules.brand or 'default'} allow-list ({allowed})")
    mentions = len(_MENTION.findall(normal))
    if mentions > rules.max_mentions:
        found.append(f"{mentions} @mentions; at most {rules.max_mentions}")
    seen, spans = personal_data(normal)
    kinds = sorted({s["type"] for s in spans if not rules.is_contact(s["type"], seen[s["start"] : s["end"]])})
    if kinds:
        found.append(f"personal data ({', '.join(kinds)}); only the brand's own contact points may appear")
    return found


def _hosts(text: str, found: list[str]) -> set[str]:
    """Hosts of every link in `text` (scheme links, www., bare name.tld); refused schemes go to `found`."""
    hosts: set[str] = set()
    for match in _SCHEME.finditer(text):
        scheme, slashes, rest = match.group(1).lower(), match.group(2), match.group(3)
        if scheme in _UNSAFE_SCHEMES:
            found.append(f"a {scheme}: link is not allowed in public text")
        elif slashes:
            if scheme not in ("http", "https"):
                found.append(f"a {scheme}:// link is not allowed in public text (http and https only)")
            host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
            hosts.add(host.lower() or "(empty)")
    for match in _WWW.finditer(text):
        hosts.add("www." + match.group(1).lower().rstrip(".,;:!)"))
    for match in _BARE_HOST.finditer(text):
        host, tld = match.group(1).lower(), match.group(2).lower()
        if (len(tld) == 2 or tld in _TLDS) and not any(host in h for h in hosts):
            hosts.add(host)
    return hosts


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


@dataclass(frozen=True)
class Publishing:
    """Every brand's rules, and which brand each channel speaks for."""

    brands: Mapping[str, ContentRules] = field(default_factory=dict)
    channel_brands: Mapping[str, str] = field(default_factory=dict)

    def rules(self, brand: str) -> ContentRules:
        return self.brands.get(brand) or ContentRules(brand)

    def for_channel(self, channel: str) -> ContentRules:
        return self.rules(self.channel_brands.get(channel, channel))

    def problems(self, text: str, channel: str) -> list[str]:
        """`problems` for a text going out on `channel`: the agent reply guard."""
        return problems(text, self.for_channel(channel))

    def rules_for(self, channels: Iterable[str]) -> list[ContentRules]:
        """The rules of every brand that speaks on `channels` (every configured channel's brand when empty)."""
        chosen = list(channels) or list(self.channel_brands)
        brands = sorted({self.channel_brands.get(c, c) for c in chosen}) or sorted(self.brands)
        return [self.rules(b) for b in brands] or [ContentRules("")]


class BrandFileError(ValueError):
    """policies/brand.yaml is wrong; `problems` are (field, reason) pairs."""

    def __init__(self, path: Path, found: list[tuple[str, str]]) -> None:
        self.path, self.problems = path, found
        super().__init__("\n".join(f"{path}: {where}: {why}" for where, why in found))


def load_rules(policies_dir: Path) -> dict[str, ContentRules]:
    """Each brand's rules from policies/brand.yaml (none when the file is missing: the strict default).
    Raises BrandFileError listing every problem, located by field."""
    path = policies_dir / BRAND_FILE
    if not path.exists():
        return {}
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BrandFileError(path, [("", f"invalid YAML: {exc}".replace("\n", " "))]) from None
    found: list[tuple[str, str]] = []
    brands = doc.get("brands") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or set(doc) - {"brands"} or not isinstance(brands, dict):
        raise BrandFileError(path, [("brands", "expected `brands:` mapping each brand id to its rules")])
    rules: dict[str, ContentRules] = {}
    for brand, raw in brands.items():
        where = f"brands.{brand}"
        if not isinstance(raw, dict):
            found.append((where, "expected a mapping with link_domains, contacts, max_mentions"))
            continue
        for key in sorted(set(raw) - {"link_domains", "contacts", "max_mentions"}):
            found.append((f"{where}.{key}", "unknown field; valid: ['contacts', 'link_domains', 'max_mentions']"))
        domains = _strings(raw.get("link_domains"), f"{where}.link_domains", found)
        for position, domain in enumerate(domains):
            if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}", domain):
                found.append((f"{where}.link_domains[{position}]", f"{domain!r} is not a lower-case domain name"))
        contacts = _strings(raw.get("contacts"), f"{where}.contacts", found)
        for position, contact in enumerate(contacts):
            _, spans = personal_data(contact)
            if [s["type"] for s in spans] not in (["phone"], ["email"]):
                found.append((f"{where}.contacts[{position}]", f"{contact!r} is not one phone number or e-mail"))
        mentions = raw.get("max_mentions", DEFAULT_MAX_MENTIONS)
        if not isinstance(mentions, int) or isinstance(mentions, bool) or not 0 <= mentions <= 10:
            found.append((f"{where}.max_mentions", "expected a whole number from 0 to 10"))
            mentions = DEFAULT_MAX_MENTIONS
        rules[str(brand)] = ContentRules(str(brand), tuple(domains), tuple(contacts), mentions)
    if found:
        raise BrandFileError(path, found)
    return rules


def _strings(value: Any, where: str, found: list[tuple[str, str]]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        found.append((where, "expected a list of non-empty strings"))
        return []
    return [v.strip() for v in value]


def load_publishing(policies_dir: Path, channel_brands: Mapping[str, str]) -> Publishing:
    """brand.yaml's rules with `channel_brands` (channel id → brand)."""
    return Publishing(load_rules(policies_dir), dict(channel_brands))

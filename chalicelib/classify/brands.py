"""Whose post is it: the brand a channel speaks for, and every other operator (the gazetteer).

The brand's handles come from the channel (`policies/channels.yaml`); its names from the gazetteer entry whose
`id` is the channel's `brand` (else the brand id itself). Any other operator in `policies/lexicon/operators.yaml`
is a competitor, so churn to a competitor works for any operator without configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.classify.lexicon import LexiconError, Match, PhraseMatcher, load_yaml
from chalicelib.classify.text import Token, fold, phrase_tokens

OPERATOR_TYPES = ("mobile", "broadband", "cable_tv", "mvno", "converged")


@dataclass(frozen=True)
class Operator:
    id: str
    market: str
    type: str
    names: tuple[str, ...]
    handles: tuple[str, ...]
    example: bool = False
    cased: tuple[str, ...] = ()
    """names that are an everyday word in a language the posts are written in (Tagalog "dito", Spanish "vi"):
    they name the operator only when a word is written exactly so ("DITO", "Vi")"""


@dataclass(frozen=True)
class Brand:
    """The operator a channel speaks for: what counts as 'us' in a post."""

    id: str
    handles: frozenset[str]
    """lower-case, without '@'"""
    operators: frozenset[str]
    """gazetteer ids that are this brand (a name shared by several operators is 'us' if any of them is)"""
    names: frozenset[tuple[str, ...]]
    """the brand's names as word sequences"""

    def is_us(self, match: Match[tuple[str, ...]]) -> bool:
        """The brand itself: one of its operators, or the start of one of its names ("Telkom" to Telkom Kenya)."""
        if not self.operators.isdisjoint(match.value):
            return True
        seq = phrase_tokens(match.phrase)
        return any(name[: len(seq)] == seq for name in self.names)


NO_BRAND = Brand("", frozenset(), frozenset(), frozenset())


class Gazetteer:
    """Operators by market, with one phrase matcher over all their names (registered in the lexicon's index)."""

    def __init__(self, operators: Iterable[Operator], not_operators: Iterable[str] = ()) -> None:
        self.operators: dict[str, Operator] = {}
        by_phrase: dict[str, list[str]] = {}
        self.by_handle: dict[str, str] = {}
        self.cased: dict[str, frozenset[str]] = {}
        """folded name -> the spellings (raw words) in which it names an operator (`Operator.cased`)"""
        for op in operators:
            if op.id in self.operators:
                raise LexiconError(f"operators.yaml: operator id {op.id!r} is listed twice")
            self.operators[op.id] = op
            for name in op.names + op.cased:
                ids = by_phrase.setdefault(fold(name), [])
                if op.id not in ids:
                    ids.append(op.id)
            for name in op.cased:
                if len(name.split()) != 1:
                    raise LexiconError(f"operators.yaml: operator {op.id!r}: cased name {name!r} must be one word")
                self.cased[fold(name)] = self.cased.get(fold(name), frozenset()) | {name}
            for handle in op.handles:
                self.by_handle.setdefault(handle, op.id)
        for op in self.operators.values():
            both = {fold(n) for n in op.names} & self.cased.keys()
            if both:
                raise LexiconError(f"operators.yaml: {sorted(both)} listed both as a name and as a cased name")
        for phrase in not_operators:
            # longer than the operator's name it contains, so the longest match takes it and it names no one
            by_phrase.setdefault(fold(phrase), [])
        self.matcher: PhraseMatcher[tuple[str, ...]] = PhraseMatcher.build(
            (phrase, tuple(ids)) for phrase, ids in by_phrase.items()
        )
        self.markets = tuple(sorted({op.market for op in self.operators.values()}))

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        if not path.is_file():
            return cls(())
        doc = load_yaml(path)
        markets = doc.get("markets") if isinstance(doc, dict) else None
        if not isinstance(markets, Mapping):
            raise LexiconError(f"{path}: expected `markets:` mapping market code -> operators")
        found: list[Operator] = []
        for market, entries in markets.items():
            if not isinstance(entries, list):
                raise LexiconError(f"{path}: market {market!r}: expected a list of operators")
            for raw in entries:
                found.append(_operator(path, str(market), raw))
        not_operators = doc.get("not_operators") or []
        if not isinstance(not_operators, list):
            raise LexiconError(f"{path}: `not_operators:` must be a list of phrases")
        return cls(found, [str(p) for p in not_operators])

    def names_an_operator(self, match: Match[tuple[str, ...]], word_tokens: Sequence[Token]) -> bool:
        """A gazetteer match that names an operator: not a `not_operators` phrase ("TNT Sports"), and a cased name
        written as listed ("DITO" but not Tagalog "dito")."""
        if not match.value:
            return False
        spellings = self.cased.get(match.phrase)
        if spellings is None:
            return True
        return match.end - match.start == 1 and word_tokens[match.start].raw in spellings

    def brand(self, brand_id: str, handles: Iterable[str] = ()) -> Brand:
        """The brand a channel speaks for: its own handles, plus the gazetteer entry named `brand_id` or owning one
        of the handles (a channel for an operator not in the gazetteer is known by its id and handles alone)."""
        own = frozenset(fold(h).lstrip("@") for h in handles if h)
        ids = {brand_id} if brand_id in self.operators else set()
        ids.update(self.by_handle[h] for h in own if h in self.by_handle)
        names = {phrase_tokens(n) for i in ids for n in self.operators[i].names}
        handles_all = set(own)
        for i in ids:
            handles_all.update(self.operators[i].handles)
        if brand_id:
            names.add(phrase_tokens(brand_id))
        names.discard(())
        return Brand(brand_id, frozenset(handles_all), frozenset(ids), frozenset(names))

    def brand_named(self, name: str, handle: str = "") -> Brand:
        """The brand of a labelled training row (`operator` name and `brand_handle`)."""
        key = fold(handle.strip().lstrip("@")).replace(" ", "")
        ids = {self.by_handle[key]} if key in self.by_handle else set()
        hits = self.matcher.find_all(list(phrase_tokens(name)))
        if hits and hits[0].start == 0:
            ids.update(hits[0].value)
        chosen = sorted(ids)[0] if ids else fold(name).replace(" ", "")
        brand = self.brand(chosen, [key] if key else [])
        extra = {phrase_tokens(name)} - {()}
        return Brand(brand.id, brand.handles, frozenset(ids) | brand.operators, brand.names | extra)

    def merge(self, brands: Iterable[Brand]) -> Brand:
        """One brand standing for several (a post judged against every configured channel's brand)."""
        handles: set[str] = set()
        operators: set[str] = set()
        names: set[tuple[str, ...]] = set()
        ids = []
        for b in brands:
            ids.append(b.id)
            handles |= b.handles
            operators |= b.operators
            names |= b.names
        return Brand("+".join(ids), frozenset(handles), frozenset(operators), frozenset(names))


def _operator(path: Path, market: str, raw: Any) -> Operator:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        raise LexiconError(f"{path}: market {market}: each operator needs an `id`")
    kind = str(raw.get("type", "mobile"))
    if kind not in OPERATOR_TYPES:
        raise LexiconError(f"{path}: operator {raw['id']!r}: type {kind!r}; valid: {list(OPERATOR_TYPES)}")
    names = raw.get("names") or []
    handles = raw.get("handles") or []
    if not isinstance(names, list) or not isinstance(handles, list):
        raise LexiconError(f"{path}: operator {raw['id']!r}: names and handles must be lists")
    cased = raw.get("cased") or []
    if not isinstance(cased, list):
        raise LexiconError(f"{path}: operator {raw['id']!r}: cased must be a list")
    return Operator(
        id=str(raw["id"]),
        market=market,
        type=kind,
        names=tuple(str(n) for n in names),
        handles=tuple(fold(str(h)).lstrip("@") for h in handles),
        example=bool(raw.get("example", False)),
        cased=tuple(str(n) for n in cased),
    )


def channel_brands(lexicon: Any, channels_file: Path) -> dict[str, Brand]:
    """channel id -> its brand, from `policies/channels.yaml` (none when the file is absent or invalid: the
    policy check reports that; the classifier then judges against the lexicon's example operator)."""
    from chalicelib.channels.config import ChannelConfigError, load_channels

    if not channels_file.is_file():
        return {}
    try:
        channels = load_channels(channels_file)
    except ChannelConfigError:
        return {}
    gazetteer: Gazetteer = lexicon.gazetteer if lexicon.gazetteer is not None else Gazetteer(())
    return {c.id: gazetteer.brand(c.brand or c.id, c.brand_handles) for c in channels.values()}

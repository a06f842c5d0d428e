"""Loading `policies/lexicon/*.yaml` and matching its phrases against token streams."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import yaml

from chalicelib.classify.text import fold, phrase_tokens

T = TypeVar("T")

try:  # the C loader is ~10x faster; fall back to pure Python where libyaml is missing
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader, with YAML 1.2's booleans: only true/false. YAML 1.1 also reads yes/no/on/off/y/n as
    booleans, and a lexicon is lists and maps of words: "no" as a negator or a word's valence, "yes" and "on" as
    language cues, which that reading turned into False and True (then the words "false" and "true")."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LexiconError(ValueError):
    """A lexicon file is missing or malformed; the message names the file."""


COMPILED = ".compiled.json"
"""Written by `carewire package` (`compile_lexicon`) beside the lexicon's YAML files: what each parses to, with the
sha256 of its bytes. The Lambda then reads one JSON file instead of parsing YAML (the classifier's load as packaged
went from 152 to about 133 ms, `bench/classify_bench.py --only cold`); a YAML file whose bytes no longer match is
parsed as before, so a stale file is never read."""

_compiled: dict[Path, dict[str, Any]] = {}
"""directory -> the entries of its compiled file not yet handed out (each is handed out once, so no two callers
share one parsed document; the next request for a file reads the compiled file again)"""


def load_yaml(path: Path) -> Any:
    try:
        raw = path.read_bytes()
        found = _compiled_doc(path, raw)
        if found is not None:
            return found[0]
        text = raw.decode("utf-8")
        fast = number_maps(text)
        return fast if fast is not None else yaml.load(text, Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc


def _compiled_doc(path: Path, raw: bytes) -> tuple[Any] | None:
    """(what `path` parses to,) from the compiled file beside it, when that has it for these bytes."""
    entries = _compiled.get(path.parent)
    if entries is None or path.name not in entries:
        compiled = path.parent / COMPILED
        if not compiled.is_file():
            return None
        try:
            entries = json.loads(compiled.read_bytes())
        except ValueError:
            return None
        if not isinstance(entries, dict):
            return None
        _compiled[path.parent] = entries
    entry = entries.pop(path.name, None)
    if not isinstance(entry, dict) or entry.get("sha256") != hashlib.sha256(raw).hexdigest():
        return None
    return (entry.get("doc"),)


def compile_lexicon(directory: Path) -> list[str]:
    """Write `COMPILED` for the YAML files in `directory` whose parsed content JSON keeps exactly (string keys; a
    map with number keys would come back with string ones); returns the files it holds."""
    entries: dict[str, Any] = {}
    for path in sorted(directory.glob("*.yaml")):
        raw = path.read_bytes()
        doc = load_yaml(path)
        if json.loads(json.dumps(doc)) == doc:
            entries[path.name] = {"sha256": hashlib.sha256(raw).hexdigest(), "doc": doc}
    (directory / COMPILED).write_text(json.dumps(entries, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    _compiled.pop(directory, None)
    return sorted(entries)


_TOP_KEY = re.compile(r"([a-z_][a-z0-9_]*):")
_ENTRY = re.compile(r"  (?:\"([a-z][a-z0-9_'-]*)\"|([a-z][a-z0-9_'-]*)): (-?(?:0|[1-9][0-9]*)(\.[0-9]+)?)")
_RESERVED = frozenset({"true", "false", "null"})
"""Plain scalars the loader reads as bool or null (quoted, they are strings)."""


def number_maps(text: str) -> dict[str, dict[str, int | float]] | None:
    """The lexicon loader's result (`_Loader`) for the one shape `sentiment_general.yaml` has (comment lines, then
    top-level keys each holding `  word: number` lines), in a fraction of the time; None for anything else (tabs, CR,
    BOM, flow style, inline comments, anchors, quoting with escapes, reserved words, ...), so the caller parses it."""
    if "\t" in text or "\r" in text or text.startswith("\ufeff"):
        return None
    out: dict[str, dict[str, int | float]] = {}
    current: dict[str, int | float] | None = None
    entry = _ENTRY.fullmatch
    for line in text.split("\n"):
        if not line or line[0] == "#":
            continue
        m = entry(line)
        if m is not None:
            if current is None:
                return None
            quoted, plain, number, fraction = m.groups()
            if plain is not None and plain in _RESERVED:
                return None
            # as the safe loader: int without a fraction part, float with one
            current[quoted if quoted is not None else plain] = float(number) if fraction else int(number)
            continue
        top = _TOP_KEY.fullmatch(line)
        if top is None or top[1] in _RESERVED or top[1] in out or current == {}:
            return None
        current = out[top[1]] = {}
    if not out or current == {}:
        return None
    return out


class Match(NamedTuple, Generic[T]):
    """A phrase found at words[start:end] (a tuple: cheap to make, there is one per hit)."""

    start: int
    end: int
    phrase: str
    value: T


@dataclass
class PhraseMatcher(Generic[T]):
    """Finds lexicon phrases (word sequences, optional trailing `*` prefix on one-word entries) in word lists."""

    _by_first: dict[str, list[tuple[tuple[str, ...], str, T]]] = field(default_factory=dict)
    _prefixes: dict[str, tuple[str, T]] = field(default_factory=dict)
    _prefix_lengths: tuple[int, ...] = ()
    slot: int = -1
    """Position in the lexicon's shared first-word index (`WordIndex`), -1 if not registered."""

    @classmethod
    def build(cls, entries: Iterable[tuple[str, T]]) -> PhraseMatcher[T]:
        matcher: PhraseMatcher[T] = cls()
        lengths: set[int] = set()
        for phrase, value in entries:
            text = str(phrase).strip()
            if text.endswith("*") and " " not in text:
                stem = fold(text.rstrip("*"))
                if stem:
                    matcher._prefixes.setdefault(stem, (text, value))
                    lengths.add(len(stem))
                continue
            words = phrase_tokens(text)
            if words:
                matcher._by_first.setdefault(words[0], []).append((words, text, value))
        for options in matcher._by_first.values():
            options.sort(key=lambda o: -len(o[0]))
        matcher._prefix_lengths = tuple(sorted(lengths, reverse=True))
        return matcher

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_first.values()) + len(self._prefixes)

    def at(self, words: list[str], i: int) -> Match[T] | None:
        """The longest phrase starting at word i, or None."""
        word = words[i]
        options = self._by_first.get(word)
        if options:
            for seq, phrase, value in options:  # longest first
                k = len(seq)
                if k == 1:
                    return Match(i, i + 1, phrase, value)
                if i + k <= len(words) and tuple(words[i : i + k]) == seq:
                    return Match(i, i + k, phrase, value)
        if self._prefix_lengths:
            for length in self._prefix_lengths:
                if len(word) >= length:
                    hit = self._prefixes.get(word[:length])
                    if hit is not None:
                        return Match(i, i + 1, hit[0], hit[1])
        return None

    _prefix_cache: dict[str, bool] = field(default_factory=dict)

    def _prefix_hit(self, word: str) -> bool:
        hit = self._prefix_cache.get(word)
        if hit is None:
            hit = any(len(word) >= k and word[:k] in self._prefixes for k in self._prefix_lengths)
            if len(self._prefix_cache) > 100_000:  # bounded memo: words repeat a lot across posts
                self._prefix_cache.clear()
            self._prefix_cache[word] = hit
        return hit

    def starts(self, words: list[str]) -> list[int]:
        """Indexes where a phrase may start (cheap pre-filter)."""
        by_first = self._by_first
        if self._prefix_lengths:
            return [i for i, w in enumerate(words) if w in by_first or self._prefix_hit(w)]
        if by_first.keys().isdisjoint(words):  # C-speed early out: most matchers hit nothing in a post
            return []
        return [i for i, w in enumerate(words) if w in by_first]

    def find_all(self, words: list[str], starts: Iterable[int] | None = None) -> list[Match[T]]:
        """Longest matches, left to right, not overlapping. `starts`: candidate indexes if already known."""
        out: list[Match[T]] = []
        covered = 0
        for i in self.starts(words) if starts is None else starts:
            if i < covered:
                continue
            m = self.at(words, i)
            if m is not None:
                out.append(m)
                covered = m.end
        return out


_NO_SLOTS: tuple[int, ...] = ()

WordHit = tuple[int, tuple[tuple[list[str], int, str, Any], ...], tuple[str, Any] | None]
"""What one word can start in one matcher: (slot, the longer phrases to try first as (words, length, phrase,
value), longest first; else the one-word match (phrase, value), or None). This is `PhraseMatcher.at` taken apart
for a given first word, so a scan can find every matcher's matches in one pass."""


def _word_hit(matcher: PhraseMatcher[Any], word: str) -> WordHit | None:
    longer: list[tuple[list[str], int, str, Any]] = []
    single: tuple[str, Any] | None = None
    for seq, phrase, value in matcher._by_first.get(word) or ():  # longest first, as `at` tries them
        if len(seq) == 1:
            single = (phrase, value)
            break
        longer.append((list(seq), len(seq), phrase, value))
    if single is None:
        single = _prefix_match(matcher, word)
    if not longer and single is None:
        return None
    return (matcher.slot, tuple(longer), single)


def _prefix_match(matcher: PhraseMatcher[Any], word: str) -> tuple[str, Any] | None:
    """The `stem*` entry `word` starts with (longest stem first), or None."""
    prefixes = matcher._prefixes
    for length in matcher._prefix_lengths:
        if len(word) >= length:
            hit = prefixes.get(word[:length])
            if hit is not None:
                return hit
    return None


_NO_HITS: tuple[WordHit, ...] = ()
_new_match: Any = tuple.__new__
"""`Match(*fields)` without the Python-level `__new__` of a NamedTuple (one per phrase hit)."""


class WordIndex:
    """One first-word index over all of a lexicon's phrase matchers (and its language cue words).

    A post is scanned once: each distinct word is looked up once (memoised), giving what it can start in each
    matcher, and every matcher's matches (`PhraseMatcher.find_all`) come out of that one pass.
    """

    def __init__(self, matchers: list[PhraseMatcher[Any]], languages: Mapping[str, frozenset[str]]) -> None:
        self.matchers = matchers
        self.language_codes = tuple(sorted(languages))
        first: dict[str, list[int]] = {}
        for slot, matcher in enumerate(matchers):
            matcher.slot = slot
            for word in matcher._by_first:
                first.setdefault(word, []).append(slot)
        self._first = first
        self._prefixed = [(m, frozenset(stem[0] for stem in m._prefixes)) for m in matchers if m._prefix_lengths]
        """matchers with `stem*` entries, with the stems' first letters (most words start with none of them)"""
        lang_of: dict[str, list[int]] = {}
        for k, code in enumerate(self.language_codes):
            for w in languages[code]:
                lang_of.setdefault(w, []).append(k)
        self._lang_of = lang_of
        self._cache: dict[str, tuple[tuple[WordHit, ...], tuple[int, ...]]] = {}

    def _lookup(self, word: str) -> tuple[tuple[WordHit, ...], tuple[int, ...]]:
        slots = self._first.get(word)
        found: list[WordHit] = []
        if slots is not None:
            for slot in slots:
                hit = _word_hit(self.matchers[slot], word)
                if hit is not None:
                    found.append(hit)
        if word:
            initial = word[0]
            for m, initials in self._prefixed:
                if initial in initials and (slots is None or m.slot not in slots):
                    single = _prefix_match(m, word)
                    if single is not None:
                        found.append((m.slot, (), single))
        langs = self._lang_of.get(word)
        entry = (tuple(found) if found else _NO_HITS, tuple(langs) if langs and not word.isdigit() else _NO_SLOTS)
        if len(self._cache) >= 200_000:  # bounded memo: words repeat a lot across posts
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def entry(self, word: str) -> tuple[tuple[WordHit, ...], tuple[int, ...]]:
        """(what `word` can start in each matcher, the languages it is a cue word of), memoised."""
        return self._cache.get(word) or self._lookup(word)

    def scan(self, words: list[str]) -> Scan:
        hit_at: list[tuple[int, tuple[WordHit, ...]]] = []
        lang_counts = [0] * len(self.language_codes)
        cache = self._cache
        for i, w in enumerate(words):
            hits, langs = cache.get(w) or self._lookup(w)
            if hits:
                hit_at.append((i, hits))
            for k in langs:
                lang_counts[k] += 1
        return Scan(words, self.resolve(words, hit_at), lang_counts)

    def resolve(self, words: list[str], hit_at: list[tuple[int, tuple[WordHit, ...]]]) -> dict[int, list[Match[Any]]]:
        """Every matcher's `find_all(words)`, by slot, from the words that can start a phrase (`hit_at`: (index,
        hits) in word order): per matcher, the longest phrase at each start, left to right, not overlapping."""
        matches: dict[int, list[Match[Any]]] = {}
        if not hit_at:
            return matches
        covered = [0] * len(self.matchers)
        for i, hits in hit_at:
            for slot, longer, single in hits:
                if i < covered[slot]:
                    continue
                for seq, k, phrase, value in longer:
                    if words[i : i + k] == seq:
                        end = i + k
                        m = _new_match(Match, (i, end, phrase, value))
                        break
                else:
                    if single is None:
                        continue
                    end = i + 1
                    m = _new_match(Match, (i, end, *single))
                found = matches.get(slot)
                if found is None:
                    matches[slot] = [m]
                else:
                    found.append(m)
                covered[slot] = end
        return matches


class Scan:
    """One post's words with every registered matcher's matches, from one pass of `WordIndex.scan`."""

    __slots__ = ("lang_counts", "matches", "words")

    def __init__(self, words: list[str], matches: dict[int, list[Match[Any]]], lang_counts: list[int]) -> None:
        self.words = words
        self.matches = matches
        """slot -> `PhraseMatcher.find_all(words)` of the matcher in that slot (absent: none)"""
        self.lang_counts = lang_counts
        """Cue-word hits per language, in `WordIndex.language_codes` order (digits never are cue words)."""

    def find(self, matcher: PhraseMatcher[T]) -> list[Match[T]]:
        """`matcher.find_all(words)`, found by the scan (a new list: callers may keep or change it)."""
        if matcher.slot < 0:
            return matcher.find_all(self.words)
        found = self.matches.get(matcher.slot)
        return found[:] if found else []

    def starts_of(self, matcher: PhraseMatcher[T]) -> list[int]:
        """Indexes where a phrase of `matcher` may start (`PhraseMatcher.starts`)."""
        return matcher.starts(self.words)


def _str_list(data: Any, where: str) -> list[str]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise LexiconError(f"{where}: expected a list")
    return [str(x) for x in data]


def _reports(scam: Mapping[str, Any]) -> PhraseMatcher[bool]:
    """`scam.yaml` reports and warnings in one matcher: phrase -> whether it is a warning."""
    warnings = _str_list(scam.get("warnings"), "scam.yaml warnings")
    plain = [p for p in _str_list(scam.get("reports"), "scam.yaml reports") if p not in warnings]
    return PhraseMatcher.build([(p, False) for p in plain] + [(p, True) for p in warnings])


def _num_map(data: Any, where: str) -> dict[str, float]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise LexiconError(f"{where}: expected a mapping of word: number")
    try:
        return {str(k): float(v) for k, v in data.items()}
    except (TypeError, ValueError) as exc:
        raise LexiconError(f"{where}: {exc}") from exc


def _canon_map(data: Any, where: str) -> list[tuple[str, str]]:
    """`canonical: [spelling, ...]` -> [(spelling, canonical)]."""
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise LexiconError(f"{where}: expected a mapping of name: [spellings]")
    return [(s, str(name)) for name, spellings in data.items() for s in [str(name), *_str_list(spellings, where)]]


@dataclass(frozen=True)
class Lexicon:
    """Everything loaded from policies/lexicon/, ready for matching."""

    operator: str
    brand_handles: frozenset[str]
    brand_names: PhraseMatcher[str]
    competitors: PhraseMatcher[str]
    regions: PhraseMatcher[str]
    services: PhraseMatcher[str]
    topics: PhraseMatcher[tuple[str, str]]
    precedence: tuple[str, ...]
    valence: PhraseMatcher[float]
    emoji: dict[str, float]
    negators: frozenset[str]
    negation_exceptions: frozenset[str]
    boosters: dict[str, float]
    contrast: PhraseMatcher[bool]
    sarcasm_cues: PhraseMatcher[bool]
    sarcasm_positive: frozenset[str]
    sarcasm_markers: PhraseMatcher[bool]
    resolution: PhraseMatcher[bool]
    profanity: PhraseMatcher[bool]
    insults: PhraseMatcher[bool]
    slurs: PhraseMatcher[bool]
    abuse_targets: PhraseMatcher[bool]
    threats: PhraseMatcher[bool]
    churn: PhraseMatcher[bool]
    switch_verbs: frozenset[str]
    urgency: PhraseMatcher[float]
    spam_cues: PhraseMatcher[float]
    spam_threshold: float
    spam_url_weight: float
    spam_digits_weight: float
    spam_money_weight: float
    scam_lures: PhraseMatcher[bool]
    scam_asks: PhraseMatcher[bool]
    scam_reports: PhraseMatcher[bool]
    """a scam reported, not sent: `reports` and `warnings` (value True: words a scam does not write about itself)"""
    scam_impostors: PhraseMatcher[bool]
    scam_contacts: PhraseMatcher[bool]
    scam_ask_verbs: frozenset[str]
    scam_credentials: frozenset[str]
    languages: dict[str, frozenset[str]]
    language_min_hits: int
    language_min_ratio: float
    taglish_share: float
    question_starters: frozenset[str]
    spam_model: dict[str, Any] | None = None
    sentiment_model: dict[str, Any] | None = None
    operators: PhraseMatcher[tuple[str, ...]] = field(default_factory=PhraseMatcher)
    """every operator name in the gazetteer (`operators.yaml`) -> the operator ids it names"""
    gazetteer: Any = None
    """`brands.Gazetteer` of `operators.yaml` (None when the file is absent)"""
    sizes: dict[str, int] = field(default_factory=dict)
    language_index: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """word -> the languages whose cue list has it (built from `languages`)."""
    index: WordIndex | None = None
    """The shared first-word index over every phrase matcher above (built by `load`)."""

    def scan(self, words: list[str]) -> Scan:
        return self.word_index().scan(words)

    def word_index(self) -> WordIndex:
        if self.index is None:  # a Lexicon built by hand: index it on first use
            object.__setattr__(self, "index", self._build_index())
        assert self.index is not None
        return self.index

    def _build_index(self) -> WordIndex:
        matchers = [v for v in (getattr(self, f.name) for f in fields(self)) if isinstance(v, PhraseMatcher)]
        return WordIndex(matchers, self.languages)

    @classmethod
    def load(cls, lexicon_dir: Path) -> Lexicon:
        def doc(name: str) -> dict[str, Any]:
            path = lexicon_dir / name
            data = load_yaml(path)
            if not isinstance(data, dict):
                raise LexiconError(f"{path}: expected a mapping at top level")
            return data

        def opt_json(name: str) -> dict[str, Any] | None:
            path = lexicon_dir / name
            if not path.is_file():
                return None
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise LexiconError(f"{path}: {exc}") from exc
            if not isinstance(data, dict):
                raise LexiconError(f"{path}: expected an object")
            return data

        op = doc("operator.yaml")
        topics_doc = doc("topics.yaml")
        senti = doc("sentiment.yaml")
        abuse = doc("abuse.yaml")
        churn = doc("churn.yaml")
        urg = doc("urgency.yaml")
        spam = doc("spam.yaml")
        scam = doc("scam.yaml") if (lexicon_dir / "scam.yaml").is_file() else {}
        lang = doc("language.yaml")

        valences: dict[str, float] = {}
        general = lexicon_dir / "sentiment_general.yaml"
        if general.is_file():
            gdoc = load_yaml(general)
            valences.update(_num_map(gdoc.get("words") if isinstance(gdoc, dict) else None, str(general)))
        valences.update(_num_map(senti.get("words"), "sentiment.yaml words"))

        topic_entries: list[tuple[str, tuple[str, str]]] = []
        tdefs = topics_doc.get("topics")
        if not isinstance(tdefs, Mapping):
            raise LexiconError("topics.yaml: `topics` must map topic -> intent -> phrases")
        for topic, intents in tdefs.items():
            if not isinstance(intents, Mapping):
                raise LexiconError(f"topics.yaml: topic {topic!r} must map intent -> phrases")
            for intent, phrases in intents.items():
                for p in _str_list(phrases, f"topics.yaml {topic}.{intent}"):
                    topic_entries.append((p, (str(topic), str(intent))))
        precedence = tuple(_str_list(topics_doc.get("precedence"), "topics.yaml precedence"))
        for topic in tdefs:
            if topic not in precedence:
                raise LexiconError(f"topics.yaml: topic {topic!r} is missing from `precedence`")

        boosters = _num_map(senti.get("intensifiers"), "sentiment.yaml intensifiers")
        boosters.update(_num_map(senti.get("diminishers"), "sentiment.yaml diminishers"))
        languages = {
            str(code): frozenset(fold(w) for w in _str_list(words, f"language.yaml {code}"))
            for code, words in (lang.get("languages") or {}).items()
        }

        def flags(data: Any, where: str) -> PhraseMatcher[bool]:
            return PhraseMatcher.build((p, True) for p in _str_list(data, where))

        competitors = _canon_map(op.get("competitors"), "operator.yaml competitors")
        from chalicelib.classify.brands import Gazetteer  # brands reads this module's matchers

        gazetteer = Gazetteer.load(lexicon_dir / "operators.yaml")
        lex = cls(
            operator=str(op.get("operator", "")),
            brand_handles=frozenset(fold(h).lstrip("@") for h in _str_list(op.get("brand_handles"), "brand_handles")),
            brand_names=PhraseMatcher.build((n, n) for n in _str_list(op.get("brand_names"), "brand_names")),
            competitors=PhraseMatcher.build(competitors),
            regions=PhraseMatcher.build(_canon_map(op.get("regions"), "operator.yaml regions")),
            services=PhraseMatcher.build(_canon_map(op.get("services"), "operator.yaml services")),
            topics=PhraseMatcher.build(topic_entries),
            precedence=precedence,
            valence=PhraseMatcher.build(valences.items()),
            emoji={fold(k): v for k, v in _num_map(senti.get("emoji"), "sentiment.yaml emoji").items()},
            negators=frozenset(fold(w) for w in _str_list(senti.get("negators"), "negators")),
            negation_exceptions=frozenset(_str_list(senti.get("negation_exceptions"), "negation_exceptions")),
            boosters={fold(k): v for k, v in boosters.items()},
            contrast=flags(senti.get("contrast"), "contrast"),
            sarcasm_cues=flags(senti.get("sarcasm_cues"), "sarcasm_cues"),
            sarcasm_positive=frozenset(fold(w) for w in _str_list(senti.get("sarcasm_positive"), "sarcasm_positive")),
            sarcasm_markers=flags(senti.get("sarcasm_markers"), "sarcasm_markers"),
            resolution=flags(senti.get("resolution"), "resolution"),
            profanity=flags(abuse.get("profanity"), "abuse.yaml profanity"),
            insults=flags(abuse.get("insults"), "abuse.yaml insults"),
            slurs=flags(abuse.get("slurs"), "abuse.yaml slurs"),
            abuse_targets=flags(abuse.get("targets"), "abuse.yaml targets"),
            threats=flags(abuse.get("threats"), "abuse.yaml threats"),
            churn=flags(churn.get("phrases"), "churn.yaml phrases"),
            switch_verbs=frozenset(fold(w) for w in _str_list(churn.get("switch_verbs"), "switch_verbs")),
            urgency=PhraseMatcher.build(_num_map(urg.get("cues"), "urgency.yaml cues").items()),
            spam_cues=PhraseMatcher.build(_num_map(spam.get("cues"), "spam.yaml cues").items()),
            spam_threshold=float(spam.get("threshold", 1.0)),
            spam_url_weight=float(spam.get("url_weight", 0.5)),
            spam_digits_weight=float(spam.get("digits_weight", 0.3)),
            spam_money_weight=float(spam.get("money_weight", 0.4)),
            scam_lures=flags(scam.get("lures", []), "scam.yaml lures"),
            scam_asks=flags(scam.get("asks", []), "scam.yaml asks"),
            scam_reports=_reports(scam),
            scam_impostors=flags(scam.get("impostors", []), "scam.yaml impostors"),
            scam_contacts=flags(scam.get("contacts", []), "scam.yaml contacts"),
            scam_ask_verbs=frozenset(fold(w) for w in _str_list(scam.get("ask_verbs"), "scam.yaml ask_verbs")),
            scam_credentials=frozenset(fold(w) for w in _str_list(scam.get("credentials"), "scam.yaml credentials")),
            languages=languages,
            language_min_hits=int(lang.get("min_hits", 1)),
            language_min_ratio=float(lang.get("min_ratio", 0.15)),
            taglish_share=float(lang.get("taglish_share", 0.25)),
            question_starters=frozenset(fold(w) for w in _str_list(lang.get("question_starters"), "question_starters")),
            spam_model=opt_json("spam_weights.json"),
            sentiment_model=opt_json("sentiment_weights.json"),
            operators=gazetteer.matcher,
            gazetteer=gazetteer,
        )
        for code, vocab in sorted(languages.items()):
            for w in vocab:
                lex.language_index[w] = (*lex.language_index.get(w, ()), code)
        object.__setattr__(lex, "index", lex._build_index())
        lex.sizes.update(
            topics=len(lex.topics), valence=len(lex.valence), emoji=len(lex.emoji), competitors=len(lex.competitors)
        )
        return lex

"""Tokenising and normalising social text. Pure functions, no state."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_TOKEN = re.compile(
    r"(?P<url>https?://\S+|www\.\S+)"
    r"|(?P<mention>@\w+)"
    r"|(?P<hashtag>#\w+)"
    r"|(?P<emo>(?<![\w:])(?:[<>]?[:;=][\-o*'^]?[()\[\]dDpP/\\|*]+|<3+|-_-|\^_\^)(?![\w)]))"
    r"|(?P<word>[^\W_](?:[\w'’*]*[\w*])?)"
    r"|(?P<punct>[!?.,;:])"
    r"|(?P<sym>[^\w\s])"
)
_ELONG = re.compile(r"(\w)\1\1+")
_ACCENTS = str.maketrans("áàâäéèêëíìîïóòôöúùûüñç’", "aaaaeeeeiiiioooouuuunc'")
_SKIP_SYMBOLS = frozenset("\u200d\ufe0f\ufe0e\u20e3")


class Token(NamedTuple):
    norm: str
    """Lower-cased, accent-folded, elongations collapsed to two letters ("sooo" -> "soo")."""
    raw: str
    kind: str
    """word | mention | hashtag | url | emo | punct | sym"""
    elongated: bool = False
    caps: bool = False
    """The raw word is ALL CAPS (and at least two letters)."""


def fold(text: str) -> str:
    """Lower-case and strip the accents the lexicons may be written without."""
    if text.isascii():  # nothing to strip (the table maps only non-ASCII characters)
        return text.lower()
    return text.lower().translate(_ACCENTS)


_SCAN = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN.pattern))
"""`_TOKEN` without its groups: the same tokens, found by `findall` (no match objects)."""
_SKIP = Token("", "", "skip")
_DIGIT = re.compile(r"\d")
_LONG_DIGITS = re.compile(r"\d{5,}")


class DigitFacts(NamedTuple):
    """Digits in one raw token (only tokens that have any get one)."""

    isdigits: int
    """characters for which `str.isdigit` holds"""
    decimal: bool
    """has a `\\d` (Unicode decimal digit)"""
    run5: bool
    """has a run of 5+ `\\d`"""


_Entry = tuple[Token, str, str, bool, bool, DigitFacts | None]
"""(token, kind, norm, caps, elongated, digits): the token and the fields `analyze` reads, unpacked at once."""
_CACHE: dict[str, _Entry] = {}
_CACHE_MAX = 200_000
"""Bounded memo raw token -> `_Entry`: everything in it depends only on the raw text."""


def _twice(m: re.Match[str]) -> str:
    """`\\1\\1` as a function (a template replacement is ~3x slower to apply)."""
    return m.group(1) * 2


def _once(m: re.Match[str]) -> str:
    return m.group(1)


def _make_token(raw: str) -> Token:
    if raw.isalnum():  # all word characters, the first no '_': only the word pattern can match it whole
        kind = "word"
    else:
        m = _TOKEN.fullmatch(raw)
        kind = (m.lastgroup if m is not None else None) or "sym"
    if kind == "word":
        norm = fold(raw)
        elongated = False
        if _ELONG.search(norm):
            norm = _ELONG.sub(_twice, norm)
            elongated = True
        return Token(norm, raw, "word", elongated, len(raw) > 1 and raw.isupper())
    if kind == "hashtag":
        return Token(fold(raw[1:]), raw, "hashtag")
    if kind == "sym":
        if len(raw) == 1 and (raw in _SKIP_SYMBOLS or unicodedata.category(raw) in ("Mn", "Sk")):
            return _SKIP
        return Token(raw, raw, "sym")
    return Token(fold(raw), raw, kind)


def _make_entry(raw: str) -> _Entry:
    tok = _make_token(raw)
    count = 0 if raw.isalpha() else sum(map(str.isdigit, raw))
    digits = None  # every \d is also isdigit: no isdigit character, no digit facts
    if count:
        digits = DigitFacts(count, _DIGIT.search(raw) is not None, _LONG_DIGITS.search(raw) is not None)
    return (tok, tok.kind, tok.norm, tok.caps, tok.elongated, digits)


def _entry(raw: str) -> _Entry:
    cache = _CACHE
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    entry = cache[raw] = _make_entry(raw)
    return entry


def tokenize(text: str) -> list[Token]:
    cache = _CACHE
    tokens: list[Token] = []
    append = tokens.append
    for raw in _SCAN.findall(text):
        tok = (cache.get(raw) or _entry(raw))[0]
        if tok is not _SKIP:
            append(tok)
    return tokens


class TextStats(NamedTuple):
    """Token counts several signals share, taken in one pass (`text_stats`)."""

    exclaims: int
    """'!' tokens"""
    caps: int
    """ALL-CAPS words"""
    url: bool
    mention: bool
    question: bool
    """a '?' or '¿' token"""
    symbols: list[Token]
    """emoticon and symbol tokens, in order (emoji valences)"""
    elongated: list[int]
    """indexes, among the word and hashtag tokens, of elongated words"""
    all_caps: bool
    """there are word/hashtag tokens and each is ALL CAPS or a single character"""
    hashtag: bool


def text_stats(tokens: list[Token]) -> TextStats:
    exclaims = caps = 0
    url = mention = question = False
    shouty = True
    hashtag = False
    symbols: list[Token] = []
    elongated: list[int] = []
    n_words = 0
    for t in tokens:
        kind = t.kind
        if kind == "word":
            if t.caps:
                caps += 1
            elif shouty and len(t.raw) > 1:
                shouty = False
            if t.elongated:
                elongated.append(n_words)
            n_words += 1
        elif kind == "hashtag":
            shouty = False
            hashtag = True
            n_words += 1
        elif kind == "punct":
            if t.raw == "!":
                exclaims += 1
            elif t.raw == "?":
                question = True
        elif kind in ("sym", "emo"):
            symbols.append(t)
            if t.raw == "¿":
                question = True
        elif kind == "url":
            url = True
        elif kind == "mention":
            mention = True
    return TextStats(exclaims, caps, url, mention, question, symbols, elongated, shouty and n_words > 0, hashtag)


_REPEATS = re.compile(r"(\w)\1+")
_VARIANTS: dict[str, str] = {}


def single_letter_variant(norm: str) -> str:
    """The elongation collapsed to one letter: "soo" -> "so", "goodd" -> "god" (callers try two letters first)."""
    variant = _VARIANTS.get(norm)
    if variant is None:
        if len(_VARIANTS) >= _CACHE_MAX:  # bounded memo
            _VARIANTS.clear()
        variant = _VARIANTS[norm] = _REPEATS.sub(_once, norm)
    return variant


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """How a lexicon phrase is split: the same word rule as posts, so "can't" stays one word."""
    if phrase.isascii() and phrase.isalnum() and phrase.islower() and _ELONG.search(phrase) is None:
        return (phrase,)  # one plain word, already in normal form (most lexicon entries; fast at load)
    return tuple(tok.norm for tok in tokenize(phrase) if tok.kind in ("word", "hashtag"))

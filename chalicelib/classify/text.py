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
    return text.lower().translate(_ACCENTS)


_SCAN = re.compile(re.sub(r"\(\?P<\w+>", "(?:", _TOKEN.pattern))
"""`_TOKEN` without its groups: the same tokens, found by `findall` (no match objects)."""
_SKIP = Token("", "", "skip")
_CACHE: dict[str, Token] = {}
_CACHE_MAX = 200_000
"""Bounded memo raw token -> Token: a token's kind and normal form depend only on its raw text."""


def _make_token(raw: str) -> Token:
    m = _TOKEN.fullmatch(raw)
    kind = (m.lastgroup if m is not None else None) or "sym"
    if kind == "word":
        norm = raw.lower().translate(_ACCENTS)
        elongated = False
        if _ELONG.search(norm):
            norm = _ELONG.sub(r"\1\1", norm)
            elongated = True
        return Token(norm, raw, "word", elongated, len(raw) > 1 and raw.isupper())
    if kind == "hashtag":
        return Token(fold(raw[1:]), raw, "hashtag")
    if kind == "sym":
        if len(raw) == 1 and (raw in _SKIP_SYMBOLS or unicodedata.category(raw) in ("Mn", "Sk")):
            return _SKIP
        return Token(raw, raw, "sym")
    return Token(fold(raw), raw, kind)


def tokenize(text: str) -> list[Token]:
    cache = _CACHE
    tokens: list[Token] = []
    append = tokens.append
    for raw in _SCAN.findall(text):
        tok = cache.get(raw)
        if tok is None:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            tok = cache[raw] = _make_token(raw)
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


def single_letter_variant(norm: str) -> str:
    """The elongation collapsed to one letter: "soo" -> "so", "goodd" -> "god" (callers try two letters first)."""
    return re.sub(r"(\w)\1+", r"\1", norm)


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """How a lexicon phrase is split: the same word rule as posts, so "can't" stays one word."""
    return tuple(tok.norm for tok in tokenize(phrase) if tok.kind in ("word", "hashtag"))

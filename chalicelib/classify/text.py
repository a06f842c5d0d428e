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


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    maybe_elongated = _ELONG.search(text.lower()) is not None
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "sym"
        raw = m.group()
        if kind == "word":
            norm = raw.lower().translate(_ACCENTS)
            elongated = False
            if maybe_elongated and _ELONG.search(norm):
                norm = _ELONG.sub(r"\1\1", norm)
                elongated = True
            caps = len(raw) > 1 and raw.isupper()
            append(Token(norm, raw, "word", elongated, caps))
        elif kind == "hashtag":
            append(Token(fold(raw[1:]), raw, "hashtag"))
        elif kind == "mention":
            append(Token(fold(raw), raw, "mention"))
        elif kind == "sym":
            if raw in _SKIP_SYMBOLS or unicodedata.category(raw) in ("Mn", "Sk"):
                continue
            append(Token(raw, raw, "sym"))
        else:
            append(Token(fold(raw), raw, kind))
    return tokens


def single_letter_variant(norm: str) -> str:
    """The elongation collapsed to one letter: "soo" -> "so", "goodd" -> "god" (callers try two letters first)."""
    return re.sub(r"(\w)\1+", r"\1", norm)


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """How a lexicon phrase is split: the same word rule as posts, so "can't" stays one word."""
    return tuple(tok.norm for tok in tokenize(phrase) if tok.kind in ("word", "hashtag"))

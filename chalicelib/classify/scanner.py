"""The classifier's one pass over a post: tokens, text stats, digit facts, phrase matches, language cues and the
spam model's word weights, from one memo per raw token.

It gives exactly what `text.analyze` + `Lexicon.scan` + `SpamModel.probability_of` give (tests check this); it
only looks each raw token up once instead of once per stage.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from chalicelib.classify.lexicon import Lexicon, Scan, WordHit
from chalicelib.classify.spam import SpamModel
from chalicelib.classify.text import _SCAN, DigitFacts, TextStats, Token, _make_entry

_NO_HITS: tuple[WordHit, ...] = ()
_NO_LANGS: tuple[int, ...] = ()

_RawEntry = tuple[
    Token,
    str,
    str,
    bool,
    bool,
    DigitFacts | None,
    tuple[WordHit, ...],
    tuple[int, ...],
    float | None,
    dict[str, float] | None,
]
"""`text._Entry` + (phrase hits, language cues, spam unigram weight, spam bigram weights by next word) of the
token's normal form: the last four are empty/None for tokens that are not words or hashtags."""

CACHE_MAX = 200_000


class Scanned(NamedTuple):
    tokens: list[Token]
    word_tokens: list[Token]
    words: list[str]
    stats: TextStats
    mentions: list[str]
    decimal: bool
    digits: int
    run5: bool
    scan: Scan
    spam_unigrams: float
    """the spam model's unigram weights of the distinct words, summed in first-seen order (0 without a model)"""
    spam_bigrams: list[float]
    """the spam model's weights of the distinct word pairs that have one, in first-seen order"""


class PostScanner:
    """One per `Classifier`: its memo depends on the lexicon's matchers and the spam model."""

    def __init__(self, lexicon: Lexicon, spam: SpamModel | None) -> None:
        self.index = lexicon.word_index()
        self.n_languages = len(self.index.language_codes)
        self._unigrams = spam.unigrams if spam is not None else {}
        self._bigrams = spam.bigrams if spam is not None else {}
        self._cache: dict[str, _RawEntry] = {}

    def _entry(self, raw: str) -> _RawEntry:
        tok, kind, norm, caps, elongated, digits = _make_entry(raw)
        entry: _RawEntry
        if kind == "word" or kind == "hashtag":  # noqa: PLR1714
            hits, langs = self.index.entry(norm)
            entry = (
                tok,
                kind,
                norm,
                caps,
                elongated,
                digits,
                hits,
                langs,
                self._unigrams.get(norm),
                self._bigrams.get(norm),
            )
        else:
            entry = (tok, kind, norm, caps, elongated, digits, _NO_HITS, _NO_LANGS, None, None)
        cache = self._cache
        if len(cache) >= CACHE_MAX:  # bounded memo: raw tokens repeat a lot across posts
            cache.clear()
        cache[raw] = entry
        return entry

    def scan(self, text: str) -> Scanned:  # noqa: PLR0915 - one flat loop is the point
        cache = self._cache
        tokens: list[Token] = []
        word_tokens: list[Token] = []
        words: list[str] = []
        symbols: list[Token] = []
        elongated: list[int] = []
        mentions: list[str] = []
        hit_at: list[tuple[int, tuple[WordHit, ...]]] = []
        lang_counts = [0] * self.n_languages
        seen: set[str] = set()
        unigram_sum: Any = 0  # as sum() starts
        bigram_seen: dict[tuple[str, str], float] | None = None
        after: dict[str, float] | None = None
        prev = ""
        exclaims = caps = digits = 0
        url = mention = question = hashtag = decimal = run5 = False
        shouty = True
        for raw in _SCAN.findall(text):
            tok, kind, norm, is_caps, is_elongated, dig, hits, langs, uni, nxt = cache.get(raw) or self._entry(raw)
            if kind == "word" or kind == "hashtag":  # noqa: PLR1714 - two identity-fast compares
                if kind == "word":
                    if is_caps:
                        caps += 1
                    elif shouty and len(raw) > 1:
                        shouty = False
                    if is_elongated:
                        elongated.append(len(words))
                else:
                    shouty = False
                    hashtag = True
                if hits:
                    hit_at.append((len(words), hits))
                for k in langs:
                    lang_counts[k] += 1
                if uni is not None and norm not in seen:
                    seen.add(norm)
                    unigram_sum += uni
                if after is not None:
                    v = after.get(norm)
                    if v is not None:
                        if bigram_seen is None:
                            bigram_seen = {}
                        bigram_seen.setdefault((prev, norm), v)
                after = nxt
                prev = norm
                word_tokens.append(tok)
                words.append(norm)
            elif kind == "punct":
                if raw == "!":
                    exclaims += 1
                elif raw == "?":
                    question = True
            elif kind == "mention":
                mention = True
                mentions.append(norm[1:])
            elif kind in ("sym", "emo"):
                symbols.append(tok)
                if raw == "¿":
                    question = True
            elif kind == "url":
                url = True
            else:  # the skipped marks
                continue
            tokens.append(tok)
            if dig is not None:
                digits += dig.isdigits
                if dig.decimal:
                    decimal = True
                    if dig.run5:
                        run5 = True
        all_caps = shouty and len(words) > 0
        stats = TextStats(exclaims, caps, url, mention, question, symbols, elongated, all_caps, hashtag)
        scan = Scan(words, self.index.resolve(words, hit_at), lang_counts)
        bigrams = list(bigram_seen.values()) if bigram_seen else []
        return Scanned(tokens, word_tokens, words, stats, mentions, decimal, digits, run5, scan, unigram_sum, bigrams)

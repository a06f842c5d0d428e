"""Near-duplicate signatures of post text: what two posts say, compared cheaply.

A post's features are its content words after normalisation (NFKC, case, accents, links, @handles and
elongations removed; stopwords of the three pack languages dropped; a light suffix stem). The signature
is a bottom-k sketch of their 64-bit hashes: for posts as short as social posts it holds every feature,
so similarity is their exact Jaccard index; for long ones it is the standard bottom-k estimate. Chosen by
measurement (bench/similarity_bench.py on the Twitter URL paraphrase pairs): content-word Jaccard beat
word MinHash (datasketch), character n-grams, word bigrams and rapidfuzz ratios.

`band_keys` gives the keys that clustering stores: the minimum hash under a few salts, so two posts share a
key with probability equal to their Jaccard index (per salt).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

SKETCH_SIZE = 64
MASK = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15
_SALTS = (0x5BD1E9955BD1E995, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)

_LINKS = re.compile(r"https?://\S+|www\.\S+")
_HANDLES = re.compile(r"@\w+")
_REPEATS = re.compile(r"(.)\1{2,}")
_WORDS = re.compile(r"[^\W_]+")
_SUFFIXES = ("ing", "ed", "es", "s")
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from is are was were be been being it its this that
    these those i im me my we our you your u ur he she they them their his her as so not no do does did dont
    have has had will would can could just than then there here what which who how when where why all any
    some such very too also about into over out up down more most other only own same now rt amp via pls
    please hi hello hey
    ang ng sa na ko ako mo ka po yung ung yun at si ni kay ay pa naman lang din rin ba nga mga nyo kayo
    natin namin kami tayo sila siya niya niyo ito iyan iyon dito diyan doon kasi pero kung para wala may
    el la los las un una unos unas y o de del al en con por para que es son no se su sus mi mis tu lo le
    les me te nos ya muy mas pero como este esta esto eso""".split()  # noqa: SIM905 - a word list reads as text
)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _HANDLES.sub(" ", _LINKS.sub(" ", text))
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return _REPEATS.sub(r"\1\1", text)


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(text: str) -> frozenset[str]:
    """The content words of `text`, normalised and stemmed."""
    return frozenset(_stem(w) for w in _WORDS.findall(normalise(text)) if len(w) > 1 and w not in STOPWORDS)


def _hash(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")


Signature = tuple[int, ...]
"""The smallest SKETCH_SIZE feature hashes, ascending."""


def signature(text: str) -> Signature:
    hashes = sorted({_hash(f) for f in features(text)})
    return tuple(hashes[:SKETCH_SIZE])


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard index of the two posts' features (exact when both sketches hold every feature)."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    cut = union[-1]
    both = set(a) & set(b)
    return sum(1 for h in union if h in both and h <= cut) / len(union)


def band_keys(sig: Signature, bands: int = 2) -> tuple[str, ...]:
    """One key per salt: the minimum of the remixed hashes. Two posts with Jaccard index J share a given
    key with probability about J, so `bands` keys catch a near-duplicate with 1 - (1 - J) ** bands."""
    if not sig:
        return ()
    keys = []
    for salt in _SALTS[:bands]:
        low = min(((h ^ salt) * _MIX) & MASK for h in sig)
        keys.append(f"{low:016x}")
    return tuple(keys)

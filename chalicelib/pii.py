"""Personal data: find it and mask it. The one masking function used by logs and reply rendering.

`find_pii` returns type and span only (never the value). Types: email, phone, iccid, imei, account, address.
Patterns are deliberately generous: masking a non-number costs little, leaking a real one costs a lot.

`personal_data` and `mask` look through disguises first (`normalise`: NFKC, so full-width digits are
digits; zero-width and other invisible characters dropped; every dash a '-' and every space a ' '), and
find a number split by runs of separators (`0917 - 123 - 4567`) by reading it with them removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypedDict


class PiiSpan(TypedDict):
    type: str
    start: int
    end: int


_SEP = r"[ \-.]?"
_STREET_SUFFIX = (
    r"(?:st|street|str|ave|avenue|av|rd|road|blvd|boulevard|dr|drive|ln|lane|way|ct|court|pl|place|ter|terrace"
    r"|hwy|highway|pkwy|parkway|cir|circle|sq|square|ext|extension|calle|avenida|kalye)\.?"
)
# Order matters: the first pattern to claim characters wins, so specific ones come first.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)),
    # ICCID: 19-20 digits starting 89 (SIM serial), possibly grouped
    ("iccid", re.compile(r"(?<![\w+])89(?:[ -]?\d){17,18}(?!\d)")),
    # IMEI: 15 digits, possibly grouped 2-6-6-1 or in blocks
    ("imei", re.compile(r"(?<![\w+])\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d(?![\d])")),
    # phones: +63 917 123 4567, 0917-123-4567, (555) 123-4567, 555.123.4567, +44 20 7946 0958, 09171234567
    (
        "phone",
        re.compile(
            r"(?<![\w+])(?:"
            r"\+\d{1,3}" + _SEP + r"\(?\d{1,4}\)?(?:" + _SEP + r"\d{2,5}){1,4}"
            r"|\(\d{2,5}\)" + _SEP + r"\d{3,4}" + _SEP + r"\d{3,4}"
            r"|0\d{2,4}" + _SEP + r"\d{3,4}" + _SEP + r"\d{3,5}"
            r"|\d{3}[\-.]\d{3}[\-.]\d{4}"
            r"|0\d{9,10}"
            r")(?![\w])"
        ),
    ),
    # account / reference numbers: after a keyword, or any bare run of 8-14 digits
    (
        "account",
        re.compile(
            r"(?:(?<=account)|(?<=acct)|(?<=acc)|(?<=a/c)|(?<=ref)|(?<=reference)|(?<=ticket)|(?<=case)"
            r"|(?<=customer)|(?<=cust)|(?<=id)|(?<=no)|(?<=number)|(?<=num)|(?<=#))"
            r"(?:\s*(?:no\.?|number|num|#|id)?\s*[:#]?\s*)([A-Z]{0,3}\d[\d-]{3,18}\d)(?!\w)"
            r"|(?<![\w+.])\d{8,14}(?![\w.])",
            re.IGNORECASE,
        ),
    ),
    # street addresses: "123 Main St", "45B Rizal Avenue", "Blk 5 Lot 12", "Brgy. San Antonio"
    (
        "address",
        re.compile(
            r"\b\d{1,5}[A-Za-z]?(?:\s+[A-Z][\w'.-]*){1,4}\s+" + _STREET_SUFFIX + r"(?![\w])"
            r"|\b(?:blk|block)\.?\s*\d+\s*,?\s*(?:lot|lt)\.?\s*\d+"
            r"|\b(?:brgy|barangay)\.?\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3}"
            r"|\b(?:calle|avenida)\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3}\s*(?:n[oº°]\.?\s*)?\d{1,5}",
            re.IGNORECASE,
        ),
    ),
)
_KEYWORD_GROUP_TYPES = {"account"}
_MIN_DIGITS = {"iccid": 19, "imei": 15, "phone": 7, "account": 4}
_DIGIT = re.compile(r"\d")
_EMAIL_CUE = re.compile(r"@(?<=[\w.+-]@)[\w-]")
"""A word character (or . + -) right before an '@' and one right after; found from the '@' (a literal is fast)."""
_ACCOUNT_CUE = re.compile(r"\d[\d-]{3,18}\d")
"""Part of every account match (the keyword form's number, and any 8+ digit run): no cue, no account."""
_WORD_ONLY_ADDRESS = ("brgy", "barangay")
"""Address forms that need no digit; every other pattern needs a digit or an '@'."""


def find_pii(text: str) -> list[PiiSpan]:
    """Personal data in `text`: type and [start, end) span, sorted by start, never overlapping."""
    return find_pii_counted(text, _DIGIT.search(text) is not None, None)


def find_pii_counted(text: str, decimal: bool, isdigits: int | None) -> list[PiiSpan]:
    """`find_pii` for a caller that already knows whether `text` has a `\\d` (`decimal`) and, optionally, how many
    of its characters are `str.isdigit` (`isdigits`)."""
    spans: list[PiiSpan] = []
    # Cheap cues first (most posts have none): every pattern needs a digit, except an e-mail (a non-space
    # character before an '@') and the word-only address forms.
    email = "@" in text and _EMAIL_CUE.search(text) is not None
    if not decimal:
        if email:
            digits = 0
            address = any(k in text.lower() for k in _WORD_ONLY_ADDRESS)
        else:
            lowered = text.lower()
            if not any(k in lowered for k in _WORD_ONLY_ADDRESS):
                return spans
            digits = 0
            address = True
    else:
        digits = sum(map(str.isdigit, text)) if isdigits is None else isdigits
        address = True
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        if digits < _MIN_DIGITS.get(kind, 0) or (kind == "email" and not email) or (kind == "address" and not address):
            continue
        if kind == "account" and _ACCOUNT_CUE.search(text) is None:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if kind in _KEYWORD_GROUP_TYPES and m.lastindex:
                start, end = m.span(1)
            if end - start < 3 or any(start < e and s < end for s, e in taken):
                continue
            if kind == "phone" and sum(c.isdigit() for c in text[start:end]) < 7:
                continue
            taken.append((start, end))
            spans.append(PiiSpan(type=kind, start=start, end=end))
    spans.sort(key=lambda s: s["start"])
    return spans


def normalise(text: str) -> str:
    """`text` as a reader sees it: NFKC (full-width and other compatibility forms folded), invisible format
    characters (zero-width space/joiners, word joiner, BOM, soft hyphen, direction marks) dropped, combining
    marks on a digit dropped, every Unicode dash a '-', every space or line separator a ' ', every decimal digit
    an ASCII digit. ASCII text is returned as it is (the common case costs one check)."""
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cf" or ch in _INVISIBLE_LETTERS:
            continue
        if category == "Mn" and out and out[-1].isdigit():
            continue
        if category in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif category == "Pd" or ch == "\u2212":
            out.append("-")
        elif category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5")
"""Fillers and marks that render as nothing but are not format (Cf) characters."""
_DIGIT_RUN = re.compile(r"\d(?:[\s\-./\\_·•*~|'\"()\[\]]{0,3}\d)+")
"""Digits with short runs of separators between them: a number, however it is split."""
_SEPARATORS = re.compile(r"[^\d]+")
_NUMBER_TYPES = frozenset({"phone", "iccid", "imei"})
"""What a split-up run of digits may hide. Accounts are left out: a date (23/11/2026) would read as one."""


def personal_data(text: str) -> tuple[str, list[PiiSpan]]:
    """Personal data however it is disguised: `text` normalised, and the spans in it — what `find_pii` finds
    there, plus every run of digits split by separators (`0917 - 123 - 4567`, `0 9 1 7 …`) that reads as a
    phone number, IMEI or ICCID once the separators are gone."""
    normal = normalise(text)
    spans = find_pii(normal)
    if _DIGIT.search(normal) is None:
        return normal, spans
    hidden: list[PiiSpan] = []
    for run in _DIGIT_RUN.finditer(normal):
        start, end = run.span()
        if any(start < s["end"] and s["start"] < end for s in spans):
            continue
        joined = _SEPARATORS.sub("", run.group())
        if joined == run.group():
            continue
        kinds = [s["type"] for s in find_pii(joined) if s["type"] in _NUMBER_TYPES]
        if kinds:
            hidden.append(PiiSpan(type=kinds[0], start=start, end=end))
    if hidden:
        spans = sorted(spans + hidden, key=lambda s: s["start"])
    return normal, spans


def mask(text: str, keep: Callable[[str, str], bool] | None = None) -> str:
    """`text` with every personal-data span replaced by `[type]`, e.g. `[phone]`, `[email]` — after
    `normalise`, so a disguised number is masked too (text with something masked comes back normalised).
    `keep(type, value)` true leaves a span as it is: the operator's own hotline in the operator's own text."""
    normal, spans = personal_data(text)
    if keep is not None:
        spans = [s for s in spans if not keep(s["type"], normal[s["start"] : s["end"]])]
    if not spans:
        return text
    text = normal
    out: list[str] = []
    pos = 0
    for s in spans:
        out.append(text[pos : s["start"]])
        out.append(f"[{s['type']}]")
        pos = s["end"]
    out.append(text[pos:])
    return "".join(out)

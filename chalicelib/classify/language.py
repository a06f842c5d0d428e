"""Language by cue words: en, tl (Tagalog/Taglish), es, or unknown."""

from __future__ import annotations

from chalicelib.classify.lexicon import Lexicon, Scan


def detect_language(lex: Lexicon, scan: Scan, hint: str | None = None) -> tuple[str, list[str]]:
    """Cue-word counts come from the lexicon's one-pass `Scan` (digit-only words are never cue words)."""
    words = scan.words
    n_alpha = len(words) - sum(map(str.isdigit, words))
    assert lex.index is not None
    codes = lex.index.language_codes  # sorted
    counts = scan.lang_counts
    total_hits = sum(counts)
    evidence = [f"{code}: {c} cue words" for code, c in zip(codes, counts, strict=True) if c] if total_hits else []
    if not n_alpha or total_hits < lex.language_min_hits:
        if hint in lex.languages:
            return str(hint), [*evidence, f"platform hint '{hint}'"]
        return "unknown", [*evidence, "too few cue words"]
    top = max(counts)
    best = codes[counts.index(top)]  # the first code with the most cue words
    tl = counts[codes.index("tl")] if "tl" in codes else 0
    # Taglish: Tagalog function words mixed into English still make it Tagalog for reply purposes.
    if best == "en" and tl >= 2 and tl >= lex.taglish_share * total_hits:
        best = "tl"
        top = tl
        evidence.append("Taglish (Tagalog cue words mixed with English)")
    if top / max(1, n_alpha) < lex.language_min_ratio and top < 3:
        if hint in lex.languages:
            return str(hint), [*evidence, f"platform hint '{hint}'"]
        return "unknown", [*evidence, "cue words too sparse"]
    return best, evidence

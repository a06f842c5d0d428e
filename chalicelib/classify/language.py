"""Language by cue words: en, tl (Tagalog/Taglish), es, or unknown."""

from __future__ import annotations

from chalicelib.classify.lexicon import Lexicon


def detect_language(lex: Lexicon, words: list[str], hint: str | None = None) -> tuple[str, list[str]]:
    alpha = [w for w in words if not w.isdigit()]
    counts = dict.fromkeys(lex.languages, 0)
    index = lex.language_index
    for w in alpha:
        for code in index.get(w, ()):
            counts[code] += 1
    total_hits = sum(counts.values())
    evidence = [f"{code}: {c} cue words" for code, c in sorted(counts.items()) if c]
    if not alpha or total_hits < lex.language_min_hits:
        if hint in lex.languages:
            return str(hint), [*evidence, f"platform hint '{hint}'"]
        return "unknown", [*evidence, "too few cue words"]
    best = max(sorted(counts), key=lambda c: counts[c])
    tl = counts.get("tl", 0)
    # Taglish: Tagalog function words mixed into English still make it Tagalog for reply purposes.
    if best == "en" and tl >= 2 and tl >= lex.taglish_share * total_hits:
        best = "tl"
        evidence.append("Taglish (Tagalog cue words mixed with English)")
    if counts[best] / max(1, len(alpha)) < lex.language_min_ratio and counts[best] < 3:
        if hint in lex.languages:
            return str(hint), [*evidence, f"platform hint '{hint}'"]
        return "unknown", [*evidence, "cue words too sparse"]
    return best, evidence

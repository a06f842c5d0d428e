"""Derive policies/lexicon/sentiment_general.yaml from the VADER word list (MIT licence).

Not learned from data: it copies VADER's human-rated word valences (mean of 10 raters, -4..+4) for alphabetic
entries, so operators can read and edit them as YAML. Curated entries in sentiment.yaml override these.
Deterministic: sorted output. Usage: .venv/bin/python scripts/train_general_lexicon.py
Source: vaderSentiment 3.3.2 `vader_lexicon.txt` (C.J. Hutto, MIT licence; Hutto & Gilbert, ICWSM 2014).
"""

from __future__ import annotations

import re
from pathlib import Path

import vaderSentiment

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "policies" / "lexicon" / "sentiment_general.yaml"
WORD = re.compile(r"^[a-z][a-z']*$")

HEADER = """\
# General-English word valences (-4..+4), derived from the VADER sentiment lexicon by
# scripts/train_general_lexicon.py. Curated entries in sentiment.yaml override these.
# Source: vaderSentiment 3.3.2 vader_lexicon.txt, Copyright (c) 2016 C.J. Hutto, MIT License:
#   Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
#   documentation files (the "Software"), to deal in the Software without restriction, including without limitation
#   the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
#   to permit persons to whom the Software is furnished to do so, subject to the following conditions: The above
#   copyright notice and this permission notice shall be included in all copies or substantial portions of the
#   Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
words:
"""


def main() -> None:
    src = Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"
    entries: dict[str, float] = {}
    for line in src.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not WORD.match(parts[0]):
            continue
        entries[parts[0]] = float(parts[1])
    lines = [HEADER]
    for word in sorted(entries):
        key = f'"{word}"' if word in ("yes", "no", "on", "off", "true", "false", "null", "y", "n") else word
        lines.append(f"  {key}: {entries[word]:g}\n")
    OUT.write_text("".join(lines), encoding="utf-8")
    print(f"wrote {len(entries)} words to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()

"""Service notices for marketers (issue 5)."""

from __future__ import annotations

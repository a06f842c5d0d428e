"""The one JMESPath module: Carewire's custom functions, compiled once and cached."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jmespath
from jmespath import functions
from jmespath.parser import ParsedResult


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class CarewireFunctions(functions.Functions):  # type: ignore[misc]
    """Functions available in every `when` expression."""

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})  # type: ignore[misc]
    def _func_regex_match(self, text: str | None, pattern: str) -> bool:
        return text is not None and _regex(pattern).search(text) is not None

    @functions.signature({"types": ["string", "array", "null"]}, {"types": ["array"]})  # type: ignore[misc]
    def _func_contains_any(self, subject: str | list[Any] | None, candidates: list[Any]) -> bool:
        if subject is None:
            return False
        if isinstance(subject, str):
            lowered = subject.lower()
            return any(isinstance(c, str) and c.lower() in lowered for c in candidates)
        return any(c in subject for c in candidates)


FUNCTIONS = sorted(name[len("_func_") :] for name in dir(CarewireFunctions) if name.startswith("_func_"))
_OPTIONS = jmespath.Options(custom_functions=CarewireFunctions())


@lru_cache(maxsize=512)
def compile_expression(expression: str) -> ParsedResult:
    """Compile (and cache) a JMESPath expression; raises jmespath's ParseError on bad syntax."""
    return jmespath.compile(expression)


def search(expression: str, document: Any) -> Any:
    return compile_expression(expression).search(document, options=_OPTIONS)

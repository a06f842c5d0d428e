"""The one JMESPath module: Carewire's custom functions, compiled once and cached.

`regex_match` patterns are compiled with the `regex` package (imported on first use: ~11 ms) and every
search runs with a time limit, so a backtracking pattern like `(a+)+$` costs a post at most the limit
(the package checks its clock every so many steps: expect up to ~4x the limit) instead of freezing the
process. The loader compiles every pattern at load time and refuses patterns that are not literals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jmespath
from jmespath import functions
from jmespath.parser import ParsedResult

from chalicelib.clock import parse
from chalicelib.policy.compiled import Compiled, compile_ast
from chalicelib.policy.errors import RegexTimeout

if TYPE_CHECKING:
    import regex

REGEX_TIME_LIMIT = 0.02
"""Seconds one `regex_match` search may take; past it the rule is skipped for that post."""


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> regex.Pattern[str]:
    """The compiled, cached pattern (case-insensitive); raises `regex.error` on bad syntax."""
    import regex

    return regex.compile(pattern, regex.IGNORECASE)


def regex_search(pattern: str, text: str, time_limit: float = REGEX_TIME_LIMIT) -> bool:
    """Does `pattern` occur in `text`? Raises RegexTimeout when the search takes longer than `time_limit`."""
    try:
        return compile_regex(pattern).search(text, timeout=time_limit) is not None
    except TimeoutError:
        raise RegexTimeout(pattern, time_limit, len(text)) from None


BusinessHours = Callable[[str, datetime], bool]
"""(calendar name, moment) → inside business hours?"""


class CarewireFunctions(functions.Functions):  # type: ignore[misc]
    """Functions available in every `when`/`unless` expression."""

    def __init__(self, business_hours: BusinessHours | None = None) -> None:
        super().__init__()
        self._business_hours = business_hours

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})  # type: ignore[misc]
    def _func_regex_match(self, text: str | None, pattern: str) -> bool:
        return text is not None and regex_search(pattern, text)

    @functions.signature({"types": ["string", "array", "null"]}, {"types": ["array"]})  # type: ignore[misc]
    def _func_contains_any(self, subject: str | list[Any] | None, candidates: list[Any]) -> bool:
        if subject is None:
            return False
        if isinstance(subject, str):
            lowered = subject.lower()
            return any(isinstance(c, str) and c.lower() in lowered for c in candidates)
        return any(c in subject for c in candidates)

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})  # type: ignore[misc]
    def _func_minutes_since(self, moment: str | None, now: str) -> float | None:
        """Minutes from `moment` to `now` (both ISO-8601); null when `moment` is null."""
        if moment is None:
            return None
        return (parse(now) - parse(moment)).total_seconds() / 60

    @functions.signature({"types": ["string"]}, {"types": ["string"]})  # type: ignore[misc]
    def _func_in_business_hours(self, calendar: str, now: str) -> bool:
        if self._business_hours is None:
            raise ValueError("no calendars are loaded")
        return self._business_hours(calendar, parse(now))


FUNCTIONS = sorted(name[len("_func_") :] for name in dir(CarewireFunctions) if name.startswith("_func_"))
CALENDAR_FUNCTIONS = ("in_business_hours",)
_DEFAULT = jmespath.Options(custom_functions=CarewireFunctions())


def options(business_hours: BusinessHours | None) -> jmespath.Options:
    return jmespath.Options(custom_functions=CarewireFunctions(business_hours))


@lru_cache(maxsize=512)
def compile_expression(expression: str) -> ParsedResult:
    """Compile (and cache) a JMESPath expression; raises jmespath's ParseError on bad syntax."""
    return jmespath.compile(expression)


@lru_cache(maxsize=512)
def _closure(expression: str) -> Compiled | None:
    return compile_ast(compile_expression(expression).parsed)


def search(expression: str, document: Any, with_options: jmespath.Options | None = None) -> Any:
    chosen = with_options or _DEFAULT
    closure = _closure(expression)
    if closure is not None:
        return closure(document, chosen.custom_functions)
    return compile_expression(expression).search(document, options=chosen)


def interpret(expression: str, document: Any, with_options: jmespath.Options | None = None) -> Any:
    """jmespath's own interpreter, always: the reference the compiled closures are tested against."""
    return compile_expression(expression).search(document, options=with_options or _DEFAULT)

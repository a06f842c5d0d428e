"""Policy errors: author errors found at load time, apart from errors at evaluation time."""

from __future__ import annotations


class PolicyError(Exception):
    """A policy file is wrong. The message locates it: file, rule, field, and what is valid."""

    def __init__(self, file: str, message: str, rule: str | None = None, field: str | None = None) -> None:
        self.file, self.rule, self.field, self.detail = file, rule, field, message
        where = file + (f": rule {rule!r}" if rule else "") + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}")


class PolicyErrors(Exception):
    """Every author error found in one load, so an operator fixes them in one pass."""

    def __init__(self, errors: list[PolicyError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class EvaluationError(Exception):
    """A rule's expression failed on a post at run time."""


class RegexTimeout(EvaluationError):
    """A `regex_match` search ran past its time limit: the rule is skipped for this post."""

    def __init__(self, pattern: str, limit: float, length: int) -> None:
        self.pattern, self.limit, self.length = pattern, limit, length
        super().__init__(f"regex {pattern!r} ran past its {limit * 1000:g} ms limit on a {length}-character text")

"""Policy errors: author errors found at load time, apart from errors at evaluation time."""

from __future__ import annotations


class PolicyError(Exception):
    """A policy file is wrong. The message locates it: file (and line), rule, field, and what is valid.

    `at` is the error's place in the file's document as keys and indexes (`("rules", 3, "when")`); the
    check turns it into `line` when it reports (`policy.check`), so loading pays nothing for lines.
    """

    def __init__(
        self,
        file: str,
        message: str,
        rule: str | None = None,
        field: str | None = None,
        line: int | None = None,
        at: tuple[str | int, ...] | None = None,
        kind: str = "rule",
    ) -> None:
        """`rule`: the name of the rule (or, with `kind="case"`, the policy test case) the error is in."""
        self.file, self.rule, self.field, self.detail, self.line, self.at = file, rule, field, message, line, at
        self.kind = kind
        super().__init__(message)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        where += (f": {self.kind} {self.rule!r}" if self.rule else "") + (f": {self.field}" if self.field else "")
        return f"{where}: {self.detail}"


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


class VersionNotFound(LookupError):
    """No recorded policy version by that name (chalicelib/policy/history.py)."""

"""Errors of the escalation queue; app.py maps each to one HTTP status, the CLI to exit 2."""

from __future__ import annotations


class EscalationError(Exception):
    """Base of the family."""


class EscalationNotFound(EscalationError):
    """No escalation with that id: 404."""


class InvalidRequest(EscalationError):
    """Bad input: 400, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class EscalationConflict(EscalationError):
    """The item is not in a state that allows this (claimed by someone else, lease lost, already
    resolved), or every candidate was taken by other agents while claiming: 409."""

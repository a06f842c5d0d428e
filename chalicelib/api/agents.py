"""The agent API: work the escalation queue (issue 6)."""

from __future__ import annotations

from chalice.app import Blueprint

agents = Blueprint(__name__)

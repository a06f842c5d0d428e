"""The notices API: marketers publish service notices (issue 5)."""

from __future__ import annotations

from chalice.app import Blueprint

notices = Blueprint(__name__)

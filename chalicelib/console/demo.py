"""`make run`'s console accounts: a demo agent, marketer and care lead with fresh passwords each run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.identity.accounts import Accounts

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

DEMO_PEOPLE = (
    ("ana", ("agent",), "Asia/Manila"),
    ("mia", ("marketer",), "Asia/Manila"),
    ("lea", ("care_lead", "supervisor"), "Asia/Manila"),
)


def console_welcome(rt: Runtime, base_url: str) -> str:
    """Create (or renew) the demo accounts and say where and how to sign in."""
    accounts = Accounts(rt.dynamodb, rt.settings.table("users"))
    lines = [f"Console: {base_url}/console — sign in as"]
    for name, roles, zone in DEMO_PEOPLE:
        _account, password = accounts.add(name, list(roles), rt.clock(), "demo", zone=zone, replace=True)
        lines.append(f"  {', '.join(roles):<22} user {name:<4} password {password}")
    lines.append("  (new passwords each run; `carewire users add NAME --role agent` adds a person)")
    return "\n".join(lines)

"""Settings resolve argument > environment > default, once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# In the repository policies/ sits beside chalicelib/; in the Lambda package `make package` puts a copy
# inside chalicelib/ (Chalice ships only app.py, chalicelib/ and vendor/).
_POLICY_DIRS = (PACKAGE_DIR.parent / "policies", PACKAGE_DIR / "policies")

TABLES = (
    "decisions",
    "escalations",
    "outbox",
    "parked",
    "idempotency",
    "notices",
    "activity",
    "storms",
    "users",
    "policies",
)
"""Logical table names; `infra/resources.yaml` defines each as `<Name>Table` (e.g. DecisionsTable)."""


def _default_policies_dir() -> Path:
    for candidate in _POLICY_DIRS:
        if candidate.is_dir():
            return candidate
    return _POLICY_DIRS[0]


@dataclass(frozen=True)
class Settings:
    stage: str = "local"
    policies_dir: Path = field(default_factory=_default_policies_dir)
    home: Path = Path(".carewire")
    """Local state: DynamoDB Local data, development secrets."""
    intake_queue_url: str | None = None
    """SQS queue URL; None means the in-process queue (local runs and tests)."""
    max_body_bytes: int = 1_000_000
    table_names: dict[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.stage == "local"

    def table(self, logical: str) -> str:
        if logical not in TABLES:
            raise KeyError(f"unknown table {logical!r}; known: {', '.join(TABLES)}")
        return self.table_names.get(logical) or f"carewire-{self.stage}-{logical}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        stage = env.get("CAREWIRE_STAGE", "local")
        names = {t: env[f"CAREWIRE_{t.upper()}_TABLE"] for t in TABLES if env.get(f"CAREWIRE_{t.upper()}_TABLE")}
        return cls(
            stage=stage,
            policies_dir=Path(env["CAREWIRE_POLICIES_DIR"])
            if env.get("CAREWIRE_POLICIES_DIR")
            else _default_policies_dir(),
            home=Path(env.get("CAREWIRE_HOME", ".carewire")),
            intake_queue_url=env.get("CAREWIRE_INTAKE_QUEUE_URL") or None,
            max_body_bytes=int(env.get("CAREWIRE_MAX_BODY_BYTES", "1000000")),
            table_names=names,
        )

"""Deployed stages: the checked-in settings per stage (`stages/<name>.yaml`) and the outputs a deploy records
(`.carewire/stages/<name>.json`), which every command run with `--stage NAME` reads instead of guessing names."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
"""The values CloudWatch Logs accepts for a log group's retention."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["region", "log_level", "log_retention_days"],
    "properties": {
        "region": {"type": "string", "pattern": "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"},
        "profile": {"type": ["string", "null"], "minLength": 1},
        "stack_name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]{0,127}$"},
        "log_level": {"enum": list(LOG_LEVELS)},
        "log_retention_days": {"enum": list(RETENTION_DAYS)},
        "alarm_email": {"type": ["string", "null"], "pattern": "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"},
        "api_memory_mb": {"type": "integer", "minimum": 128, "maximum": 10240},
        "processor_memory_mb": {"type": "integer", "minimum": 128, "maximum": 10240},
        "processor_reserved_concurrency": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
    },
}


class StageError(ValueError):
    """A stage file is missing or invalid; the message names the file and the field."""


class StageNotDeployed(LookupError):
    """No outputs are recorded for the stage on this machine."""


@dataclass(frozen=True)
class StageSettings:
    name: str
    region: str
    log_level: str
    log_retention_days: int
    profile: str | None = None
    stack_name: str = ""
    alarm_email: str | None = None
    api_memory_mb: int = 256
    processor_memory_mb: int = 512
    processor_reserved_concurrency: int | None = None

    @property
    def stack(self) -> str:
        return self.stack_name or f"carewire-{self.name}"

    @property
    def secrets_path(self) -> str:
        """The SSM path under which this stage's channel secrets live."""
        return f"/carewire/{self.name}"

    def parameters(self) -> dict[str, str]:
        """CloudFormation parameters of infra/resources.yaml for this stage."""
        return {
            "Stage": self.name,
            "LogLevel": self.log_level,
            "LogRetentionDays": str(self.log_retention_days),
            "AlarmEmail": self.alarm_email or "",
            "ApiMemory": str(self.api_memory_mb),
            "ProcessorMemory": str(self.processor_memory_mb),
            "ProcessorReservedConcurrency": str(self.processor_reserved_concurrency or 0),
        }


def stages_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    return Path(env.get("CAREWIRE_STAGES_DIR", "stages"))


def load_stage(name: str, directory: Path | None = None) -> StageSettings:
    """Read and validate `<directory>/<name>.yaml`: YAML, then the schema (every field named, valid values listed)."""
    import jsonschema

    directory = directory or stages_dir()
    if not STAGE_NAME.match(name) or name == "local":
        raise StageError(f"stage name {name!r}: lowercase letters, digits and '-', not 'local'")
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []
        raise StageError(f"{path}: no such stage file; known stages: {', '.join(known) or '(none)'}")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StageError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise StageError(f"{path}: must be a mapping of settings")
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        raise StageError("; ".join(f"{path}: {_where(e)}: {_what(e)}" for e in errors))
    return StageSettings(name=name, **doc)


def _where(error: Any) -> str:
    return ".".join(str(p) for p in error.path) or "(top level)"


def _what(error: Any) -> str:
    if error.validator == "enum":
        return f"{error.instance!r} is not valid; valid: {', '.join(map(str, error.validator_value))}"
    if error.validator == "additionalProperties":
        return f"{error.message}; valid: {', '.join(sorted(SCHEMA['properties']))}"
    return str(error.message)


@dataclass(frozen=True)
class StageOutputs:
    """What a deploy learned from the stack: every name and URL the other commands need."""

    stage: str
    stack_name: str
    region: str
    profile: str | None = None
    api_url: str = ""
    webhook_urls: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The environment the runtime reads its table and queue names from (as in Lambda)."""
        env = {f"CAREWIRE_{logical.upper()}_TABLE": name for logical, name in self.tables.items()}
        env["AWS_DEFAULT_REGION"] = self.region
        if self.queues.get("intake"):
            env["CAREWIRE_INTAKE_QUEUE_URL"] = self.queues["intake"]
        if self.profile:
            env["AWS_PROFILE"] = self.profile
        return env


def outputs_path(home: Path, stage: str) -> Path:
    return home / "stages" / f"{stage}.json"


def read_outputs(home: Path, stage: str) -> StageOutputs:
    path = outputs_path(home, stage)
    if not path.exists():
        raise StageNotDeployed(
            f"stage {stage!r} has no recorded outputs ({path}); deploy it with: carewire deploy --stage {stage}"
        )
    return StageOutputs(**json.loads(path.read_text(encoding="utf-8")))


def write_outputs(home: Path, outputs: StageOutputs) -> Path:
    path = outputs_path(home, outputs.stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(outputs), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path

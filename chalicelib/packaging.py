"""Build the deployment artefact: Chalice's SAM template merged with infra/resources.yaml.

Chalice ships only app.py, chalicelib/ and vendor/, so policies/ is copied into chalicelib/policies
(where `settings` looks for it in Lambda). Tools that only run locally (the CLI, the local stack) stay out.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL_ONLY = ("local", "cli.py", "packaging.py", "__pycache__", "*.pyc")


class PackagingError(RuntimeError):
    pass


def _chalice() -> str:
    beside = Path(sys.executable).parent / "chalice"
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise PackagingError("the chalice command is not installed (make install)")
    return found


def _validate(policies: Path) -> None:
    """What `carewire policies check` checks, here (what it refuses, the package refuses); the digest lets
    Lambda skip the schema pass on files that still match."""
    from chalicelib.policy.check import check_policies
    from chalicelib.policy.loader import VALIDATED_MARK, policy_digest

    policy, errors = check_policies(policies)
    if errors or policy is None:
        listed = "\n".join(str(e) for e in errors)
        raise PackagingError(f"the policies do not validate (carewire policies check):\n{listed}")
    (policies / VALIDATED_MARK).write_text(policy_digest(policies) + "\n", encoding="utf-8")


def package(out: Path, stage: str = "dev", root: Path = ROOT) -> Path:
    """Write `<out>/cfn/sam.yaml` and `deployment.zip`; returns the template's path."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(root / "app.py", src / "app.py")
    shutil.copy2(root / "requirements.txt", src / "requirements.txt")
    shutil.copytree(root / ".chalice", src / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    shutil.copytree(root / "chalicelib", src / "chalicelib", ignore=shutil.ignore_patterns(*LOCAL_ONLY, "policies"))
    shutil.copytree(root / "policies", src / "chalicelib" / "policies", ignore=shutil.ignore_patterns("tests"))
    _validate(src / "chalicelib" / "policies")
    target = out / "cfn"
    if target.exists():
        shutil.rmtree(target)
    done = subprocess.run(
        [
            _chalice(),
            "package",
            "--stage",
            stage,
            "--pkg-format",
            "cloudformation",
            "--template-format",
            "yaml",
            "--merge-template",
            str(root / "infra" / "resources.yaml"),
            str(target.resolve()),
        ],
        cwd=src,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return target / "sam.yaml"

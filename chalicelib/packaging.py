"""Build the deployment artefact: Chalice's SAM template merged with infra/resources.yaml.

Chalice ships only app.py, chalicelib/ and vendor/, so policies/ is copied into chalicelib/policies
(where `settings` looks for it in Lambda). Tools that only run locally (the CLI, the local stack) stay out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL_ONLY = ("local", "cli", "packaging.py", "__pycache__", "*.pyc")
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "python_dateutil", "six"})
"""Top-level modules (and their dist-info) the Lambda Python runtime already ships — boto3, botocore and their
dependencies — left out of deployment.zip, which they would otherwise make about three times larger."""


class PackagingError(RuntimeError):
    pass


def _chalice() -> str:
    beside = Path(sys.executable).parent / "chalice"
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise PackagingError("the chalice command is not installed (make install)")
    return found


def validate_policies(policies: Path) -> None:
    """What `carewire policies check` checks, here (what it refuses, the package refuses); the digest lets
    Lambda skip the schema pass on files that still match, and the compiled lexicon (`lexicon.COMPILED`) lets it
    read JSON instead of parsing YAML. Raises `PackagingError` with the findings."""
    from chalicelib.classify.lexicon import compile_lexicon
    from chalicelib.policy.check import check_policies
    from chalicelib.policy.loader import VALIDATED_MARK, policy_digest

    policy, errors = check_policies(policies)
    if errors or policy is None:
        listed = "\n".join(str(e) for e in errors)
        raise PackagingError(f"the policies do not validate (carewire policies check):\n{listed}")
    (policies / VALIDATED_MARK).write_text(policy_digest(policies) + "\n", encoding="utf-8")
    if (policies / "lexicon").is_dir():
        compile_lexicon(policies / "lexicon")


def _runtime_provided(name: str) -> bool:
    top = name.split("/", 1)[0]
    distribution = re.sub(r"(-[^-]+\.(dist-info|data)|\.py)$", "", top)
    return distribution.lower() in RUNTIME_PROVIDED


def slim_zip(path: Path) -> tuple[int, int]:
    """Drop what the Lambda runtime provides from deployment.zip; returns its size before and after."""
    before = path.stat().st_size
    slim = path.with_suffix(".slim")
    with zipfile.ZipFile(path) as fat, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as out:
        for info in fat.infolist():
            if not _runtime_provided(info.filename):
                out.writestr(info, fat.read(info))
    slim.replace(path)
    return before, path.stat().st_size


def _alias_api_handler(template: Path) -> None:
    """API Gateway invokes APIHandler's `live` alias (so `carewire rollback` takes effect), not $LATEST."""
    text = template.read_text(encoding="utf-8")
    text = text.replace("${APIHandler.Arn}/invocations", "${APIHandler.Arn}:live/invocations")
    text = text.replace("FunctionName:\n        Ref: APIHandler\n", "FunctionName:\n        Ref: APIHandler.Alias\n")
    template.write_text(text, encoding="utf-8")


def package(out: Path, stage: str = "dev", root: Path = ROOT, say: Callable[[str], None] = lambda _line: None) -> Path:
    """Write `<out>/cfn/sam.yaml` and `deployment.zip`; returns the template's path."""
    say("packaging: copying app.py, chalicelib/ and policies/ (the CLI and the local stack stay out)")
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(root / "app.py", src / "app.py")
    shutil.copy2(root / "requirements.txt", src / "requirements.txt")
    shutil.copytree(root / ".chalice", src / ".chalice", ignore=shutil.ignore_patterns("deployments", "deployed"))
    shutil.copytree(root / "chalicelib", src / "chalicelib", ignore=shutil.ignore_patterns(*LOCAL_ONLY, "policies"))
    shutil.copytree(root / "policies", src / "chalicelib" / "policies", ignore=shutil.ignore_patterns("tests"))
    validate_policies(src / "chalicelib" / "policies")
    target = out / "cfn"
    if target.exists():
        shutil.rmtree(target)
    say("packaging: chalice package (downloads Lambda wheels on the first run; about 20 s)")
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
        # `chalice package` makes no AWS call but refuses to run without a region; the template is region-free.
        env={**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    before, after = slim_zip(target / "deployment.zip")
    say(f"packaging: deployment.zip {before / 1e6:.1f} MB → {after / 1e6:.1f} MB without what the runtime provides")
    _alias_api_handler(target / "sam.yaml")
    return target / "sam.yaml"

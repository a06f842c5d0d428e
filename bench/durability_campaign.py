"""Durability campaign against the real local stack: does "accepted" (HTTP 200) mean persisted?

    .venv/bin/python bench/durability_campaign.py [--posts 600] [--burst 2000] [--repo PATH]
    .venv/bin/python bench/durability_campaign.py --phases heap [--heap-items 30000] [--heaps 256m,1g]

Each phase starts `carewire serve` as a subprocess on a free port with its own home directory, sends
signed X deliveries (the channel's local development secret, signed as chalicelib/local/demo.py does)
from several sender threads that retry like a platform (503 or a refused connection: again shortly),
and in the middle of the stream:

- server kill -9     kills the server process (kill -9) and starts it again on the same home;
- server SIGTERM     stops it gracefully and starts it again;
- DynamoDB kill -9   kills DynamoDB Local (the server's java child) with kill -9; who restarts it is the
                     stack's business (the server itself, since issue 9);
- burst              no fault: 32 concurrent senders, webhook latency p50/p99 and connection errors.

Then it waits for the stream to settle and counts, per phase: posts accepted (answered 200 at least
once), decided (a decision record) and parked (a parked row naming the post, inline or by reference);
lost = accepted - decided - parked (target 0). 503s are counted, not lost: the platform retries them.
`--repo PATH` runs another checkout's server (e.g. /work/main, for the numbers before a change); the
counting is done here either way. Prints a markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402 - needs the path above

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="ERROR", CAREWIRE_STAGE="local")
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("CAREWIRE_X_CARE_CONSUMER_SECRET", None)

BRAND_ID = "1000000000000000001"
TEXTS = [
    "@bayanitelcares no signal in Quezon City since 6am, please fix this",
    "@bayanitelcares why was I charged twice on my bill this month?",
    "@bayanitelcares thank you, the technician fixed my fiber today!",
    "@bayanitelcares my phone keeps dropping calls after the update",
    "@bayanitelcares I want to cancel my plan, this is the third outage this week",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def delivery(post_id: str, n: int) -> bytes:
    text = TEXTS[n % len(TEXTS)]
    at = text.find("@bayanitelcares")
    author = str(3_000_000 + n)
    tweet = {
        "id_str": post_id,
        "text": text,
        "timestamp_ms": str(int(time.time() * 1000)),
        "user": {"id_str": author, "screen_name": f"customer{n}", "name": f"Customer {n}"},
        "entities": {
            "user_mentions": [{"screen_name": "bayanitelcares", "id_str": BRAND_ID, "indices": [at, at + 15]}]
        },
    }
    return json.dumps({"for_user_id": BRAND_ID, "tweet_create_events": [tweet]}).encode()


def free_port() -> int:
    from chalicelib.local.dynamodb_local import free_port as pick

    return pick()


class Server:
    """`carewire serve` of a checkout, as a subprocess on one port and home."""

    def __init__(self, repo: Path, home: Path, port: int) -> None:
        self.repo, self.home, self.port = repo, home, port
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home.parent / f"{home.name}-serve.log"

    def start(self, timeout: float = 90) -> None:
        python = self.repo / ".venv" / "bin" / "python"
        env = dict(os.environ, CAREWIRE_HOME=str(self.home))
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(python), "-m", "chalicelib.cli", "serve", "--port", str(self.port)],
                cwd=self.repo,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/webhooks/nope", timeout=1)
            except urllib.error.HTTPError:
                return  # 404: serving
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited with {self.process.returncode}; see {self.log}") from None
                time.sleep(0.2)
        raise RuntimeError(f"serve did not answer within {timeout} s; see {self.log}")

    def signal(self, sig: int, within: float = 60) -> bool:
        """Send `sig` and wait for the exit; False if it had to be killed after `within` seconds."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=within)
            return True
        except subprocess.TimeoutExpired:
            for pid in self.java_children():
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=30)
            return False

    def java_children(self) -> list[int]:
        assert self.process is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and b"java" in cmdline:
                found.append(int(stat.parent.name))
        return found

    def endpoint(self) -> str:
        return str(json.loads((self.home / "dynamodb.json").read_text())["endpoint"])


@dataclass
class Tally:
    accepted: set[str] = field(default_factory=set)
    answers: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.answers[what] = self.answers.get(what, 0) + 1


def send_all(
    url: str, secret: str, posts: list[str], senders: int, tally: Tally, on_progress: Any = None, retry_for: float = 120
) -> None:
    from chalicelib.channels.x import PLATFORM

    work: queue.Queue[tuple[int, str]] = queue.Queue()
    for n, post_id in enumerate(posts):
        work.put((n, post_id))

    def sender() -> None:
        while True:
            try:
                n, post_id = work.get_nowait()
            except queue.Empty:
                return
            body = delivery(post_id, n)
            headers = {"Content-Type": "application/json", **PLATFORM.sign(body, secret)}
            deadline = time.monotonic() + retry_for
            while time.monotonic() < deadline:
                started = time.perf_counter()
                request = urllib.request.Request(url, data=body, method="POST", headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except (OSError, http.client.HTTPException) as exc:
                    tally.count(f"conn:{type(getattr(exc, 'reason', exc)).__name__}")
                    time.sleep(0.2)
                    continue
                with tally.lock:
                    tally.latencies.append(time.perf_counter() - started)
                tally.count(str(status))
                if status == 200:
                    with tally.lock:
                        tally.accepted.add(post_id)
                    if on_progress:
                        on_progress(len(tally.accepted))
                    break
                if status < 500:
                    break
                time.sleep(0.2)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def answers(endpoint: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint, timeout=1)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def settle(endpoint: str, home: Path, posts: set[str], timeout: float) -> tuple[int, int]:
    """Wait until every accepted post is decided or parked (or the timeout); (decided, parked)."""
    import boto3

    from chalicelib.settings import Settings
    from chalicelib.store.blobs import FileBlobs, resolve_message
    from chalicelib.store.dynamo import Store

    settings = Settings.from_env(dict(os.environ, CAREWIRE_HOME=str(home)))
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    store = Store(client, settings, FileBlobs(home / "blobs"))
    keys = {f"x#{p}" for p in posts}
    decided: set[str] = set()
    parked: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        for key in sorted(keys - decided - parked):
            try:
                if store.decision(key) is not None:
                    decided.add(key)
            except Exception:  # noqa: BLE001 - DynamoDB Local restarting: look again
                time.sleep(0.5)
        if keys - decided:
            try:
                for row in store.parked():
                    message = resolve_message(json.loads(row["message"]), store.blobs)
                    post_id = message.get("payload", {}).get("event", {}).get("id_str")
                    if post_id:
                        parked.add(f"x#{post_id}")
            except Exception:  # noqa: BLE001
                pass
        if not keys - decided - parked or time.monotonic() > deadline:
            return len(decided & keys), len((parked - decided) & keys)
        time.sleep(1.0)


def phase(
    name: str, repo: Path, workdir: Path, posts: int, fault: str, senders: int, settle_for: float
) -> dict[str, Any]:
    from chalicelib.channels.config import SecretResolver, load_channels
    from chalicelib.settings import Settings

    home = workdir / name.replace(" ", "-")
    home.mkdir(parents=True)
    settings = Settings.from_env(dict(os.environ, CAREWIRE_HOME=str(home)))
    channel = load_channels(settings.policies_dir / "channels.yaml")["x-care"]
    secret = SecretResolver(settings, env={}).development_secret(channel)  # serve reads the same file
    server = Server(repo, home, free_port())
    server.start()
    url = f"http://127.0.0.1:{server.port}{channel.webhook_path}"
    tag = f"{int(time.time())}{random.randint(100, 999)}"
    ids = [f"{tag}{n:05d}" for n in range(posts)]
    tally = Tally()
    fired = threading.Event()
    notes: list[str] = []

    def inject_safely() -> None:
        try:
            inject()
        except Exception as exc:  # noqa: BLE001 - reported in the table, the phase goes on
            notes.append(f"fault injection failed: {type(exc).__name__}: {exc}")

    injector = threading.Thread(target=inject_safely, daemon=True)

    def fault_at(accepted: int) -> None:
        with tally.lock:
            if fault == "none" or fired.is_set() or accepted < posts * 0.4:
                return
            fired.set()
        injector.start()

    def inject() -> None:
        started = time.monotonic()
        accepted_then = len(tally.accepted)
        if fault in ("kill-server", "term-server"):
            if not server.signal(signal.SIGKILL if fault == "kill-server" else signal.SIGTERM):
                notes.append("did not stop within 60 s of SIGTERM: killed")
            for pid in server.java_children():  # an orphaned DynamoDB Local would hold the data files
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            server.start()
        elif fault == "kill-dynamodb":
            for pid in server.java_children():
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            if not answers(server.endpoint(), within=60):
                notes.append("DynamoDB Local not back within 60 s")
        notes.append(f"{fault} at {accepted_then} accepted, back in {time.monotonic() - started:.1f} s")

    started = time.perf_counter()
    send_all(url, secret, ids, senders, tally, fault_at)
    sent_s = time.perf_counter() - started
    if fired.is_set():
        injector.join()  # the fault (and the restart) is over before counting
    decided, parked = settle(server.endpoint(), home, tally.accepted, settle_for)
    server.signal(signal.SIGTERM)
    accepted = len(tally.accepted)
    return {
        "phase": name,
        "posts": posts,
        "senders": senders,
        "accepted": accepted,
        "503": tally.answers.get("503", 0),
        "other": sum(v for k, v in tally.answers.items() if k not in ("200", "503")),
        "decided": decided,
        "parked": parked,
        "lost": accepted - decided - parked,
        "p50_ms": pct(tally.latencies, 0.50) * 1000,
        "p99_ms": pct(tally.latencies, 0.99) * 1000,
        "rate": len(tally.latencies) / sent_s,
        "detail": ", ".join([*notes, *(f"{k}: {v}" for k, v in sorted(tally.answers.items()) if k != "200")]),
    }


def heap_check(workdir: Path, items: int, heaps: list[str], item_kb: int = 3) -> list[str]:
    """Write `items` decision-sized items (`item_kb` KB) to a file-backed DynamoDB Local with each heap size and
    scan them all, as `decisions list` does: does the heap hold the local data?"""
    import boto3

    from chalicelib.local.dynamodb_local import DynamoDBLocal

    lines = []
    padding = "customer care text " * (item_kb * 1024 // 19)
    for heap in heaps:
        os.environ["CAREWIRE_DYNAMODB_LOCAL_HEAP"] = heap
        data = workdir / f"heap-{heap}"
        with DynamoDBLocal(data_dir=data) as server:
            client = boto3.client("dynamodb", endpoint_url=server.endpoint)
            client.create_table(
                TableName="decisions",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "post_key", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "post_key", "KeyType": "HASH"}],
            )
            started = time.perf_counter()
            for start in range(0, items, 25):
                requests: list[Any] = [
                    {"PutRequest": {"Item": {"post_key": {"S": f"x#{n}"}, "text": {"S": padding}}}}
                    for n in range(start, min(items, start + 25))
                ]
                client.batch_write_item(RequestItems={"decisions": requests})
            written_s = time.perf_counter() - started
            started = time.perf_counter()
            scanned, outcome = 0, "ok"
            try:
                for page in client.get_paginator("scan").paginate(TableName="decisions"):
                    scanned += len(page.get("Items", []))
            except Exception as exc:  # noqa: BLE001 - the failure is the measurement
                outcome = f"failed: {type(exc).__name__}: {str(exc)[:90]}"
            alive = server._process is not None and server._process.poll() is None
            lines.append(
                f"| {heap} | {items} x {item_kb} KB | {written_s:.0f} s | {scanned} "
                f"| {time.perf_counter() - started:.1f} s "
                f"| {outcome}{'' if alive else ', DynamoDB Local died'} |"
            )
    os.environ.pop("CAREWIRE_DYNAMODB_LOCAL_HEAP", None)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--burst", type=int, default=2000, help="deliveries in the 32-sender burst phase")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the checkout whose server is tested")
    parser.add_argument("--settle", type=float, default=180, help="seconds to wait for decisions")
    parser.add_argument("--phases", default="kill-server,term-server,kill-dynamodb,burst", help="or: heap")
    parser.add_argument("--heap-items", type=int, default=30_000)
    parser.add_argument("--heaps", default="256m,1g")
    parser.add_argument("--heap-item-kb", type=int, default=3)
    args = parser.parse_args()
    plan = {
        "kill-server": ("server kill -9", args.posts, "kill-server", 8),
        "term-server": ("server SIGTERM", args.posts, "term-server", 8),
        "kill-dynamodb": ("DynamoDB kill -9", args.posts, "kill-dynamodb", 8),
        "burst": ("burst", args.burst, "none", 32),
    }
    if args.phases == "heap":
        with tempfile.TemporaryDirectory(prefix="carewire-heap-") as tmp:
            lines = heap_check(Path(tmp), args.heap_items, args.heaps.split(","), args.heap_item_kb)
        print("\n| heap | items | written in | scanned | scan time | outcome |\n|---|---|---|---|---|---|")
        print("\n".join(lines))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="carewire-campaign-") as tmp:
        for key in args.phases.split(","):
            name, posts, fault, senders = plan[key]
            print(f"… {name}: {posts} posts, {senders} senders", file=sys.stderr, flush=True)
            rows.append(phase(name, args.repo.resolve(), Path(tmp), posts, fault, senders, args.settle))
        if os.environ.get("CAREWIRE_CAMPAIGN_KEEP"):
            shutil.copytree(tmp, os.environ["CAREWIRE_CAMPAIGN_KEEP"], dirs_exist_ok=True)
    print(f"\nDurability campaign — server from {args.repo.resolve()}\n")
    columns = ["phase", "senders", "posts", "accepted (200)", "503", "other non-200", "decided", "parked"]
    columns += ["**lost**", "p50 ms", "p99 ms", "req/s"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['phase']} | {r['senders']} | {r['posts']} | {r['accepted']} | {r['503']} | {r['other']} | "
            f"{r['decided']} | {r['parked']} | **{r['lost']}** | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['rate']:.0f} |"
        )
    print("\nnon-200 answers and connection errors (senders retry them):")
    for r in rows:
        print(f"- {r['phase']}: {r['detail'] or 'none'}")


if __name__ == "__main__":
    main()

"""Adversarial intake campaign (issue 9): fuzzed signed X deliveries, tampered and CRC-forged deliveries, and
fuzzed agent/notices API calls, all in-process through chalice.test.Client (the API on DynamoDB Local).

    .venv/bin/python bench/intake_campaign.py [--deliveries 10000] [--tampered 2000] [--api 1000] [--seed 9]

Prints a markdown table; nothing is asserted (targets: 0 tampered accepted, 0 5xx, 0 entries dropped).
Log and metric lines go to /dev/null so the table is the whole output.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import json
import logging
import os
import random
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from chalicelib.local.stack import LOCAL_AWS_ENV  # noqa: E402 - needs the path above
from tests.support import json_paths, replace_at  # noqa: E402

os.environ.update(LOCAL_AWS_ENV, POWERTOOLS_LOG_LEVEL="CRITICAL", CAREWIRE_STAGE="local")
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)

SAMPLES_DIR = ROOT / "tests" / "fixtures" / "x"
SECRET = "campaign-consumer-secret"
os.environ["CAREWIRE_X_CARE_CONSUMER_SECRET"] = SECRET
ACTED_ON = ("tweet_create_events", "direct_message_events")
ID_FIELDS = ("id_str", "id", "sender_id", "recipient_id", "in_reply_to_user_id_str", "in_reply_to_status_id_str")


class Recording:
    """The intake queue, in memory: what a delivery enqueued, serialised as SQS and the local queue do."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def send(self, events: Any) -> None:
        for event in events:
            json.dumps(event.to_message())
        self.events.extend(events)


# --- fuzzed signed deliveries -------------------------------------------------------------------------------


def _nest(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _junk(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            rng.randint(-(10**20), 10**20),
            10 ** rng.randint(20, 300),
            rng.random() * 10 ** rng.randint(-5, 300),
            "",
            " ",
            "x" * rng.randint(2049, 4000),
            "\u0000\ud7ff\u202e",
            ["a", 1, None],
            {"id_str": ["unhashable"]},
            {"nested": {"deeper": [{}]}},
            _nest(rng.randint(10, 900)),
        ]
    )


def mutate(doc: Any, rng: random.Random) -> bytes:
    """One fuzzed delivery: 1-3 structural mutations, sometimes a raw-text one the parser must refuse."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        nodes = list(json_paths(doc))
        path, value = rng.choice(nodes)
        op = rng.random()
        if op < 0.35:
            doc = replace_at(doc, path, _junk(rng))
        elif op < 0.55:  # an id field gets a wrong type or size
            id_paths = [p for p, _v in nodes if p and p[-1] in ID_FIELDS]
            if id_paths:
                doc = replace_at(doc, rng.choice(id_paths), _junk(rng))
        elif op < 0.65 and isinstance(doc, dict):
            doc["for_user_id"] = rng.choice([_junk(rng), "42", doc.get("for_user_id")])
        elif op < 0.75 and isinstance(value, dict) and value:
            del value[rng.choice(list(value))]
        elif op < 0.85 and isinstance(value, list) and value:
            value.append(rng.choice(value))  # shared, not copied: deep values would overflow deepcopy
        elif isinstance(doc, dict):
            for key in ACTED_ON:
                if key in doc and isinstance(doc[key], list):
                    doc[key].append(rng.choice(["oops", 7, None, [], {"type": "message_create"}, {}]))
    try:
        raw = json.dumps(doc)
    except RecursionError:  # mutations stacked deep values on deep values: beyond what JSON tools handle
        raw = json.dumps({"for_user_id": "1", "tweet_create_events": [{"deep": _nest(900)}]})
    roll = rng.random()
    if roll < 0.03:
        raw = raw.replace("1", "9" * 5000, 1)  # an integer over Python's 4,300-digit limit
    elif roll < 0.06:
        raw = raw[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    elif roll < 0.08:
        raw = raw[: rng.randint(0, len(raw))]
    elif roll < 0.10:
        data = bytearray(raw.encode())
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return raw.encode()


def _expected_entries(raw: bytes) -> int | None:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    count = 0
    for key in ACTED_ON:
        if key not in doc:
            continue
        value = doc[key]
        if not isinstance(value, list):
            count += 1
            continue
        for entry in value:
            skipped = (
                key == "direct_message_events" and isinstance(entry, dict) and entry.get("type") != "message_create"
            )
            count += not skipped
    return count


def fuzz_deliveries(
    client: Any, rt: Any, queue: Recording, corpus: list[Any], n: int, rng: random.Random
) -> Counter[str]:
    from chalicelib.channels.base import INVALID_KIND
    from chalicelib.channels.errors import MalformedEvent

    platform, channel = rt.platforms["x"], rt.channels["x-care"]
    tally: Counter[str] = Counter()
    for _ in range(n):
        raw = mutate(rng.choice(corpus), rng)
        queue.events.clear()
        response = client.http.post(
            channel.webhook_path, headers={"Content-Type": "application/json", **platform.sign(raw, SECRET)}, body=raw
        )
        tally["sent"] += 1
        tally[f"status {response.status_code}"] += 1
        if response.status_code >= 500:
            tally["5xx"] += 1
        if response.status_code != 200:
            continue
        expected = _expected_entries(raw)
        if expected is not None and expected != len(queue.events):
            tally["entries dropped"] += abs(expected - len(queue.events))
        for event in queue.events:
            tally["events"] += 1
            try:
                platform.normalize(event, channel)
                bad = event.kind == INVALID_KIND
            except MalformedEvent:
                bad = event.kind != INVALID_KIND
                tally["events parked"] += 1
            except Exception:  # noqa: BLE001 - counted: an event the processor would retry, not park
                bad = True
            tally["events misjudged"] += bad
    return tally


# --- tampered deliveries and CRC forgeries --------------------------------------------------------------------


def _crc_signature(client: Any, path: str, token: str) -> str | None:
    response = client.http.get(f"{path}?{urlencode({'crc_token': token})}")
    if response.status_code == 200:
        return str(response.json_body["response_token"])
    return None


def tamper(client: Any, rt: Any, queue: Recording, corpus: list[Any], n: int, rng: random.Random) -> Counter[str]:
    """Deliveries that must all be refused at the signature check (any status but 401 counts as accepted)."""
    platform, channel = rt.platforms["x"], rt.channels["x-care"]
    path = channel.webhook_path
    tally: Counter[str] = Counter()
    kinds = ["flip", "other-secret", "missing", "other-body", "truncated", "case", "hex", "crc-body", "crc-scalar"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        body = json.dumps(rng.choice(corpus)).encode()
        good = platform.sign(body, SECRET)[platform.signature_header]
        headers = {"Content-Type": "application/json"}
        if kind == "flip":
            spot = rng.randrange(len(body))
            body = body[:spot] + bytes([body[spot] ^ (1 << rng.randrange(8))]) + body[spot + 1 :]
            headers[platform.signature_header] = good
        elif kind == "other-secret":
            headers.update(platform.sign(body, SECRET + "x"))
        elif kind == "other-body":
            headers.update(platform.sign(body + b" ", SECRET))
        elif kind == "truncated":
            headers[platform.signature_header] = good[: rng.randrange(len(good))]
        elif kind == "case":
            headers[platform.signature_header] = good.swapcase()
        elif kind == "hex":
            digest = base64.b64decode(good.removeprefix("sha256="))
            headers[platform.signature_header] = "sha256=" + digest.hex()
        elif kind == "crc-body":  # the issue-9 attack: have the CRC sign the delivery body itself
            tally["crc asked"] += 1
            forged = _crc_signature(client, path, body.decode())
            tally["crc answered"] += forged is not None
            headers[platform.signature_header] = forged or "sha256="
        elif kind == "crc-scalar":  # bodies in the token alphabet that json.loads still accepts
            body = rng.choice([b"123", b"-7", b"1e5", b"true", b"null", b"NaN", b"Infinity"])
            tally["crc asked"] += 1
            forged = _crc_signature(client, path, body.decode())
            tally["crc answered"] += forged is not None
            headers[platform.signature_header] = forged or "sha256="
        queue.events.clear()
        response = client.http.post(path, headers=headers, body=body)
        tally["sent"] += 1
        tally["5xx"] += response.status_code >= 500
        if response.status_code != 401:
            tally["accepted"] += 1
            tally[f"accepted {kind}"] += 1
    return tally


def crc_budget(client: Any, path: str, calls: int) -> Counter[str]:
    return Counter(f"status {client.http.get(f'{path}?crc_token=token{n}').status_code}" for n in range(calls))


# --- fuzzed API calls ----------------------------------------------------------------------------------------

ROUTES = [
    ("get", "/agent/escalations/{id}", "agent"),
    ("post", "/agent/escalations/{id}/renew", "agent"),
    ("post", "/agent/escalations/{id}/requeue", "agent"),
    ("post", "/agent/escalations/{id}/resolve", "supervisor"),
    ("post", "/agent/escalations/{id}/transfer", "supervisor"),
    ("post", "/agent/escalations/{id}/notes", "agent"),
    ("post", "/agent/escalations/{id}/reply", "agent"),
    ("get", "/agent/queues/{id}", "agent"),
    ("post", "/agent/queues/{id}/claim", "agent"),
    ("get", "/agent/mine", "agent"),
    ("get", "/agent/stats", "supervisor"),
    ("get", "/notices/{id}", "marketer"),
    ("patch", "/notices/{id}", "marketer"),
    ("post", "/notices/{id}/publish", "marketer"),
    ("post", "/notices/{id}/resolve", "marketer"),
    ("post", "/notices/{id}/expire", "marketer"),
    ("post", "/notices", "marketer"),
    ("get", "/notices", "marketer"),
]


def _api_body(rng: random.Random) -> str:
    fields = ["version", "text", "outcome", "queue", "note", "private", "title", "body", "kind", "id", "regions"]
    roll = rng.random()
    if roll < 0.1:
        depth = rng.randint(33, 6000)
        return "[" * depth + "]" * depth
    if roll < 0.2:
        depth = rng.randint(20, 3000)
        return '{"text": ' + "[" * depth + "]" * depth + "}"
    if roll < 0.25:
        return '{"version": ' + "9" * rng.randint(4000, 6000) + "}"
    if roll < 0.3:
        return rng.choice(["", "null", '"x"', "7", "{", "[]", "\u0000"])
    doc = {
        name: _junk(rng) if rng.random() < 0.5 else rng.choice([1, "network", "done", "hi", True])
        for name in rng.sample(fields, rng.randint(0, 5))
    }
    try:
        return json.dumps(doc)
    except ValueError:
        return "{}"


def _api_id(rng: random.Random, known: list[str]) -> str:
    return rng.choice(
        [
            rng.choice(known) if known else "esc-1",
            "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 30))),
            "x" * rng.randint(257, 4000),
            "é" * rng.randint(100, 1500),
            "network",
            "../../etc",
        ]
    )


def fuzz_api(client: Any, rt: Any, n: int, rng: random.Random, known: list[str]) -> Counter[str]:
    from chalicelib.auth import local_tokens

    tokens = local_tokens(rt.settings)
    tally: Counter[str] = Counter()
    for _ in range(n):
        method, template, role = rng.choice(ROUTES)
        path = template.replace("{id}", quote(_api_id(rng, known), safe=""))
        if rng.random() < 0.2:
            path += "?" + urlencode(
                {rng.choice(["limit", "days", "status"]): rng.choice(["-1", "0", "9" * 30, "zz", "open"])}
            )
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[role]}"}
        response = getattr(client.http, method)(path, headers=headers, body=_api_body(rng))
        tally["sent"] += 1
        tally[f"status {response.status_code}"] += 1
        tally["5xx"] += response.status_code >= 500
    return tally


def _seed_api(client: Any, rt: Any) -> list[str]:
    """A few escalations (through the real pipeline) and a notice, so some fuzzed ids exist."""
    from chalicelib.auth import local_tokens

    platform, channel = rt.platforms["x"], rt.channels["x-care"]
    brand = channel.brand_ids[0]
    for n in range(5):
        text = "@bayanitelcares no signal in Quezon City since 6am, please fix this"
        tweet = {"id_str": f"77{n}", "text": text, "user": {"id_str": f"5{n}", "screen_name": f"c{n}"}}
        tweet["entities"] = {"user_mentions": [{"screen_name": "bayanitelcares", "id_str": brand, "indices": [0, 15]}]}
        body = json.dumps({"for_user_id": brand, "tweet_create_events": [tweet]}).encode()
        client.http.post(
            channel.webhook_path, headers={"Content-Type": "application/json", **platform.sign(body, SECRET)}, body=body
        )
    join = getattr(rt.queue, "join", None)
    if join is not None:
        join()
    notice = {
        "id": "outage-qc",
        "kind": "outage",
        "title": {"en": "Outage"},
        "body": {"en": "Fibre cut."},
        "regions": ["qc"],
    }
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {local_tokens(rt.settings)['marketer']}"}
    client.http.post("/notices", headers=headers, body=json.dumps(notice))
    return [e["escalation_id"] for e in rt.store.escalations()] + ["outage-qc"]


# --- main ----------------------------------------------------------------------------------------------------


def _corpus(brand_id: str) -> list[Any]:
    from chalicelib.local.demo import build_deliveries

    docs = [json.loads(d.body) for d in build_deliveries()]
    for sample in sorted(SAMPLES_DIR.glob("*.json")):
        doc = json.loads(sample.read_bytes())
        if isinstance(doc, dict) and "for_user_id" in doc:
            doc["for_user_id"] = brand_id
        docs.append(doc)
    return docs


def webhook_campaign(home: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    from chalice.test import Client

    from app import app
    from chalicelib import runtime as runtime_module
    from chalicelib.intake import ChallengeLimiter, Intake
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings

    queue = Recording()
    rt = Runtime(Settings(stage="local", home=Path(home)), queue_factory=lambda _rt: queue)
    # the CRC format check is what stops forgeries: measure it without the rate limit in the way
    rt.__dict__["intake"] = Intake(
        channels=rt.channels,
        platforms=rt.platforms,
        secrets=rt.secrets,
        queue=queue,
        clock=rt.clock,
        max_body_bytes=rt.settings.max_body_bytes,
        challenge_limiter=ChallengeLimiter(burst=10**9, per_minute=1e12),
    )
    runtime_module.use(rt)
    corpus = _corpus(rt.channels["x-care"].brand_ids[0])
    result: dict[str, Any] = {}
    with Client(app, stage_name="local") as client:
        started = time.perf_counter()
        result["fuzzed"] = fuzz_deliveries(client, rt, queue, corpus, args.deliveries, rng)
        result["fuzz_s"] = time.perf_counter() - started
        started = time.perf_counter()
        result["tampered"] = tamper(client, rt, queue, corpus, args.tampered, rng)
        result["tamper_s"] = time.perf_counter() - started
    runtime_module.use(Runtime(Settings(stage="local", home=Path(home)), queue_factory=lambda _rt: Recording()))
    with Client(app, stage_name="local") as client:
        result["budget"] = crc_budget(client, "/webhooks/x-care", 50)
    runtime_module.use(None)
    return result


def api_campaign(home: str, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    from chalice.test import Client

    from app import app
    from chalicelib import runtime as runtime_module
    from chalicelib.local.dynamodb_local import DynamoDBLocal
    from chalicelib.runtime import Runtime
    from chalicelib.settings import TABLES, Settings
    from chalicelib.store.tables import create_tables

    with DynamoDBLocal() as ddb:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        names = {t: f"campaign-{t}" for t in TABLES}
        rt = Runtime(Settings(stage="local", home=Path(home), table_names=names))
        create_tables(rt.dynamodb, rt.settings)
        runtime_module.use(rt)
        with Client(app, stage_name="local") as client:
            known = _seed_api(client, rt)
            started = time.perf_counter()
            api = fuzz_api(client, rt, args.api, rng, known)
            api_s = time.perf_counter() - started
        close = getattr(rt.__dict__.get("queue"), "close", None)
        if close is not None:
            close()
    runtime_module.use(None)
    return {"api": api, "api_s": api_s}


def _statuses(tally: Counter[str]) -> str:
    return ", ".join(f"{k[7:]}: {v}" for k, v in sorted(tally.items()) if k.startswith("status "))


def print_table(hooks: dict[str, Any], apis: dict[str, Any]) -> None:
    fuzzed, tampered, api = hooks["fuzzed"], hooks["tampered"], apis["api"]
    forged = {k: v for k, v in tampered.items() if k.startswith("accepted ")}
    rows = [
        ("fuzzed signed X deliveries", fuzzed["sent"], f"5xx {fuzzed['5xx']}; {_statuses(fuzzed)}", hooks["fuzz_s"]),
        (
            "  events they enqueued",
            fuzzed["events"],
            f"entries dropped {fuzzed['entries dropped']}; to be parked {fuzzed['events parked']:,}; "
            f"misjudged {fuzzed['events misjudged']}",
            None,
        ),
        (
            "tampered deliveries (9 kinds, CRC forgeries included)",
            tampered["sent"],
            f"accepted {tampered['accepted']} {forged or ''}; 5xx {tampered['5xx']}",
            hooks["tamper_s"],
        ),
        (
            "  CRC requests to forge a signature",
            tampered["crc asked"],
            f"answered {tampered['crc answered']} (JSON bodies and JSON scalars as crc_token)",
            None,
        ),
        ("CRC budget: 50 calls, one channel, default limiter", 50, _statuses(hooks["budget"]), None),
        (
            "fuzzed agent/notices API calls (DynamoDB Local)",
            api["sent"],
            f"5xx {api['5xx']}; {_statuses(api)}",
            apis["api_s"],
        ),
    ]
    total = fuzzed["sent"] + tampered["sent"] + tampered["crc asked"] + api["sent"] + 50
    five = fuzzed["5xx"] + tampered["5xx"] + api["5xx"]
    seconds = hooks["fuzz_s"] + hooks["tamper_s"] + apis["api_s"]
    print("| campaign | sent | result | time |\n|---|---:|---|---:|")
    for name, sent, result, spent in rows:
        print(f"| {name} | {sent:,} | {result} | {'' if spent is None else f'{spent:.1f} s'} |")
    print(
        f"| **total requests** | {total:,} | tampered accepted {tampered['accepted']}, 5xx {five} | {seconds:.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--tampered", type=int, default=2_000)
    parser.add_argument("--api", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as home, open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        hooks = webhook_campaign(home, args, rng)
        apis = api_campaign(home, args, rng)
    print_table(hooks, apis)


if __name__ == "__main__":
    main()

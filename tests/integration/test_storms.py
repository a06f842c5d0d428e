"""Storm detection and incidents on DynamoDB Local."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.escalations.sweep import LogAlerts
from chalicelib.incidents.setup import IncidentSetup
from chalicelib.incidents.storms import StormConfig, StormWatch
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.runtime import Runtime
from chalicelib.store.dynamo import from_item
from tests.conftest import X_SECRET, FixedClock
from tests.support import mention_delivery, x_headers

pytestmark = pytest.mark.filterwarnings("ignore:IAMAuthorizer is not a supported in local mode")
START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
"""Simulated time ends before the real now: DynamoDB Local's TTL deletes rate buckets that expired in real time."""
CONFIG = StormConfig(
    floor=15, window_minutes=5, baseline_minutes=60, min_rate=0.5, quiet_minutes=15, warmup_minutes=0,
    region_parents={"Quezon City": "Metro Manila"},
)  # fmt: skip


def _post(n: int, text: str = "no signal in QC") -> tuple[Post, Classification]:
    post = Post("x", "x-care", str(n), str(n), Author(str(n), f"user{n}"), text, "2026-11-23T08:00:00.000Z")
    classification = Classification("outage", Sentiment("negative", -0.6), False, True, "en", regions=("Quezon City",))
    return post, classification


def _watch(rt: Runtime, alerts: LogAlerts | None = None) -> StormWatch:
    setup = IncidentSetup(
        client=rt.dynamodb,
        escalations_table=rt.settings.table("escalations"),
        policy=rt.policy,
        notices=rt.notices,
        alerts=alerts or LogAlerts(),
        clock=rt.clock,
    )
    return StormWatch(rt.dynamodb, rt.settings.table("storms"), CONFIG, setup)


def _storm_items(rt: Runtime) -> list[dict[str, Any]]:
    pages = rt.dynamodb.get_paginator("scan").paginate(TableName=rt.settings.table("storms"))
    return [from_item(i) for page in pages for i in page.get("Items", [])]


def test_a_quiet_stream_never_opens_an_incident(ddb_runtime: Runtime) -> None:
    watch = _watch(ddb_runtime)
    n = 0
    for minute in range(90):  # two posts a minute for 90 minutes, three in some minutes
        for _ in range(2 + (minute % 7 == 0)):
            n += 1
            assert watch.observe("brand", *_post(n), START + timedelta(minutes=minute, seconds=n % 60)) is None
    assert watch.incidents() == []


def test_a_storm_opens_one_incident_with_an_alert_an_escalation_and_a_draft_notice(ddb_runtime: Runtime) -> None:
    alerts = LogAlerts()
    watch = _watch(ddb_runtime, alerts)
    for minute in range(30):  # a normal half hour: one post a minute
        watch.observe("brand", *_post(minute), START + timedelta(minutes=minute))
    opened_at = None
    for n in range(60):  # then twenty a minute
        now = START + timedelta(minutes=30, seconds=3 * n)
        incident = watch.observe("brand", *_post(1000 + n), now)
        if incident and opened_at is None:
            opened_at = now
    assert opened_at is not None and opened_at - (START + timedelta(minutes=30)) <= timedelta(seconds=60)
    [incident] = watch.incidents()
    assert (incident["region"], incident["topic"], incident["status"]) == ("Quezon City", "outage", "open")
    assert incident["setup_done"] is True
    assert [subject for subject, _ in alerts.sent] == ["Carewire: storm of outage posts (Quezon City)"]
    escalation = ddb_runtime.escalations.get(incident["escalation_id"])
    assert (escalation["queue"], escalation["incident_id"], escalation["priority"]) == (
        "network",
        incident["incident_id"],
        1,
    )
    notice = ddb_runtime.notices.get(incident["notice_id"])
    assert (notice.status, notice.kind, notice.regions) == ("draft", "outage", ("Quezon City",))
    # one storm, one incident: its region's lock and its ancestors' (Metro Manila, brand-wide) all name it
    locks = {i["pk"]: i["incident_id"] for i in _storm_items(ddb_runtime) if i["pk"].startswith("open#")}
    assert locks == {
        f"open#brand#outage#{region}": incident["incident_id"] for region in ("Quezon City", "Metro Manila", "*")
    }


def test_many_processors_seeing_the_rise_open_one_incident(ddb_runtime: Runtime) -> None:
    watches = [_watch(ddb_runtime) for _ in range(8)]  # eight containers, each with its own cache
    now = START + timedelta(minutes=61)
    for n in range(14):
        watches[n % 8].observe("brand", *_post(n), now)
    barrier = threading.Barrier(8)
    seen: list[Any] = []

    def one(i: int) -> None:
        barrier.wait()
        seen.append(watches[i].observe("brand", *_post(100 + i), now))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {s["incident_id"] for s in seen if s}
    assert len(ids) == 1
    qc = [i for i in _storm_items(ddb_runtime) if i["pk"] == "incidents" and i["region"] == "Quezon City"]
    assert len(qc) == 1
    assert len(ddb_runtime.escalations.in_incident(ids.pop())) == 1


def test_the_sweep_closes_an_incident_once_the_storm_has_passed(ddb_runtime: Runtime) -> None:
    watch = _watch(ddb_runtime)
    now = START
    for n in range(20):
        watch.observe("brand", *_post(n), now)
    [incident] = [i for i in watch.incidents() if i["region"] == "Quezon City"]
    assert watch.sweep(now + timedelta(minutes=5))["closed"] == []  # still storming
    later = now + timedelta(minutes=25)
    assert incident["incident_id"] in watch.sweep(later)["closed"]
    assert watch.get(incident["incident_id"])["status"] == "closed"  # type: ignore[index]
    # the key is free again: a new storm opens a new incident
    for n in range(20):
        watch.observe("brand", *_post(500 + n), later + timedelta(minutes=1))
    assert len([i for i in watch.incidents() if i["region"] == "Quezon City"]) == 2


def test_no_incident_before_the_warm_up_and_other_regions_do_not_join_a_storm(ddb_runtime: Runtime) -> None:
    from dataclasses import replace

    watch = _watch(ddb_runtime)
    watch.config = replace(CONFIG, warmup_minutes=30)
    for n in range(40):  # a burst in the first minutes: no baseline yet, so no incident
        assert watch.observe("brand", *_post(n), START + timedelta(seconds=n)) is None
    for n in range(40):  # the same burst after the warm-up opens one
        watch.observe("brand", *_post(100 + n), START + timedelta(minutes=45, seconds=n))
    [incident] = [i for i in watch.incidents() if i["region"] == "Quezon City"]
    cebu, classification = _post(999, "no signal in Cebu")
    cebu_classification = replace(classification, regions=("Cebu",))
    assert watch.observe("brand", cebu, cebu_classification, START + timedelta(minutes=46)) is None
    nowhere = replace(classification, regions=())
    seen = watch.observe("brand", cebu, nowhere, START + timedelta(minutes=46))
    assert seen is not None and seen["incident_id"] == incident["incident_id"]


def _warm_up(rt: Runtime, brand: str = "bayanitel") -> None:
    """Carewire has seen the brand's outage posts for a day (the warm-up is behind it)."""
    rt.dynamodb.put_item(
        TableName=rt.settings.table("storms"),
        Item={"pk": {"S": f"first#{brand}#outage"}, "sk": {"S": "first"}, "at": {"S": "2026-11-22T00:00:00.000Z"}},
    )


def test_storm_posts_through_the_pipeline_join_one_incident_escalation(ddb_runtime: Runtime) -> None:
    _warm_up(ddb_runtime)
    # the decision clock near the real now: DynamoDB Local's TTL would delete rate buckets of a past day
    ddb_runtime.clock = FixedClock(datetime.now(UTC))
    text = "@bayanitelcares no signal in Quezon City since 6am, please fix this {n}"
    bodies = [mention_delivery(str(4000 + n), text.format(n=n), author_id=str(n)) for n in range(30)]
    with Client(app, stage_name="local") as client:
        for body in bodies:
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    incidents = ddb_runtime.storms.incidents()
    qc = [i for i in incidents if i["region"] == "Quezon City"]
    assert len(qc) == 1
    items = [
        from_item(i)
        for page in ddb_runtime.dynamodb.get_paginator("scan").paginate(
            TableName=ddb_runtime.settings.table("escalations")
        )
        for i in page.get("Items", [])
    ]
    items = [e for e in items if "post" in e]  # not the queues' counters
    individual = [e for e in items if not e.get("incident_id")]
    assert len(individual) < 15  # only the sparks before the storm was recognised
    assert len(items) - len(individual) >= 1
    attached = sum(i["posts"] for i in incidents)
    assert attached + len(individual) >= 30
    decisions = [ddb_runtime.store.decision(f"x#{4000 + n}") for n in range(30)]
    assert any(d and d["rule"] == "storm-known" for d in decisions)
    examples = ddb_runtime.storms.examples(qc[0]["incident_id"]) or ddb_runtime.storms.examples(
        next(i["incident_id"] for i in incidents if i["posts"])
    )
    assert examples and examples[0]["post_key"].startswith("x#40")


def test_incidents_from_the_cli_and_the_api(stack: Runtime) -> None:
    import json

    from click.testing import CliRunner

    from chalicelib.auth import local_tokens
    from chalicelib.cli import cli

    _warm_up(stack, "brand")
    for n in range(20):
        stack.storms.observe("brand", *_post(n), stack.clock())
    [incident] = [i for i in stack.storms.incidents() if i["region"] == "Quezon City"]
    runner = CliRunner()
    listed = runner.invoke(cli, ["incidents", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert incident["incident_id"] in {i["incident_id"] for i in json.loads(listed.output)}
    shown = runner.invoke(cli, ["incidents", "show", incident["incident_id"]])
    assert "open outage in Quezon City" in shown.output and "draft notice" in shown.output
    assert runner.invoke(cli, ["incidents", "show", "inc-nope"]).exit_code == 3

    tokens = local_tokens(stack.settings)
    with Client(app, stage_name="local") as client:
        agent = {"Authorization": f"Bearer {tokens['agent']}"}
        supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
        got = client.http.get(f"/incidents/{incident['incident_id']}", headers=agent)
        assert got.status_code == 200 and got.json_body["incident"]["incident_id"] == incident["incident_id"]
        assert client.http.get("/incidents/?status=nope", headers=agent).status_code == 400
        assert client.http.get("/incidents/" + "x" * 3000, headers=agent).status_code == 400
        assert client.http.get("/incidents/inc-nope", headers=agent).status_code == 404
        assert client.http.post(f"/incidents/{incident['incident_id']}/resolve", headers=agent).status_code == 403
        done = client.http.post(f"/incidents/{incident['incident_id']}/resolve", headers=supervisor)
        assert done.status_code == 200 and done.json_body["incident"]["status"] == "closed"
    resolved = runner.invoke(cli, ["incidents", "resolve", incident["incident_id"]])
    assert resolved.exit_code == 3 and "already closed" in resolved.output


def test_the_same_customer_repeating_a_complaint_elsewhere_joins_their_case(ddb_runtime: Runtime) -> None:
    first = "@bayanitelcares my fiber has been down since monday in Makati, no internet at all"
    again = "@bayanitelcares still no internet on my fiber in Makati since monday!!"
    other = "@bayanitelcares also why was I charged twice for roaming on my bill"
    bodies = [
        mention_delivery("5001", first, author_id="77"),
        mention_delivery("5002", again, author_id="77"),  # a new tweet: another conversation
        mention_delivery("5003", other, author_id="77"),  # the same customer, a different complaint
        mention_delivery("5004", again, author_id="78"),  # someone else saying the same
    ]
    with Client(app, stage_name="local") as client:
        for body in bodies:
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
            ddb_runtime.queue.join()  # type: ignore[attr-defined]
    linked = ddb_runtime.store.decision("x#5002")
    assert linked is not None and linked["rule"] == "follow-up" and linked["params"]["linked"] is True
    case = linked["params"]["escalation_id"]
    assert case == ddb_runtime.store.decision("x#5001")["actions"][-1].get("escalation_id", case)  # type: ignore[index]
    item = ddb_runtime.escalations.get(case)
    assert [f["post"]["post_id"] for f in item["follow_ups"]] == ["5002"]
    assert ddb_runtime.store.decision("x#5003")["rule"] != "follow-up"  # type: ignore[index]
    assert ddb_runtime.store.decision("x#5004")["rule"] != "follow-up"  # type: ignore[index]


def test_publishing_the_incidents_notice_answers_its_posts_and_resolving_it_follows_up(ddb_runtime: Runtime) -> None:
    from chalicelib.outbox import STATES

    _warm_up(ddb_runtime)
    ddb_runtime.clock = FixedClock(datetime.now(UTC))
    text = "@bayanitelcares no signal in Quezon City since 6am {n}"
    bodies = [mention_delivery(str(6000 + n), text.format(n=n), author_id=str(600 + n)) for n in range(24)]
    with Client(app, stage_name="local") as client:
        for body in bodies:
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    ddb_runtime.queue.join()  # type: ignore[attr-defined]
    [incident] = [i for i in ddb_runtime.storms.incidents() if i["region"] == "Quezon City"]
    attached = {a["post_key"] for a in ddb_runtime.storms.attached_posts(incident["incident_id"])}
    assert attached

    def replies() -> dict[str, dict[str, Any]]:
        items = [o for status in STATES for o in ddb_runtime.store.outbox(status, 1000)]
        return {o["in_reply_to_post_id"]: o for o in items if o.get("in_reply_to_post_id")}

    before = replies()
    draft = ddb_runtime.notices.get(incident["notice_id"])
    published = ddb_runtime.notices.publish(draft.id, draft.version, "marketer")
    after = replies()
    answered = {k: v for k, v in after.items() if k not in before}
    assert answered, "the attached posts without a reply are answered with the notice"
    assert {f"x#{post_id}" for post_id in answered} <= attached
    assert all(o["notice_id"] == draft.id and o["rule"] == "incident-notice" for o in answered.values())
    assert all(before[k]["reply_id"] == after[k]["reply_id"] for k in before)  # one reply per post, never two
    assert len(answered) + len([k for k in before if f"x#{k}" in attached]) >= len(attached) - 1
    resolved = ddb_runtime.notices.resolve(published.id, published.version, "marketer")
    assert resolved.follow_ups >= len(attached) - 1  # every attached customer is told it is fixed

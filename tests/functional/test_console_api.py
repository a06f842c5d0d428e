"""The console's API through chalice.test.Client on DynamoDB Local: accounts and sessions, CSRF, roles,
the agent's claim → reply → resolve with corrections, notices with every error at once, the dashboard
and "try a post"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib.escalations.corrections import Corrections, training_row
from chalicelib.identity import sessions
from chalicelib.identity.accounts import Accounts
from chalicelib.model import stable_id
from chalicelib.runtime import Runtime
from tests.conftest import X_SECRET, make_settings, runtime_on_dynamodb
from tests.support import mention_delivery, x_headers
from tests.unit.test_identity import ISSUER, _claims, _jwks, _token, make_rsa_key

OUTAGE = "@bayanitelcares no signal in Quezon City since 6am, please fix this"


def _account(rt: Runtime, name: str, *roles: str) -> str:
    _account_obj, password = Accounts(rt.dynamodb, rt.settings.table("users")).add(
        name, list(roles), rt.clock(), "test", zone="Asia/Manila"
    )
    return password


class Browser:
    """A client that keeps the session cookie and sends the CSRF token, as the console's JavaScript does."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.cookie = ""
        self.csrf = ""

    def sign_in(self, name: str, password: str) -> Any:
        got = self.client.http.post(
            "/console/api/session",
            headers={"Content-Type": "application/json", "Host": "console.test", "Origin": "http://console.test"},
            body=json.dumps({"username": name, "password": password}),
        )
        if got.status_code == 200:
            self.cookie = got.headers["Set-Cookie"].split(";", 1)[0]
            self.csrf = got.json_body["csrf"]
        return got

    def call(self, method: str, path: str, body: Any = None, csrf: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Cookie": self.cookie, "Host": "console.test"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        kwargs = {"body": json.dumps(body)} if body is not None else {}
        return getattr(self.client.http, method)(f"/console/api{path}", headers=headers, **kwargs)


def _escalate(rt: Runtime, client: Client, post_id: str, text: str = OUTAGE) -> None:
    body = mention_delivery(post_id, text)
    assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
    rt.queue.join()  # type: ignore[attr-defined]


def test_sign_in_sets_a_strict_httponly_cookie_and_wrong_passwords_get_401(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "ana", "agent")
    with Client(app) as client:
        browser = Browser(client)
        assert browser.sign_in("ana", "wrong").status_code == 401
        assert browser.sign_in("nobody", password).status_code == 401
        got = browser.sign_in("ana", password)
        assert got.status_code == 200
        cookie = got.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
        assert password not in cookie
        me = browser.call("get", "/me").json_body
        assert (me["username"], me["roles"], me["zone"]) == ("ana", ["agent"], "Asia/Manila")
        tampered = browser.cookie[:-2] + ("AA" if not browser.cookie.endswith("AA") else "BB")
        assert client.http.get("/console/api/me", headers={"Cookie": tampered}).status_code == 401


def test_a_password_reset_ends_existing_sessions(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "ben", "agent")
    with Client(app) as client:
        browser = Browser(client)
        browser.sign_in("ben", password)
        assert browser.call("get", "/me").status_code == 200
        Accounts(ddb_runtime.dynamodb, ddb_runtime.settings.table("users")).reset("ben", ddb_runtime.clock(), "test")
        assert browser.call("get", "/me").status_code == 401


def test_unsafe_requests_need_the_csrf_token_and_the_same_origin(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "cara", "agent")
    with Client(app) as client:
        _escalate(ddb_runtime, client, "3001")
        browser = Browser(client)
        browser.sign_in("cara", password)
        assert browser.call("post", "/inbox/next", {}, csrf=False).status_code == 403
        cross = client.http.post(
            "/console/api/inbox/next",
            headers={
                "Cookie": browser.cookie,
                "X-CSRF-Token": browser.csrf,
                "Origin": "https://evil.example",
                "Host": "console.test",
                "Content-Type": "application/json",
            },
            body="{}",
        )
        assert cross.status_code == 403
        assert ddb_runtime.escalations.held_by("user:cara") == []


def test_roles_keep_each_person_to_their_screens(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "mia", "marketer")
    with Client(app) as client:
        browser = Browser(client)
        browser.sign_in("mia", password)
        assert browser.call("get", "/inbox").status_code == 403
        assert browser.call("get", "/dashboard").status_code == 403
        assert browser.call("get", "/notices").status_code == 200
        assert client.http.get("/console/api/inbox").status_code == 401


def test_agent_claims_replies_and_resolves_with_a_correction_recorded_as_the_person(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "dan", "agent")
    with Client(app) as client:
        _escalate(ddb_runtime, client, "3002")
        browser = Browser(client)
        browser.sign_in("dan", password)
        inbox = browser.call("get", "/inbox").json_body
        network = next(q for q in inbox["queues"] if q["name"] == "network")
        assert network["open"] == 1 and network["items"][0]["text"] == OUTAGE
        claimed = browser.call("post", "/inbox/next", {})
        assert claimed.status_code == 200
        eid = claimed.json_body["escalation"]["id"]
        assert claimed.json_body["escalation"]["agent"] == "user:dan"
        assert browser.call("post", "/inbox/next", {}).status_code == 204
        detail = browser.call("get", f"/escalations/{eid}").json_body
        assert detail["decision"]["rule"] == "outage-acknowledge"
        assert "outage-acknowledge+" in detail["decision"]["rules_evaluated"]
        assert [t["kind"] for t in detail["timeline"]] == ["customer", "auto"]
        assert any(t["name"] == "offer_dm" for t in detail["canned"])
        preview = browser.call("post", f"/escalations/{eid}/preview", {"text": "Call me on 0917 123 4567"}).json_body
        assert preview["problems"] and "[phone]" in preview["masked"]
        reply = browser.call("post", f"/escalations/{eid}/reply", {"text": "Our team is on it in Quezon City."})
        assert reply.status_code == 201 and reply.json_body["reply"]["author"] == "user:dan"
        bad = browser.call(
            "post", f"/escalations/{eid}/resolve", {"outcome": "answered", "corrections": {"topic": "x"}}
        )
        assert bad.status_code == 400 and bad.json_body["field"] == "corrections.topic"
        assert ddb_runtime.escalations.get(eid)["status"] == "claimed"  # a bad correction resolves nothing
        done = browser.call(
            "post",
            f"/escalations/{eid}/resolve",
            {"outcome": "answered", "corrections": {"topic": "billing", "churn_risk": True}},
        )
        assert done.status_code == 200
        assert ddb_runtime.escalations.get(eid)["status"] == "resolved"
        fixed = {"topic": "billing", "churn_risk": True}
        item = ddb_runtime.escalations.get(eid)
        assert (item["correction"]["labels"], item["correction"]["by"]) == (fixed, "user:dan")
        assert browser.call("get", f"/escalations/{eid}").json_body["decision"]["corrections"] == fixed
        # where `carewire train --export-corrections` reads: the console's correction is a training row
        store = Corrections(ddb_runtime.dynamodb, ddb_runtime.settings.table("escalations"))
        rows = [training_row(i) for i in store.corrected() if i["escalation_id"] == eid]
        assert [r["labels"] for r in rows if r] == [fixed]


def test_notices_show_every_field_error_at_once_then_preview_create_and_publish(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "eve", "marketer")
    with Client(app) as client:
        _escalate(ddb_runtime, client, "3010")
        _escalate(ddb_runtime, client, "3011", "@bayanitelcares my bill is wrong again")
        browser = Browser(client)
        browser.sign_in("eve", password)
        bad = browser.call(
            "post", "/notices/preview", {"kind": "nope", "title": {"en": ""}, "body": {"en": "x"}, "link": "ftp://x"}
        ).json_body
        assert {e["field"] for e in bad["errors"]} >= {"kind", "title.en", "link"}
        fields = {
            "kind": "outage",
            "title": {"en": "Mobile data down in Quezon City"},
            "body": {"en": "Engineers are fixing it; back by noon."},
            "regions": ["Quezon City"],
            "keywords": ["no signal"],
        }
        good = browser.call("post", "/notices/preview", fields).json_body
        assert good["errors"] == [] and "Quezon City" in good["previews"][0]["reply"]
        assert [m["text"] for m in good["matches"]] == [OUTAGE]  # the recent post it would answer, not the bill
        assert "region Quezon City" in good["matches"][0]["why"]
        created = browser.call("post", "/notices", fields)
        assert created.status_code == 201
        notice = created.json_body["notice"]
        assert notice["author"] == "user:eve"
        published = browser.call("post", f"/notices/{notice['id']}/publish", {"version": notice["version"]})
        assert published.status_code == 200 and published.json_body["notice"]["status"] == "active"
        assert ddb_runtime.notices.get(notice["id"]).history[-1]["by"] == "user:eve"


def test_dashboard_counts_stored_decisions_and_try_a_post_writes_nothing(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "lea", "care_lead")
    with Client(app) as client:
        _escalate(ddb_runtime, client, "3003")
        _escalate(ddb_runtime, client, "3004", "@bayanitelcares thank you, the new plan is great!")
        browser = Browser(client)
        browser.sign_in("lea", password)
        board = browser.call("get", "/dashboard?hours=24").json_body
        assert board["total"] == 2
        assert board["by"]["topic"]["outage"] == 1
        assert board["by"]["channel"] == {"x-care": 2}
        assert (board["auto_answered"], board["escalated"]) == (1, 1)  # thanks; acknowledged and escalated
        assert sum(s["total"] for s in board["series"]) == 2
        assert browser.call("get", "/dashboard?hours=0").status_code == 400
        tried = browser.call("post", "/try", {"text": OUTAGE}).json_body
        assert tried["rule"] == "outage-acknowledge"
        assert tried["replies"] and tried["replies"][0]["text"]
        assert len(ddb_runtime.store.decisions()) == 2


def test_the_app_shell_sets_a_strict_csp_and_pins_assets_to_their_hash(ddb_runtime: Runtime) -> None:
    with Client(app) as client:
        shell = client.http.get("/console")
        assert shell.status_code == 200
        csp = shell.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        html = shell.body.decode()
        assert "/console/static/app.js?v=" in html
        version = html.split("/console/static/app.js?v=", 1)[1].split('"', 1)[0]
        asset = client.http.get(f"/console/static/app.js?v={version}")
        assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
        again = client.http.get("/console/static/app.js", headers={"If-None-Match": asset.headers["ETag"]})
        assert again.status_code == 304
        assert client.http.get("/console/static/..%2Fapp.py").status_code == 404
        script = asset.body.decode()
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_in_aws_stages_a_program_may_call_with_a_cognito_id_token(
    tmp_path: Any, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.identity import cognito

    rsa_key = make_rsa_key()
    from tests.conftest import make_settings, runtime_on_dynamodb

    monkeypatch.setenv("CAREWIRE_COGNITO_USER_POOL_ID", "us-east-1_pool")
    monkeypatch.setenv("CAREWIRE_COGNITO_CLIENT_ID", "client-1")
    monkeypatch.setitem(cognito._jwks, ISSUER, _jwks(rsa_key))
    for rt in runtime_on_dynamodb(make_settings(tmp_path, stage="dev")):
        with Client(app) as client:
            _escalate(rt, client, "3020")
            agent = {"Authorization": "Bearer " + _token(rsa_key, _claims())}
            me = client.http.get("/console/api/me", headers=agent)
            assert me.status_code == 200 and me.json_body["roles"] == ["agent"]
            claimed = client.http.post("/console/api/inbox/next", headers={**agent, "Content-Type": "application/json"})
            assert claimed.status_code == 200 and claimed.json_body["escalation"]["agent"] == "user:maria"
            marketer_only = {"Authorization": "Bearer " + _token(rsa_key, _claims(**{"cognito:groups": ["marketer"]}))}
            assert client.http.get("/console/api/inbox", headers=marketer_only).status_code == 403
            expired = {"Authorization": "Bearer " + _token(rsa_key, _claims(exp=0))}
            assert client.http.get("/console/api/me", headers=expired).status_code == 401
            assert client.http.get("/console/api/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_behind_api_gateways_stage_path_assets_and_cookie_follow_the_prefix() -> None:
    from types import SimpleNamespace

    from chalicelib.console.routes import _prefix, _shell

    deployed = SimpleNamespace(context={"path": "/api/console/static/app.js", "resourcePath": "/console/static/{name}"})
    local = SimpleNamespace(context={"path": "/console", "resourcePath": "/console"})
    assert (_prefix(deployed), _prefix(local), _prefix(SimpleNamespace(context=None))) == ("/api", "", "")  # type: ignore[arg-type]
    assert '"/api/console/static/app.js?v=' in _shell("/api")
    assert "Path=/api/console;" in sessions.set_cookie("v", secure=True, path="/api/console")


def _resolved(rt: Runtime, escalation_id: str, queue: str, created: str, resolved: str, **more: Any) -> None:
    from chalicelib.store.dynamo import to_item

    item = {
        "escalation_id": escalation_id,
        "queue": queue,
        "status": "resolved",
        "status_day": f"resolved#{resolved[:10]}",
        "updated_at": resolved,
        "created_at": created,
        "resolved_at": resolved,
        **more,
    }
    rt.dynamodb.put_item(TableName=rt.settings.table("escalations"), Item=to_item(item))


def test_dashboard_shows_response_and_resolution_times_of_the_items_resolved_in_its_period(
    ddb_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # now is 2026-11-23T09:30Z (FixedClock); 24 h reach back to 2026-11-22T09:30Z, over two by_status days
    day, before = "2026-11-23T", "2026-11-22T"
    _resolved(
        ddb_runtime,
        "a",
        "network",
        day + "08:00:00.000Z",
        day + "09:00:00.000Z",
        first_response_at=day + "08:10:00.000Z",
        sla_met=True,
    )
    _resolved(
        ddb_runtime,
        "b",
        "network",
        day + "07:00:00.000Z",
        day + "09:10:00.000Z",
        first_response_at=day + "07:30:00.000Z",
        sla_met=False,
    )
    _resolved(
        ddb_runtime,
        "c",
        "network",
        before + "20:00:00.000Z",
        before + "22:00:00.000Z",
        first_response_at=before + "20:05:00.000Z",
        sla_met=True,
    )
    _resolved(
        ddb_runtime,
        "old",
        "network",
        before + "07:00:00.000Z",
        before + "08:00:00.000Z",
        first_response_at=before + "07:01:00.000Z",
        sla_met=False,
    )  # before the period
    _resolved(ddb_runtime, "e", "care", day + "09:00:00.000Z", day + "09:20:00.000Z")  # reply still queued
    password = _account(ddb_runtime, "lea", "care_lead")
    with Client(app) as client:
        browser = Browser(client)
        browser.sign_in("lea", password)
        times = browser.call("get", "/dashboard?hours=24").json_body["response_times"]
        assert times["capped"] is False
        network, care = times["by_queue"]["network"], times["by_queue"]["care"]
        assert network == {
            "resolved": 3,
            "first_response_median_seconds": 600,  # of 300, 600, 1800 (nearest rank)
            "first_response_p90_seconds": 1800,
            "resolution_median_seconds": 7200,  # of 3600, 7200, 7800
            "resolution_p90_seconds": 7800,
            "sla_met_share": pytest.approx(2 / 3),
        }
        assert care["resolved"] == 1 and care["resolution_median_seconds"] == 1200
        assert care["first_response_median_seconds"] is None and care["sla_met_share"] is None
        assert times["by_queue"]["moderation"]["resolved"] == 0
        six = browser.call("get", "/dashboard?hours=6").json_body["response_times"]["by_queue"]["network"]
        assert (six["resolved"], six["first_response_median_seconds"], six["sla_met_share"]) == (2, 600, 0.5)

        monkeypatch.setattr("chalicelib.console.views.RESOLVED_CAP", 2)
        capped = browser.call("get", "/dashboard?hours=24").json_body["response_times"]
        assert capped["capped"] is True and capped["cap"] == 2
        assert sum(q["resolved"] for q in capped["by_queue"].values()) == 2


def test_dashboard_lists_recent_policy_changes_and_shows_a_diff_as_text(
    tmp_path: Path, policy_dir: Path, dynamodb_endpoint: str
) -> None:
    from chalicelib.policy.history import Bundle, PolicyHistory

    for rt in runtime_on_dynamodb(make_settings(tmp_path, policies_dir=policy_dir)):
        history = PolicyHistory(rt.dynamodb, rt.settings.table("policies"))
        history.record(Bundle.read(policy_dir), "serve", rt.clock())
        templates = policy_dir / "templates" / "en.yaml"
        templates.write_text(templates.read_text(encoding="utf-8") + "# <script>alert(1)</script>\n", encoding="utf-8")
        changed = history.record(Bundle.read(policy_dir), "deploy: arn:aws:iam::1:user/lea", rt.clock())
        assert changed is not None
        lead, agent = _account(rt, "lea", "care_lead"), _account(rt, "ana", "agent")
        with Client(app) as client:
            browser = Browser(client)
            browser.sign_in("lea", lead)
            board = browser.call("get", "/dashboard?hours=24").json_body
            newest = board["policy_changes"][0]
            assert [v["digest"] for v in board["policy_changes"]] == [changed.digest, newest["previous"]]
            assert newest["recorded_by"] == "deploy: arn:aws:iam::1:user/lea"
            assert newest["changes"] == [{"path": "templates/en.yaml", "status": "modified", "added": 1, "removed": 0}]
            shown = browser.call("get", f"/policies/{changed.digest}")
            assert shown.status_code == 200
            assert "+# <script>alert(1)</script>\n" in shown.json_body["diff"]
            assert browser.call("get", f"/policies/{'0' * 64}").status_code == 404
            assert browser.call("get", "/policies/xyz").status_code == 400
            other = Browser(client)
            other.sign_in("ana", agent)
            assert other.call("get", f"/policies/{changed.digest}").status_code == 403


def test_the_item_view_lists_the_customers_other_cases_and_nobody_elses(ddb_runtime: Runtime) -> None:
    password = _account(ddb_runtime, "dan", "agent")
    first, second, stranger = (stable_id("esc", f"x#{n}") for n in ("3401", "3402", "3403"))
    with Client(app) as client:
        for post_id, author in (("3401", "42"), ("3402", "42"), ("3403", "43")):
            body = mention_delivery(post_id, OUTAGE.replace("6am", f"{post_id[-1]}am"), author_id=author)
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
            ddb_runtime.queue.join()  # type: ignore[attr-defined]
            if post_id == "3401":  # while it is open, the customer's next post would join it
                ddb_runtime.escalations.resolve(first, "user:dan", "answered", ddb_runtime.clock(), force=True)
        browser = Browser(client)
        browser.sign_in("dan", password)

        detail = browser.call("get", f"/escalations/{second}").json_body

        assert [(c["id"], c["status"], c["outcome"], c["topic"]) for c in detail["earlier"]] == [
            (first, "resolved", "answered", "outage")
        ]
        assert detail["earlier"][0]["text"] == OUTAGE.replace("6am", "1am")  # data; the page sets it as text
        assert detail["earlier"][0]["same_conversation"] is False
        assert browser.call("get", f"/escalations/{stranger}").json_body["earlier"] == []

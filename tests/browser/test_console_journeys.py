"""The console in headless Chromium against `carewire serve --demo` on DynamoDB Local: an agent claims,
answers and resolves with a correction by keyboard; a marketer sees every notice error at once, previews and
publishes a notice that then answers a matching post; a care lead reads the dashboard and tries a post.
Screenshots of each screen go to build/screenshots/ (git-ignored)."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib.outbox import STATES
from tests.browser.cdp import Browser, screenshots_dir
from tests.browser.conftest import Server
from tests.conftest import X_SECRET
from tests.support import mention_delivery, x_headers

SHOTS = screenshots_dir()


def _sign_in(browser: Browser, server: Server, name: str) -> None:
    browser.goto(f"{server.url}/console")
    browser.wait("!!document.querySelector('#signin') || !document.querySelector('.top').hidden")
    if browser.eval("!document.querySelector('.top').hidden"):
        browser.click("#signout")
    try:
        browser.wait("!!document.querySelector('#signin')", what="the sign-in form")
    except AssertionError:
        browser.screenshot(SHOTS / "debug-signin.png")
        print("DEBUG", browser.eval("document.body.innerText.slice(0, 500)"), browser.errors)
        raise
    browser.focus("#username")
    browser.type(name)
    browser.focus("#password")
    browser.type(server.passwords[name])
    browser.key("Enter")
    browser.wait(f"document.querySelector('#who')?.textContent.startsWith('{name}')", what=f"{name} signed in")


def _wait_for(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)
    return found


def _outbox_items(server: Server) -> list[dict[str, Any]]:
    """Every outbox item once. The local sender moves items on while the statuses are read one after another,
    so an item read as pending may be read again as sent: the key decides, the last state read wins."""
    by_id: dict[str, dict[str, Any]] = {}
    for status in STATES:
        for item in server.runtime.store.outbox(status, 1000):
            by_id[item["reply_id"]] = item
    return list(by_id.values())


def test_sign_in_refuses_a_wrong_password(server: Server, browser: Browser) -> None:
    browser.goto(f"{server.url}/console")
    browser.wait("!!document.querySelector('#signin')")
    browser.screenshot(SHOTS / "console-sign-in.png")
    browser.focus("#username")
    browser.type("ana")
    browser.focus("#password")
    browser.type("not-the-password")
    browser.key("Enter")
    browser.wait("document.querySelector('#signin-error').textContent.length > 0")
    assert "wrong password" in browser.text("#signin-error")
    cookies = browser.send("Network.getCookies", urls=[server.url + "/console"])["cookies"]
    assert not [c for c in cookies if c["name"] == "cw_session"]


def test_agent_claims_answers_and_resolves_with_a_correction_by_keyboard(server: Server, browser: Browser) -> None:
    _sign_in(browser, server, "ana")
    browser.wait("document.querySelectorAll('#items li').length >= 3", what="the demo's open items")
    cookie = next(c for c in browser.send("Network.getCookies", urls=[server.url + "/console"])["cookies"])
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    browser.screenshot(SHOTS / "console-inbox.png")
    browser.key("j")
    assert browser.eval("document.querySelector('#item-1').getAttribute('aria-selected')") == "true"
    browser.key("k")
    assert browser.eval("document.querySelector('#item-0').getAttribute('aria-selected')") == "true"

    browser.key("c")  # claim the most urgent item, which opens it
    browser.wait("!!document.querySelector('#reply-text')", what="the claimed item's reply form")
    held = server.runtime.escalations.held_by("user:ana")
    assert len(held) == 1
    item = held[0]
    assert item["priority"] == min(
        i["priority"]
        for q in server.runtime.escalations.queue_names
        for i in [*server.runtime.escalations.list_queue(q), item]
    )
    assert item["post"]["text"] in browser.text("#timeline")

    browser.key("r")
    assert browser.eval("document.activeElement.id") == "reply-text"
    browser.key("Tab", shift=True)  # to the canned responses
    assert browser.eval("document.activeElement.id") == "canned"
    browser.key("ArrowDown")  # the first template fills the reply and focus goes back to it
    canned = browser.wait("document.activeElement.id === 'reply-text' && document.activeElement.value")
    assert canned == browser.eval("document.querySelector('#canned').value")
    browser.type(" Our team is checking it now.")
    browser.wait("document.querySelector('#reply-preview').textContent.includes('Our team is checking')")
    browser.screenshot(SHOTS / "console-item.png")
    browser.key("Enter", ctrl=True)
    browser.wait("document.querySelector('#timeline').textContent.includes('Our team is checking')", what="the reply")
    every = _outbox_items(server)
    replies = [o for o in every if o.get("escalation_id") == item["escalation_id"]]
    # queued by the agent, and the local sender may already have taken or delivered it
    assert [r["author"] for r in replies] == ["user:ana"]
    assert replies[0]["status"] in ("pending", "sending", "sent")

    browser.key("e")
    assert browser.eval("document.activeElement.id") == "outcome"
    browser.select("#fix-topic", "billing")
    browser.focus("#outcome")
    browser.key("Enter")
    # the console's resolve writes the outcome, then the correction: wait for the toast the page shows once both
    # are stored (reading the store when the status turns resolved can fall between the two writes)
    browser.wait("document.getElementById('toast').textContent.startsWith('Resolved ')", what="the resolved toast")
    resolved = server.runtime.escalations.get(item["escalation_id"])
    assert (resolved["status"], resolved["outcome"], resolved["resolved_by"]) == ("resolved", "answered", "user:ana")
    assert (resolved["correction"]["labels"], resolved["correction"]["by"]) == ({"topic": "billing"}, "user:ana")
    browser.wait("!!document.querySelector('#items')")
    assert not browser.errors, browser.errors


def test_marketer_sees_every_error_then_previews_publishes_and_a_matching_post_is_answered(
    server: Server, browser: Browser
) -> None:
    _sign_in(browser, server, "mia")
    browser.wait("document.querySelectorAll('#notices tbody tr').length >= 1", what="the demo notice")
    browser.screenshot(SHOTS / "console-notices.png")
    browser.click("#new-notice")
    browser.focus("#notice-title")
    browser.type("Fibre outage in Cebu")
    browser.focus("#notice-body")
    browser.type("A cable cut affects home fibre in Cebu and Mandaue. Crews expect it fixed by 9 PM.")
    browser.focus("#notice-link")
    browser.type("ftp://example.org/x")
    browser.focus("#notice-regions")
    browser.type("Atlantis")
    browser.click("#notice-preview")
    browser.wait("document.querySelectorAll('#notice-errors li').length >= 2", what="both errors")
    assert browser.text("#notice-link-error") and browser.text("#notice-regions-error")
    assert browser.eval("document.querySelector('#notice-link').getAttribute('aria-invalid')") == "true"
    browser.screenshot(SHOTS / "console-notice-errors.png")

    browser.eval(
        "document.querySelector('#notice-link').value = ''; document.querySelector('#notice-regions').value = ''"
    )
    browser.focus("#notice-link")
    browser.type("https://bayanitel.example/advisories/cebu-fibre")
    browser.focus("#notice-regions")
    browser.type("Cebu")
    browser.focus("#notice-keywords")
    browser.type("no internet, fibre down")
    browser.focus("#notice-services")
    browser.type("fiber")
    browser.click("#notice-preview")
    browser.wait("document.querySelectorAll('.notice-reply').length >= 1", what="the preview")
    assert browser.text("#notice-errors") == ""
    assert "Cebu" in browser.text(".notice-reply")
    browser.screenshot(SHOTS / "console-notice-preview.png")
    browser.click("#notice-save")
    browser.wait(
        "[...document.querySelectorAll('#notices tbody tr')].some(r => r.textContent.includes('Fibre outage in Cebu'))"
    )
    notice = next(n for n in server.runtime.notices.find("draft") if n.title["en"] == "Fibre outage in Cebu")
    assert notice.author == "user:mia"
    browser.click(f"tr[data-id='{notice.id}'] button[data-action='publish']")
    _wait_for(lambda: server.runtime.notices.get(notice.id).status == "active")

    delivery = json.loads(mention_delivery("1870000000000000001", "@bayanitelcares no internet on my fiber in Cebu"))
    delivery["tweet_create_events"][0]["timestamp_ms"] = str(int(time.time() * 1000))  # posted now, after the notice
    body = json.dumps(delivery).encode()
    request = urllib.request.Request(
        f"{server.url}/webhooks/x-care", data=body, headers=x_headers(body, X_SECRET), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    decision = _wait_for(lambda: server.runtime.store.decision("x#1870000000000000001"))
    assert decision["rule"] == "outage-with-notice", json.dumps(decision["actions"])
    # whatever its state by now (the local sender may already have delivered it)
    every = _outbox_items(server)
    cited = [o for o in every if o.get("in_reply_to_post_id") == "1870000000000000001"]
    assert [o.get("notice_id") for o in cited] == [notice.id], json.dumps(cited, default=str)[:3000]
    assert not browser.errors, browser.errors


def test_care_lead_reads_the_dashboard_and_tries_a_post(server: Server, browser: Browser) -> None:
    _sign_in(browser, server, "lea")
    browser.eval("location.hash = '#/dashboard'")
    browser.wait("!!document.querySelector('#cards')", what="the dashboard")
    decided = len(server.runtime.store.decisions())
    assert browser.text("#cards strong") == str(decided)
    assert "outage" in browser.text("#by-topic")
    assert "network" in browser.text("#sla")
    assert "First response p90" in browser.text("#response-times") and "network" in browser.text("#response-times")
    browser.screenshot(SHOTS / "console-dashboard.png")
    browser.focus("#try-text")
    browser.type("@bayanitelcares I was charged twice for my postpaid plan, fix it")
    browser.click("#try-run")
    browser.wait("!!document.querySelector('#try-action')", what="the decision")
    assert "account-matters-by-dm" in browser.text("#try-action")
    assert "DM" in browser.text(".try-reply")
    assert len(server.runtime.store.decisions()) == decided  # trying writes nothing
    browser.eval("document.querySelector('#try-form').scrollIntoView()")
    browser.screenshot(SHOTS / "console-try-a-post.png")
    assert not browser.errors, browser.errors


def test_care_lead_sees_a_policy_change_and_reads_its_diff_as_text(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    from chalicelib.policy.history import Bundle, PolicyHistory

    assert "policies: version" in server.output  # `carewire serve` recorded the bundle it loaded
    changed = tmp_path / "policies"
    shutil.copytree(server.runtime.settings.policies_dir, changed, ignore=shutil.ignore_patterns("tests"))
    templates = changed / "templates" / "en.yaml"
    templates.write_text(
        templates.read_text(encoding="utf-8") + "# <img src=x onerror=alert(1)> calmer wording\n", encoding="utf-8"
    )
    history = PolicyHistory(server.runtime.dynamodb, server.runtime.settings.table("policies"))
    version = history.record(Bundle.read(changed), "deploy: arn:aws:iam::1:user/lea", server.runtime.clock())
    assert version is not None

    _sign_in(browser, server, "lea")
    browser.eval("location.hash = '#/dashboard'")
    browser.wait("document.querySelectorAll('#policy-changes tbody tr').length === 2", what="two policy versions")
    newest = browser.text("#policy-changes tbody tr:first-child")
    assert "deploy: arn:aws:iam::1:user/lea" in newest
    assert "templates/en.yaml (modified)" in newest and "+1 −0" in newest
    assert "first recorded" in browser.text("#policy-changes tbody tr:last-child")
    browser.click("#policy-changes tbody tr:first-child button")
    browser.wait("!document.querySelector('#policy-diff').hidden", what="the diff")
    diff = browser.text("#policy-diff")
    assert "+++ b/templates/en.yaml" in diff and "+# <img src=x onerror=alert(1)> calmer wording" in diff
    assert browser.eval("document.querySelector('#policy-diff img') === null")  # text, never markup
    assert browser.eval("document.activeElement.id") == "policy-diff"
    browser.screenshot(SHOTS / "console-policy-diff.png")
    assert not browser.errors, browser.errors


def test_agent_sees_the_customers_other_cases_and_opens_one(server: Server, browser: Browser) -> None:
    from chalicelib.escalations import new_item
    from chalicelib.model import Author, Classification, Post, Sentiment

    q = server.runtime.escalations
    _sign_in(browser, server, "ana")
    browser.wait("document.querySelectorAll('#items li').length >= 1", what="open items")
    current = q.get(browser.eval("document.querySelector('#item-0').dataset.id"))
    who = current["post"]["author"]

    def case(post_id: str, author_id: str, text: str, hours_ago: int) -> str:
        post = Post(
            platform=current["post"]["platform"],
            channel=current["post"]["channel"],
            post_id=post_id,
            conversation_id=post_id,
            author=Author(author_id, who.get("handle", "")),
            text=text,
            created_at=current["created_at"],
        )
        item = new_item(
            post=post,
            classification=Classification("billing", Sentiment("negative", -0.5), False, True, "en"),
            queue=q.queue(current["queue"]),
            priority=4,
            sla_minutes=None,
            rule="test",
            now=server.runtime.clock() - timedelta(hours=hours_ago),
        )
        assert q.insert(item)
        q.resolve(item["escalation_id"], "user:ana", "answered", server.runtime.clock(), force=True)
        return str(item["escalation_id"])

    earlier = case("1869000000000000001", who["id"], "<b>not bold</b> my bill is wrong again", 48)
    case("1869000000000000002", who["id"] + "0", "someone else's bill question", 24)

    browser.click("#item-0")
    browser.wait("!!document.querySelector('#cases')", what="the customer's other cases")
    listed = browser.text("#cases")
    assert "<b>not bold</b> my bill is wrong again" in listed
    assert "resolved (answered) · billing" in listed and "another conversation" in listed
    assert "someone else's" not in listed
    assert browser.eval("document.querySelector('#cases b') === null")  # customer text stays text
    browser.screenshot(SHOTS / "console-item-cases.png")
    browser.click(f"#cases li[data-id='{earlier}'] button")
    browser.wait("document.querySelector('#timeline')?.textContent.includes('my bill is wrong again')", what="it opens")
    assert "resolved" in browser.text("#item-title")
    assert not browser.errors, browser.errors

"""The console's sign-in page in headless Chromium as an AWS stage sees it: Cognito is moto's stand-in (the pool
made from infra/resources.yaml), the tables DynamoDB Local, the app served in this process by Chalice's local
server. A person an administrator added chooses a password on first sign-in, then signs in again; a person with
an authenticator app types its code. Screenshots go to build/screenshots/ (git-ignored)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.dynamodb_local import free_port
from tests.browser.cdp import Browser, screenshots_dir
from tests.integration.test_cognito_standin import CHOSEN, TEMPORARY, Standin, _current_code, dev_stage_on_standin

SHOTS = screenshots_dir()


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """Chalice's local server for `app` in this process (it serves whatever runtime is installed): its address.
    Chalice wraps the app's class for its server and cannot wrap it twice, so the class is put back after."""
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    port = free_port()
    config = Config.create(chalice_stage="dev", app_name="carewire", chalice_app=app)
    plain = app.__class__
    server = create_local_server(app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}"
    finally:
        server.shutdown()
        app.__class__ = plain  # what create_local_server changed, for the next server


@pytest.fixture
def console(
    tmp_path: Path, served: str, aws_standin: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Standin, str]]:
    """(the stand-in pool, the console's address) for an AWS stage named dev."""
    for stage in dev_stage_on_standin(tmp_path, monkeypatch):
        yield stage, served


def _password_step(browser: Browser, url: str, name: str, password: str) -> None:
    browser.goto(f"{url}/console")
    browser.wait("!!document.querySelector('#signin') || !document.querySelector('.top').hidden")
    if browser.eval("!document.querySelector('.top').hidden"):
        browser.click("#signout")
        browser.wait("!!document.querySelector('#signin')")
    browser.focus("#username")
    browser.type(name)
    browser.focus("#password")
    browser.type(password)
    browser.key("Enter")


def _signed_in(browser: Browser, name: str) -> Any:
    return browser.wait(f"document.querySelector('#who')?.textContent.startsWith('{name}')", what=f"{name} signed in")


def test_a_new_person_chooses_a_password_on_first_sign_in(console: tuple[Standin, str], browser: Browser) -> None:
    pool, url = console
    pool.add_person("maria", "agent")
    _password_step(browser, url, "maria", TEMPORARY)
    browser.wait("!!document.querySelector('#signin-challenge')", what="the new-password step")
    assert "Choose your password" in browser.text("#challenge-title")
    assert browser.eval("getComputedStyle(document.querySelector('.top')).display") == "none"  # no menu yet
    browser.screenshot(SHOTS / "console-cognito-new-password.png")
    browser.focus("#answer")
    browser.type("Short-1")  # the form asks for 12 characters before anything is sent
    browser.key("Enter")
    time.sleep(0.3)
    assert browser.eval("!!document.querySelector('#signin-challenge')")
    browser.eval("document.querySelector('#answer').value = ''")
    browser.focus("#answer")
    browser.type(CHOSEN)
    browser.key("Enter")
    _signed_in(browser, "maria")
    assert browser.eval("location.hash") == "#/inbox"

    _password_step(browser, url, "maria", CHOSEN)  # signs out first, then straight in
    _signed_in(browser, "maria")


def test_a_person_with_an_authenticator_app_types_its_code(
    console: tuple[Standin, str], browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, url = console
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    pool.confirmed_person("lea", "care_lead")
    secret = pool.enrol_authenticator("lea")

    _password_step(browser, url, "lea", CHOSEN)
    browser.wait("!!document.querySelector('#signin-challenge')", what="the code step")
    assert "code" in browser.text("#challenge-title")
    browser.screenshot(SHOTS / "console-cognito-mfa-code.png")
    browser.focus("#answer")
    browser.type(f"{(int(_current_code(secret)) + 1) % 1_000_000:06d}")
    browser.key("Enter")
    browser.wait("document.querySelector('#signin-error').textContent.length > 0", what="the wrong-code message")
    assert "wrong code" in browser.text("#signin-error")
    browser.eval("document.querySelector('#answer').value = ''")
    browser.focus("#answer")
    browser.type(_current_code(secret))
    browser.key("Enter")
    _signed_in(browser, "lea")
    assert browser.eval("location.hash") == "#/dashboard"

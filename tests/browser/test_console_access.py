"""The console's accessibility and fit on a laptop screen, checked in headless Chromium on every main screen
(sign-in, inbox, an item, notices with the form open, the dashboard): every form field has a label, every
button and link a name; text contrast meets WCAG AA as rendered (4.5:1, 3:1 for large text); each Tab stop shows
a visible focus ring; at 1280x720 nothing scrolls sideways. The audit is a small script of our own run in the
page: what it reports is listed in the failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.cdp import Browser
from tests.browser.conftest import Server
from tests.browser.test_console_journeys import _sign_in

AUDIT = r"""
(() => {
  const problems = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none" && !el.closest("[hidden]");
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  const labelled = (el) => {
    const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent || "").join(" ");
    const forLabel = el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : "";
    return [el.getAttribute("aria-label"), by, forLabel, el.closest("label")?.textContent, el.title]
      .some((t) => (t || "").trim().length > 0);
  };
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (shown(el) && !labelled(el)) problems.push("no label: " + describe(el));
  }
  for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
    if (shown(el) && !el.textContent.trim() && !labelled(el)) problems.push("no name: " + describe(el));
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("image without alt: " + describe(el));
  }
  const rgba = (c) => {
    const v = (c.match(/[\d.]+/g) || ["0", "0", "0", "0"]).map(Number);
    return v.length === 3 ? [...v, 1] : v;
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const seen = new Set();
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !shown(el)) continue;
    const s = getComputedStyle(el);
    const back = background(el), fore = over(rgba(s.color), back);
    const [hi, lo] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const key = describe(el) + " " + s.color + " on " + back.map(Math.round).join(",");
    if (ratio < need && !seen.has(key)) {
      seen.add(key);
      problems.push(`contrast ${ratio.toFixed(2)} < ${need}: ${key}`);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    const wide = document.documentElement.scrollWidth;
    problems.push(`scrolls sideways: ${wide}px wide in a ${window.innerWidth}px window`);
  }
  return problems;
})()
"""

FOCUS_RING = r"""
(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "nothing";
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== "none");
  const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
  return ring ? "" : name + " " + (el.textContent || "").trim().slice(0, 30);
})()
"""


def _audit(browser: Browser, screen: str, tabs: int = 25) -> list[str]:
    problems = [f"{screen}: {p}" for p in browser.eval(AUDIT)]
    browser.eval("document.activeElement && document.activeElement.blur()")
    for _ in range(tabs):  # keyboard focus, as a person moving with Tab sees it
        browser.key("Tab")
        missing = browser.eval(FOCUS_RING)
        if missing and missing != "nothing":
            problems.append(f"{screen}: no visible focus on {missing}")
    return problems


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Browser]:
    browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=720, deviceScaleFactor=1, mobile=False)
    yield browser
    browser.send("Emulation.setDeviceMetricsOverride", width=1366, height=1100, deviceScaleFactor=1, mobile=False)


def test_every_main_screen_is_labelled_legible_keyboard_visible_and_fits_a_laptop(
    server: Server, laptop: Browser
) -> None:
    browser = laptop
    problems: list[str] = []
    browser.goto(f"{server.url}/console")
    browser.wait("!!document.querySelector('#signin')", what="the sign-in form")
    problems += _audit(browser, "sign-in", tabs=4)

    _sign_in(browser, server, "ana")
    browser.wait("document.querySelectorAll('#items li').length >= 1", what="the inbox")
    problems += _audit(browser, "inbox")
    browser.eval("document.querySelector('#items li')?.focus()")
    browser.key("Enter")
    browser.wait("!!document.querySelector('#timeline')", what="an item")
    problems += _audit(browser, "item")

    _sign_in(browser, server, "mia")
    browser.wait("document.querySelectorAll('#notices tbody tr').length >= 1", what="the notices")
    browser.click("#new-notice")
    browser.wait("!!document.querySelector('#notice-preview')", what="the notice form")
    problems += _audit(browser, "notices")

    _sign_in(browser, server, "lea")
    browser.eval("location.hash = '#/dashboard'")
    browser.wait("!!document.querySelector('#cards')", what="the dashboard")
    problems += _audit(browser, "dashboard")

    assert problems == [], "\n".join(problems)
    assert not browser.errors, browser.errors


def test_the_audit_reports_what_it_looks_for(server: Server, laptop: Browser) -> None:
    """The checks above can fail: planted on the sign-in page, each kind of problem is reported."""
    browser = laptop
    browser.goto(f"{server.url}/console")
    browser.wait("!!document.querySelector('#signin') || !document.querySelector('.top').hidden")
    if browser.eval("!document.querySelector('.top').hidden"):
        browser.click("#signout")
    browser.wait("!!document.querySelector('#signin')", what="the sign-in form")
    browser.eval(  # styles set through the CSSOM: the console's CSP refuses inline style attributes
        """(() => {
          const box = document.createElement("div");
          box.innerHTML = '<input id="planted-field"><button id="planted-icon"></button>'
            + '<p id="planted-faint">faint words</p><button id="planted-ringless">go</button>'
            + '<div id="planted-wide">wide</div>';
          document.body.prepend(box);
          Object.assign(document.getElementById("planted-faint").style, {color: "#bbb", background: "#fff"});
          Object.assign(document.getElementById("planted-ringless").style, {outline: "none", boxShadow: "none"});
          document.getElementById("planted-wide").style.width = "3000px";
        })()"""
    )
    problems = "\n".join(_audit(browser, "planted", tabs=6))
    assert "no label: input#planted-field" in problems
    assert "no name: button#planted-icon" in problems
    assert "contrast" in problems and "p#planted-faint" in problems
    assert "no visible focus on button#planted-ringless" in problems
    assert "scrolls sideways: 3" in problems

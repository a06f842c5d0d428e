// Carewire console: one ES module, no build step. Everything customer-written goes into the page as text
// nodes (h() never parses HTML), so no post can become markup or script.

let me = null;
const main = document.getElementById("main");
// The console's own address: /console locally, /<stage>/console behind API Gateway's default domain.
const BASE = location.pathname.replace(/\/+$/, "");

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name in el && !name.includes("-") && name !== "list") el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 4000);
}

function when(ts) {
  if (!ts) return "";
  const zone = (me && me.zone) || "UTC";
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(ts));
}

class ApiError extends Error {
  constructor(status, body) { super((body && body.message) || `HTTP ${status}`); this.status = status; this.body = body || {}; }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") { headers["Content-Type"] = "application/json"; if (me) headers["X-CSRF-Token"] = me.csrf; }
  const answer = await fetch(`${BASE}/api${path}`, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 204) return null;
  const data = answer.headers.get("Content-Type")?.includes("json") ? await answer.json() : null;
  if (answer.status === 401 && !path.startsWith("/session")) { me = null; showSignIn(); throw new ApiError(401, data); }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

const has = (...roles) => me && me.roles.some((r) => r === "admin" || roles.includes(r));

// ------------------------------------------------------------------------------------------------ sign in

function showSignIn(message = "") {
  generation += 1;
  leaveScreen();
  inbox.current = null;
  document.querySelector(".top").hidden = true;
  const error = h("p", { id: "signin-error", className: "error", role: "alert" }, message);
  const form = h("form", { className: "signin", id: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to Carewire"),
    h("label", { htmlFor: "username" }, "User name"),
    h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    h("label", { htmlFor: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    error,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      signedIn(await api("POST", "/session", { username: form.username.value, password: form.password.value }));
    } catch (err) { error.textContent = err.message; }
  });
  main.replaceChildren(form);
  form.username.focus();
}

// The pool's answer is the person, or (202) one more step: a new password on the first sign-in, or an MFA code.
function signedIn(answer) {
  if (answer && answer.challenge) { showChallenge(answer); return; }
  me = answer;
  history.replaceState(null, "", location.hash && location.hash !== "#/" ? location.hash : home());
  start();
}

function showChallenge(step) {
  const newPassword = step.needs === "new_password";
  const error = h("p", { id: "signin-error", className: "error", role: "alert" });
  const field = newPassword
    ? h("input", { id: "answer", name: "answer", type: "password", autocomplete: "new-password", required: true, minLength: 12 })
    : h("input", { id: "answer", name: "answer", inputMode: "numeric", autocomplete: "one-time-code", required: true, pattern: "[0-9]{6,8}" });
  const form = h("form", { className: "signin", id: "signin-challenge", "aria-labelledby": "challenge-title" },
    h("h1", { id: "challenge-title" }, newPassword ? "Choose your password" : "Enter your sign-in code"),
    h("p", {}, newPassword
      ? "This is your first sign-in: choose a password of at least 12 characters with upper and lower case letters and a number."
      : "Type the code from your authenticator app or the message you were sent."),
    h("label", { htmlFor: "answer" }, newPassword ? "New password" : "Code"),
    field,
    error,
    h("button", { type: "submit" }, "Continue"),
    h("button", { type: "button", onclick: () => showSignIn() }, "Start again"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { challenge: step.challenge, session: step.session, username: step.username, [step.needs]: field.value };
    try { signedIn(await api("POST", "/session/challenge", body)); } catch (err) { error.textContent = err.message; }
  });
  main.replaceChildren(form);
  field.focus();
}

function home() {
  if (has("agent", "supervisor")) return "#/inbox";
  if (has("marketer")) return "#/notices";
  return "#/dashboard";
}

document.getElementById("signout").addEventListener("click", async () => {
  await api("DELETE", "/session").catch(() => null);
  me = null;
  showSignIn("Signed out.");
});

// ----------------------------------------------------------------------------------------------- routing

const screens = { "#/inbox": inboxScreen, "#/notices": noticesScreen, "#/dashboard": dashboardScreen };
let leaveScreen = () => {};
let generation = 0;
// A screen renders only if no other navigation started since it began loading (its data may arrive late).
function render(started, ...nodes) { if (started === generation) main.replaceChildren(...nodes); return started === generation; }

function start() {
  const top = document.querySelector(".top");
  top.hidden = false;
  document.getElementById("who").textContent = `${me.username} · ${me.roles.join(", ")} · ${me.zone}`;
  for (const link of top.querySelectorAll("nav a")) link.hidden = !has(...link.dataset.role.split(" "));
  route();
}

function route() {
  if (!me) return;
  const allowed = { "#/inbox": ["agent", "supervisor"], "#/notices": ["marketer"], "#/dashboard": ["care_lead", "supervisor"] };
  const hash = screens[location.hash] && has(...allowed[location.hash]) ? location.hash : home();
  if (hash !== location.hash) { location.hash = hash; return; }
  for (const link of document.querySelectorAll(".top nav a")) {
    if (link.getAttribute("href") === hash) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  leaveScreen();
  leaveScreen = () => {};
  generation += 1;
  screens[hash](generation).catch((err) => main.replaceChildren(h("p", { className: "error", role: "alert" }, err.message)));
}
window.addEventListener("hashchange", route);

// -------------------------------------------------------------------------------------------------- inbox

const inbox = { items: [], selected: 0, current: null };

async function inboxScreen(started = generation) {
  const data = await api("GET", "/inbox");
  const queues = h("ul", { className: "queues", "aria-label": "Queues" },
    data.queues.map((q) => h("li", {},
      h("span", {}, h("strong", {}, q.name), " ", h("span", { className: "meta" }, q.description)),
      h("span", { className: "counts", "data-queue": q.name },
        `${q.open} open · ${q.claimed} claimed`,
        q.at_risk ? h("span", { className: "badge sla-at_risk" }, ` ${q.at_risk} at risk`) : "",
        q.breached ? h("span", { className: "badge sla-breached" }, ` ${q.breached} breached`) : ""))));
  const all = data.queues.flatMap((q) => q.items).sort((a, b) => a.priority - b.priority || String(a.due_at).localeCompare(String(b.due_at)));
  inbox.items = [...data.mine, ...all];
  inbox.selected = Math.min(inbox.selected, Math.max(inbox.items.length - 1, 0));
  const list = h("ul", { className: "items", id: "items", role: "listbox", "aria-label": "Items: yours first, then the most urgent" },
    inbox.items.map((item, index) => itemRow(item, index)));
  const detail = h("section", { id: "detail", "aria-label": "Item" },
    h("p", { className: "meta" }, "Press ", h("kbd", {}, "c"), " to claim the most urgent item."));
  if (!render(started, h("h1", {}, "Inbox"),
    h("p", { className: "keys" }, h("kbd", {}, "c"), " claim next · ", h("kbd", {}, "j"), "/", h("kbd", {}, "k"), " move · ",
      h("kbd", {}, "Enter"), " open · ", h("kbd", {}, "r"), " reply · ", h("kbd", {}, "Ctrl+Enter"), " send · ",
      h("kbd", {}, "e"), " resolve"),
    h("div", { className: "inbox" },
      h("div", {}, queues, h("button", { id: "next", type: "button", onclick: claimNext }, "Claim next (c)"),
        h("h2", {}, "Items"), list),
      detail))) return;
  markSelected();
  document.addEventListener("keydown", inboxKeys);
  leaveScreen = () => document.removeEventListener("keydown", inboxKeys);
  if (inbox.current) await openItem(inbox.current);
}

function itemRow(item, index) {
  return h("li", { role: "option", id: `item-${index}`, "data-id": item.id, "aria-selected": "false",
    onclick: () => { inbox.selected = index; markSelected(); openItem(item.id); } },
    h("span", { className: "meta" },
      `P${item.priority} · ${item.queue} · `, h("span", { className: `badge sla-${item.sla_state}` }, item.sla_state.replace("_", " ")),
      ` · due ${when(item.due_at)}`, item.status === "claimed" ? ` · ${item.agent}` : ""),
    h("span", { className: "item-text" }, item.text),
    h("span", { className: "meta" }, `@${item.author} · ${item.topic} · ${item.sentiment}`));
}

function markSelected() {
  document.querySelectorAll("#items li").forEach((li, i) => li.setAttribute("aria-selected", String(i === inbox.selected)));
  document.getElementById(`item-${inbox.selected}`)?.scrollIntoView({ block: "nearest" });
}

function typing(event) {
  const t = event.target;
  return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
}

function inboxKeys(event) {
  if (event.key === "Escape" && typing(event)) { event.target.blur(); return; }
  if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    j: () => { inbox.selected = Math.min(inbox.selected + 1, inbox.items.length - 1); markSelected(); },
    k: () => { inbox.selected = Math.max(inbox.selected - 1, 0); markSelected(); },
    Enter: () => inbox.items[inbox.selected] && openItem(inbox.items[inbox.selected].id),
    c: claimNext,
    r: () => document.getElementById("reply-text")?.focus(),
    e: () => document.getElementById("outcome")?.focus(),
  };
  if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
}

async function claimNext() {
  const got = await api("POST", "/inbox/next", {}).catch((err) => { toast(err.message); return undefined; });
  if (got === null) { toast("Nothing is waiting."); return; }
  if (!got) return;
  inbox.current = got.escalation.id;
  inbox.selected = 0;
  toast(`Claimed ${got.escalation.id}`);
  await inboxScreen();
}

async function openItem(id) {
  inbox.current = id;
  const d = await api("GET", `/escalations/${encodeURIComponent(id)}`);
  const e = d.escalation;
  const mine = e.status === "claimed" && e.agent === `user:${me.username}`;
  const c = d.classification;
  const evidence = Object.entries(c.evidence || {}).map(([k, v]) => h("li", {}, `${k}: ${v.join(", ")}`));
  const detail = document.getElementById("detail");
  detail.replaceChildren(
    h("h2", { id: "item-title" }, `${e.queue} · P${e.priority} · ${e.status}${e.agent ? ` (${e.agent})` : ""}`),
    h("p", { className: "meta" }, h("span", { className: `badge sla-${e.sla_state}` }, e.sla_state.replace("_", " ")),
      ` due ${when(e.due_at)} · opened ${when(e.created_at)} · rule ${e.rule}`),
    h("div", { className: "panel" }, h("h2", {}, "Conversation"),
      h("ol", { className: "timeline", id: "timeline" }, d.timeline.map((t) => h("li", { className: t.kind },
        h("span", { className: "meta" }, `${t.kind === "customer" ? "@" + t.author : t.author} · ${when(t.at)}${t.private ? " · DM" : ""}${t.status ? " · " + t.status : ""}`),
        h("span", { className: "item-text" }, t.text)))),
      casesPanel(d.earlier)),
    h("div", { className: "columns" },
      h("div", { className: "panel" }, h("h2", {}, "Classification"),
        h("p", {}, `${c.topic} · ${c.sentiment?.label} (${c.sentiment?.score}) · ${c.language}${c.churn_risk ? " · churn risk" : ""} · urgency ${c.urgency}`),
        h("ul", { "aria-label": "Evidence" }, evidence)),
      h("div", { className: "panel" }, h("h2", {}, "Decision"),
        h("p", {}, `${d.decision.actions.map((a) => a.type).join(" + ") || d.decision.action || "—"} by rule ${d.decision.rule || "—"}`),
        d.decision.reason ? h("p", { className: "meta" }, `Why: ${d.decision.reason}`) : "",
        h("p", { className: "meta" }, `Rules evaluated: ${(d.decision.rules_evaluated || []).join(" → ")}`),
        d.decision.guardrails.length ? h("p", { className: "meta" }, `Guardrails: ${d.decision.guardrails.join("; ")}`) : "",
        d.decision.corrections ? h("p", { className: "meta" }, `Corrected: ${JSON.stringify(d.decision.corrections)}`) : "")),
    mine ? workForms(d) : h("p", { className: "meta" }, "Claim this item to answer or resolve it."));
}

// The customer's other cases, newest first; each opens in this view. Their words are text nodes only.
function casesPanel(cases) {
  if (!cases.length) return h("p", { className: "meta", id: "cases-none" }, "No other cases of this customer.");
  return h("section", { "aria-labelledby": "cases-title" }, h("h3", { id: "cases-title" }, `Other cases of this customer (${cases.length})`),
    h("ul", { className: "cases", id: "cases" }, cases.map((x) => h("li", { "data-id": x.id },
      h("button", { type: "button", className: "linkish", onclick: () => openItem(x.id), "aria-label": `Open case ${x.id}` }, `Opened ${when(x.opened_at)}`),
      h("span", { className: "meta" }, ` · ${x.status}${x.outcome ? ` (${x.outcome.replaceAll("_", " ")})` : ""} · ${x.topic || "—"} · ${x.queue}`,
        ` · ${x.same_conversation ? "this conversation" : "another conversation"}`),
      h("span", { className: "item-text" }, x.text)))));
}

function workForms(d) {
  const id = d.escalation.id;
  const text = h("textarea", { id: "reply-text", name: "text", maxLength: 2000 });
  const isPrivate = h("input", { type: "checkbox", id: "reply-private", checked: d.post.is_dm });
  const canned = h("select", { id: "canned" }, h("option", { value: "" }, "— canned response —"),
    d.canned.map((t) => h("option", { value: t.text }, t.name)));
  const preview = h("div", { className: "preview", id: "reply-preview", "aria-live": "polite" });
  const count = h("p", { className: "meta", id: "reply-count" });
  const problems = h("ul", { className: "problems", id: "reply-problems" });
  let timer = null;
  const refresh = () => {
    count.textContent = `${text.value.length}${d.limit && !isPrivate.checked ? ` / ${d.limit}` : ""} characters · ${isPrivate.checked ? "DM" : "public reply"}`;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!text.value.trim()) { preview.textContent = ""; problems.replaceChildren(); return; }
      const p = await api("POST", `/escalations/${encodeURIComponent(id)}/preview`, { text: text.value, private: isPrivate.checked });
      preview.textContent = p.masked;
      problems.replaceChildren(...p.problems.map((x) => h("li", {}, x)));
    }, 200);
  };
  canned.addEventListener("change", () => { if (canned.value) { text.value = canned.value; refresh(); text.focus(); } });
  text.addEventListener("input", refresh);
  isPrivate.addEventListener("change", refresh);
  const reply = h("form", { id: "reply-form", "aria-label": "Reply" },
    h("label", { htmlFor: "canned" }, "Canned responses"), canned,
    h("label", { htmlFor: "reply-text" }, "Reply"), text,
    h("label", { className: "inline" }, isPrivate, "Send as a DM"), count,
    h("p", { className: "meta" }, "What will be sent:"), preview, problems,
    h("button", { type: "submit" }, "Send reply"));
  const send = async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/escalations/${encodeURIComponent(id)}/reply`, { text: text.value, private: isPrivate.checked });
      toast("Reply queued for delivery.");
      await openItem(id);
      document.getElementById("outcome")?.focus();
    } catch (err) { problems.replaceChildren(h("li", {}, err.message)); }
  };
  reply.addEventListener("submit", send);
  text.addEventListener("keydown", (event) => { if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event); });
  refresh();

  const note = h("textarea", { id: "note-text", name: "note" });
  const notes = h("form", { id: "note-form", "aria-label": "Notes" },
    h("h2", {}, "Notes"),
    h("ul", {}, d.notes.map((n) => h("li", {}, h("span", { className: "meta" }, `${n.by || n.agent || ""} · ${when(n.at)}: `), n.text))),
    h("label", { htmlFor: "note-text" }, "Add a note for colleagues"), note,
    h("button", { type: "submit", className: "secondary" }, "Add note"));
  notes.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api("POST", `/escalations/${encodeURIComponent(id)}/notes`, { text: note.value }); await openItem(id); } catch (err) { toast(err.message); }
  });

  const choose = (name, label, values) => h("div", {},
    h("label", { htmlFor: name }, label),
    h("select", { id: name }, h("option", { value: "" }, "(as classified)"), values.map(([v, t]) => h("option", { value: v }, t))));
  const outcome = h("select", { id: "outcome", required: true }, d.outcomes.map((o) => h("option", { value: o }, o.replaceAll("_", " "))));
  const resolveError = h("p", { className: "error", role: "alert", id: "resolve-error" });
  const resolve = h("form", { id: "resolve-form", "aria-label": "Resolve" },
    h("h2", {}, "Resolve"),
    h("label", { htmlFor: "outcome" }, "Outcome"), outcome,
    h("fieldset", {}, h("legend", {}, "Corrections (they train the model)"),
      h("div", { className: "columns" },
        choose("fix-topic", "Topic", d.topics.map((t) => [t, t.replaceAll("_", " ")])),
        choose("fix-sentiment", "Sentiment", [["negative", "negative"], ["neutral", "neutral"], ["positive", "positive"]]),
        choose("fix-churn", "Churn risk", [["true", "yes"], ["false", "no"]]),
        choose("fix-needs-human", "Needs a person", [["true", "yes"], ["false", "no"]]))),
    resolveError,
    h("button", { type: "submit" }, "Resolve"),
    " ", h("button", { type: "button", className: "secondary", onclick: async () => {
      await api("POST", `/escalations/${encodeURIComponent(id)}/requeue`, {}).catch((err) => toast(err.message));
      inbox.current = null; await inboxScreen();
    } }, "Give back"),
    " ", h("button", { type: "button", className: "secondary", id: "renew", onclick: async () => {
      await api("POST", `/escalations/${encodeURIComponent(id)}/renew`, {}).then(() => toast("Lease renewed for 10 minutes."), (err) => toast(err.message));
    } }, "Keep 10 more minutes"),
    h("label", { htmlFor: "transfer-queue" }, "Transfer to"),
    h("select", { id: "transfer-queue" }, d.queues.filter((q) => q !== d.escalation.queue).map((q) => h("option", { value: q }, q))),
    " ", h("button", { type: "button", className: "secondary", onclick: async () => {
      const queue = document.getElementById("transfer-queue").value;
      try { await api("POST", `/escalations/${encodeURIComponent(id)}/transfer`, { queue, note: note.value }); toast(`Moved to ${queue}`); inbox.current = null; await inboxScreen(); }
      catch (err) { resolveError.textContent = err.message; }
    } }, "Transfer"));
  // Enter on the outcome or a correction resolves (a select does not submit a form by itself).
  resolve.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target instanceof HTMLSelectElement) { event.preventDefault(); resolve.requestSubmit(); }
  });
  resolve.addEventListener("submit", async (event) => {
    event.preventDefault();
    const corrections = {};
    const pick = (elId) => document.getElementById(elId).value;
    if (pick("fix-topic")) corrections.topic = pick("fix-topic");
    if (pick("fix-sentiment")) corrections.sentiment = pick("fix-sentiment");
    if (pick("fix-churn")) corrections.churn_risk = pick("fix-churn") === "true";
    if (pick("fix-needs-human")) corrections.needs_human = pick("fix-needs-human") === "true";
    try {
      await api("POST", `/escalations/${encodeURIComponent(id)}/resolve`, { outcome: outcome.value, corrections });
      toast(`Resolved ${id}`);
      inbox.current = null;
      await inboxScreen();
    } catch (err) { resolveError.textContent = err.message; }
  });
  return h("div", { className: "columns" }, h("div", { className: "panel" }, reply), h("div", {}, h("div", { className: "panel" }, resolve), h("div", { className: "panel" }, notes)));
}

// ------------------------------------------------------------------------------------------------ notices

const NOTICE_FIELDS = [
  ["kind", "Kind", "select", ["outage", "maintenance", "policy_change", "announcement"]],
  ["language", "Language", "input"],
  ["title", "Title", "input"],
  ["body", "Body", "textarea"],
  ["link", "Link (https://…)", "input"],
  ["services", "Services (comma-separated)", "input"],
  ["regions", "Regions (comma-separated)", "input"],
  ["keywords", "Keywords (comma-separated)", "input"],
  ["starts_at", "Starts at (ISO time with zone; empty = now)", "input"],
  ["ends_at", "Ends at (optional)", "input"],
  ["follow_up", "“Service restored” follow-up (optional)", "textarea"],
];

async function noticesScreen(started = generation) {
  const data = await api("GET", "/notices");
  const rows = data.notices.map((n) => h("tr", { "data-id": n.id },
    h("td", {}, n.id, n.id.startsWith("draft-") ? h("span", { className: "badge sla-at_risk" }, " incident draft") : ""),
    h("td", {}, n.title[n.language] || ""),
    h("td", {}, n.status), h("td", {}, n.kind), h("td", {}, when(n.updated_at)), h("td", {}, n.author),
    h("td", {}, noticeButtons(n))));
  const editor = h("section", { id: "notice-editor", "aria-label": "Notice editor" });
  render(started, h("h1", {}, "Service notices"),
    h("button", { type: "button", id: "new-notice", onclick: () => editNotice(null, editor) }, "New notice"),
    h("table", { id: "notices" }, h("thead", {}, h("tr", {}, ["Id", "Title", "Status", "Kind", "Changed", "By", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)),
    editor);
}

function noticeButtons(n) {
  const act = (action, label) => h("button", { type: "button", className: "secondary", "data-action": action, onclick: async () => {
    if (action === "edit") { editNotice(n, document.getElementById("notice-editor")); return; }
    try {
      const got = await api("POST", `/notices/${encodeURIComponent(n.id)}/${action}`, { version: n.version });
      toast(`${got.notice.id} is ${got.notice.status}${got.follow_ups !== undefined ? ` · ${got.follow_ups} follow-ups queued` : ""}`);
      await noticesScreen();
    } catch (err) { toast(err.message); }
  } }, label);
  const live = n.status === "active" || n.status === "scheduled";
  return [n.status === "draft" || live ? act("edit", "Edit") : "", n.status === "draft" ? act("publish", "Publish") : "",
    live ? act("resolve", "Resolve") : "", live ? act("expire", "Expire") : ""];
}

function noticeFields(form) {
  const value = (name) => form.elements[name].value.trim();
  const list = (name) => value(name) ? value(name).split(",").map((s) => s.trim()).filter(Boolean) : [];
  const language = value("language") || "en";
  const doc = { kind: value("kind"), language, title: { [language]: value("title") }, body: { [language]: value("body") },
    link: value("link"), services: list("services"), regions: list("regions"), keywords: list("keywords"),
    ends_at: value("ends_at") || null, follow_up: value("follow_up") ? { [language]: value("follow_up") } : {} };
  if (value("starts_at")) doc.starts_at = value("starts_at");
  return doc;
}

function editNotice(notice, editor) {
  const errors = h("ul", { className: "problems", id: "notice-errors", role: "alert" });
  const previews = h("div", { id: "notice-previews", "aria-live": "polite" });
  const matches = h("ul", { id: "notice-matches" });
  const lang = notice ? notice.language : "en";
  const initial = notice ? { kind: notice.kind, language: notice.language, title: notice.title[lang], body: notice.body[lang], link: notice.link,
    services: notice.services.join(", "), regions: notice.regions.join(", "), keywords: notice.keywords.join(", "),
    starts_at: notice.starts_at, ends_at: notice.ends_at || "", follow_up: (notice.follow_up || {})[lang] || "" } : { language: "en" };
  const form = h("form", { id: "notice-form", noValidate: true },
    h("h2", {}, notice ? `Edit ${notice.id} (version ${notice.version})` : "New notice"),
    NOTICE_FIELDS.map(([name, label, kind, options]) => h("div", { "data-field": name },
      h("label", { htmlFor: `notice-${name}` }, label),
      kind === "select" ? h("select", { id: `notice-${name}`, name }, options.map((o) => h("option", { value: o, selected: initial[name] === o }, o.replace("_", " "))))
        : h(kind, { id: `notice-${name}`, name, value: initial[name] || "", "aria-describedby": `notice-${name}-error` }),
      h("p", { className: "field-error", id: `notice-${name}-error` }))),
    errors,
    h("button", { type: "button", className: "secondary", id: "notice-preview", onclick: () => preview() }, "Preview"), " ",
    h("button", { type: "submit", id: "notice-save" }, notice ? "Save changes" : "Save draft"),
    h("h2", {}, "What customers will get"), previews,
    h("h2", {}, "Recent posts it would answer"), matches);
  const show = (list) => {
    form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    errors.replaceChildren(...list.map((e) => h("li", {}, `${e.field || "notice"}: ${e.reason}`)));
    for (const e of list) {
      const name = (e.field || "").match(/^[a-z_]+/)?.[0];
      const slot = name && form.querySelector(`#notice-${name}-error`);
      if (slot) { slot.textContent = [slot.textContent, e.reason].filter(Boolean).join("; "); form.elements[name].setAttribute("aria-invalid", "true"); }
    }
  };
  const preview = async () => {
    const got = await api("POST", "/notices/preview", noticeFields(form));
    show(got.errors);
    previews.replaceChildren(...got.previews.map((p) => h("div", { className: "panel" },
      h("p", { className: "meta" }, `${p.language} · ${p.platform} · ${p.reply.length} characters`), h("p", { className: "preview notice-reply" }, p.reply),
      p.follow_up ? h("p", { className: "meta" }, "Follow-up on resolution: ", h("span", {}, p.follow_up)) : "")));
    matches.replaceChildren(...(got.matches || []).map((m) => h("li", {},
      h("span", { className: "item-text" }, m.text), h("span", { className: "meta" }, `${when(m.at)} · ${m.why.join(", ")}`))));
    if (!got.errors.length && !(got.matches || []).length) matches.replaceChildren(h("li", { className: "meta" }, "None in the last 48 hours."));
    return got.errors.length === 0;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const fields = noticeFields(form);
      const saved = notice ? await api("PATCH", `/notices/${encodeURIComponent(notice.id)}`, { ...fields, version: notice.version })
        : await api("POST", "/notices", fields);
      toast(`Saved ${saved.notice.id} (${saved.notice.status})`);
      await noticesScreen();
    } catch (err) { show(err.body.errors || [{ field: "", reason: err.message }]); }
  });
  editor.replaceChildren(form);
  form.elements.title.focus();
}

// ---------------------------------------------------------------------------------------------- dashboard

function counts(title, by, id) {
  const total = Object.values(by).reduce((a, b) => a + b, 0) || 1;
  return h("div", { className: "panel" }, h("h2", {}, title),
    h("table", { id }, h("tbody", {}, Object.entries(by).map(([k, v]) => h("tr", {},
      h("th", { scope: "row" }, k.replaceAll("_", " ")), h("td", {}, String(v)),
      h("td", {}, h("meter", { min: 0, max: total, value: v, "aria-label": `${k} ${v} of ${total}` })))))));
}

async function dashboardScreen(started = generation) {
  const hours = Number(sessionStorage.getItem("hours") || 24);
  const d = await api("GET", `/dashboard?hours=${hours}`);
  const range = h("select", { id: "hours" }, [6, 24, 72, 168].map((n) => h("option", { value: n, selected: n === hours }, `last ${n} h`)));
  range.addEventListener("change", () => { sessionStorage.setItem("hours", range.value); dashboardScreen(); });
  const sla = d.sla || {};
  render(started,
    h("h1", {}, "Care dashboard"),
    h("label", { htmlFor: "hours" }, "Period"), range,
    h("div", { className: "cards", id: "cards" },
      h("div", { className: "card" }, h("strong", {}, String(d.total)), "posts decided"),
      h("div", { className: "card" }, h("strong", {}, String(d.auto_answered)), "answered automatically only"),
      h("div", { className: "card" }, h("strong", {}, String(d.escalated)), "escalated to people"),
      h("div", { className: "card" }, h("strong", {}, String(d.incidents.length)), "open incidents")),
    h("div", { className: "columns" }, counts("By topic", d.by.topic, "by-topic"), counts("By sentiment", d.by.sentiment, "by-sentiment"),
      counts("By channel", d.by.channel, "by-channel"), counts("By outcome", d.by.action, "by-action")),
    h("div", { className: "panel" }, h("h2", {}, "Posts per hour"),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hour"), h("th", { scope: "col" }, "Posts"), h("th", { scope: "col" }, "Topics"))),
        h("tbody", {}, d.series.map((s) => h("tr", {}, h("td", {}, when(s.hour)), h("td", {}, String(s.total)),
          h("td", {}, Object.entries(s).filter(([k]) => k !== "hour" && k !== "total").map(([k, v]) => `${k} ${v}`).join(", "))))))),
    h("div", { className: "panel" }, h("h2", {}, "Open incidents"),
      d.incidents.length ? h("ul", {}, d.incidents.map((i) => h("li", {}, `${i.incident_id} · ${i.topic} · ${i.region || "everywhere"} · opened ${when(i.opened_at)}`)))
        : h("p", { className: "meta" }, "None.")),
    h("div", { className: "panel" }, h("h2", {}, "Queues and SLAs (today)"), slaTable(sla)),
    h("div", { className: "panel" }, h("h2", {}, `Response times (resolved in the last ${hours} h)`), responseTable(d.response_times || {})),
    policyPanel(d.policy_changes || []),
    tryPanel());
}

// Policy versions as they went into service; a diff is fetched on demand and shown as text in a <pre>.
function policyPanel(changes) {
  const out = h("pre", { id: "policy-diff", className: "diff", tabIndex: 0, hidden: true, "aria-label": "Policy diff" });
  const show = async (v, button) => {
    try {
      const d = await api("GET", `/policies/${encodeURIComponent(v.digest)}`);
      out.textContent = (d.diff || "First recorded version: nothing earlier to compare with.") +
        (d.diff_truncated ? "\n[diff truncated: longer than a version record holds]" : "");
      out.hidden = false;
      for (const b of document.querySelectorAll("#policy-changes button")) b.setAttribute("aria-pressed", String(b === button));
      out.focus();
    } catch (err) { toast(err.message); }
  };
  const files = (v) => v.changes.slice(0, 4).map((c) => `${c.path} (${c.status})`).join(", ") + (v.files_changed > 4 ? ` +${v.files_changed - 4} more` : "");
  return h("div", { className: "panel" }, h("h2", {}, "Recent policy changes"),
    changes.length ? h("table", { id: "policy-changes" },
      h("thead", {}, h("tr", {}, ["When", "By", "Version", "Files", "Lines", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, changes.map((v) => {
        const button = h("button", { type: "button", className: "secondary", "data-digest": v.digest, "aria-pressed": "false" }, "View diff");
        button.addEventListener("click", () => show(v, button));
        return h("tr", {}, h("td", {}, when(v.recorded_at)), h("td", {}, v.recorded_by || "—"),
          h("td", {}, h("code", {}, v.digest.slice(0, 12))),
          h("td", {}, v.first ? `first recorded (${v.files_changed} files)` : files(v)),
          h("td", { className: "lines" }, v.first ? "—" : `+${v.added} −${v.removed}`), h("td", {}, button));
      }))) : h("p", { className: "meta" }, "No policy version recorded yet."),
    out);
}

function slaTable(sla) {
  const minutes = (s) => (s ? `${Math.round(s / 60)} min` : "—");
  const done = (sla.sla && sla.sla.by_queue) || {};
  return h("table", { id: "sla" },
    h("thead", {}, h("tr", {}, ["Queue", "Open", "Claimed", "At risk", "Breached", "Oldest wait", "Resolved", "Within SLA"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, Object.entries(sla.queues || {}).map(([name, q]) => {
      const r = done[name] || {};
      return h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, String(q.open)), h("td", {}, String(q.claimed)),
        h("td", {}, String(q.sla_state.at_risk || 0)), h("td", {}, String(q.sla_state.breached || 0)), h("td", {}, minutes(q.oldest_wait_seconds)),
        h("td", {}, String(r.resolved || 0)), h("td", {}, r.compliance === null || r.compliance === undefined ? "—" : `${Math.round(r.compliance * 100)}%`));
    })));
}

function responseTable(rt) {
  const span = (s) => (s === null || s === undefined ? "—" : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
  const share = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`);
  return h("div", {},
    h("table", { id: "response-times" },
      h("caption", {}, "Median and 90th percentile from creation; SLA share of items whose SLA is decided"),
      h("thead", {}, h("tr", {}, ["Queue", "Resolved", "First response median", "First response p90", "Resolution median", "Resolution p90", "Met SLA"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, Object.entries(rt.by_queue || {}).map(([name, q]) => h("tr", {}, h("th", { scope: "row" }, name),
        h("td", {}, String(q.resolved)), h("td", {}, span(q.first_response_median_seconds)), h("td", {}, span(q.first_response_p90_seconds)),
        h("td", {}, span(q.resolution_median_seconds)), h("td", {}, span(q.resolution_p90_seconds)), h("td", {}, share(q.sla_met_share)))))),
    rt.capped ? h("p", { className: "meta", id: "response-times-capped" }, `Only the latest ${rt.cap} resolved items are counted.`) : "");
}

function tryPanel() {
  const text = h("textarea", { id: "try-text", name: "text", maxLength: 2000 });
  const dm = h("input", { type: "checkbox", id: "try-dm" });
  const out = h("div", { id: "try-result", "aria-live": "polite" });
  const form = h("form", { id: "try-form", className: "panel" }, h("h2", {}, "Try a post"),
    h("label", { htmlFor: "try-text" }, "Paste a post (nothing is stored or sent)"), text,
    h("label", { className: "inline" }, dm, "It is a DM"),
    h("button", { type: "submit", id: "try-run" }, "Decide"), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const d = await api("POST", "/try", { text: text.value, is_dm: dm.checked });
      const c = d.classification;
      out.replaceChildren(
        h("p", { id: "try-action" }, h("strong", {}, d.action), ` by rule ${d.rule || "—"}`),
        h("p", { className: "meta" }, `${c.topic} · ${c.sentiment.label} · ${c.language}${c.churn_risk ? " · churn risk" : ""}`),
        h("p", { className: "meta" }, `Rules evaluated: ${d.rules_evaluated.join(" → ")}`),
        d.reasons.length ? h("p", { className: "meta" }, `Why: ${d.reasons.join("; ")}`) : "",
        d.actions.length ? h("ul", {}, d.actions.map((a) => h("li", {}, `${a.type} (${a.rule})${a.queue ? ` → ${a.queue}` : ""}${a.template ? ` · ${a.template}` : ""}`))) : "",
        ...d.replies.map((r) => h("div", {}, h("p", { className: "meta" }, r.private ? "DM:" : "Public reply:"), h("p", { className: "preview try-reply" }, r.text))));
    } catch (err) { out.replaceChildren(h("p", { className: "error", role: "alert" }, err.message)); }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------------- boot

(async () => {
  try { me = await api("GET", "/me"); } catch (err) { if (err.status !== 401) showSignIn(err.message); return; }
  start();
})();

"use strict";
/* callq's web pages: one page, the view chosen by the URL hash (#/wall, #/queue/NAME, #/agent,
 * #/report, #/activity, #/recordings). Everything goes through the control verbs at
 * POST /api/VERB (the same roles as the control socket: the server decides, the buttons only
 * follow) and the live event stream at GET /api/events. No framework, no build step. */

const EVENT_NAMES = ["call.enter", "call.refused", "call.offer", "call.miss", "call.answer",
  "call.abandon", "call.timeout", "call.end", "call.escalate", "call.transfer", "call.bump",
  "agent.login", "agent.logout", "agent.ready", "agent.away", "agent.pause", "agent.resume",
  "agent.recovery_start", "agent.recovery_end", "callback.request", "callback.attempt", "callback.retry",
  "callback.reached", "callback.failed", "callback.move"];
const REFRESH_DEBOUNCE_MS = 150;   /* events come in bursts: one refetch per burst, well within 1 s */
const SAFETY_POLL_MS = 15000;      /* a missed event (feed reconnecting) is repaired this late at most */

const S = {
  csrf: sessionStorage.getItem("callq.csrf") || "",
  me: null,            /* whoami row: login, role */
  queues: [],          /* queue.list rows */
  data: {},            /* queue name -> {stats, calls, members, callbacks (managers only), at} */
  agent: null,         /* agent.show row of the viewer, with .at */
  view: null,          /* {name, arg, live()} */
  events: null,
  poll: 0,
};

/* ---------------------------------------------------------------- API */

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function post(path, body) {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": S.csrf },
    body: JSON.stringify(body || {}),
  });
  let json = null;
  try {
    json = await res.json();
  } catch (e) {
    json = null;
  }
  if (!res.ok || !json || !json.ok) {
    const err = (json && json.error) || {};
    throw new ApiError(res.status, err.code || "http", err.message || `HTTP ${res.status}`);
  }
  return json;
}

/* A control verb: args are its bare words, kv its key=value members (an array value repeats the key). */
function api(verb, args = [], kv = {}) {
  return post("/api/" + verb, Object.assign({ args: args.map(String) }, kv));
}

async function rows(verb, args, kv) {
  return (await api(verb, args, kv)).rows || [];
}

/* Runs a button's verb, says what happened, and refreshes what it touched. */
async function act(verb, args, kv, queue) {
  try {
    const r = await api(verb, args, kv);
    toast(r.text ? `${verb}: ${r.text}` : `${verb}: done`);
  } catch (e) {
    toast(`${verb}: ${e.message}`, true);
  }
  if (queue) schedule(queue);
  else S.queues.forEach((q) => schedule(q.name));
}

/* ---------------------------------------------------------------- helpers */

const $ = (sel, root = document) => root.querySelector(sel);

function esc(v) {
  return String(v == null ? "" : v).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function dur(s) {
  s = Math.max(0, Math.floor(Number(s) || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/* A duration that ticks in the page: seconds `base` as of time `at` (ms), counting up or down. */
function tick(base, at, down = false) {
  return `<span class="tick" data-base="${Number(base) || 0}" data-at="${at}"${down ? " data-down" : ""}>${dur(base)}</span>`;
}

function updateTicks() {
  const now = Date.now();
  document.querySelectorAll(".tick").forEach((el) => {
    const passed = Math.floor((now - Number(el.dataset.at)) / 1000);
    const base = Number(el.dataset.base);
    el.textContent = dur("down" in el.dataset ? base - passed : base + passed);
  });
}

let toastTimer = 0;
function toast(text, bad = false) {
  const t = $("#toast");
  t.textContent = text;
  t.className = bad ? "bad" : "";
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
}

function isAdmin() {
  return S.me && S.me.role === "admin";
}

function myRow(queue) {
  const d = S.data[queue];
  return d && d.members.find((m) => m.login === S.me.login);
}

/* Buttons follow the roles; the server checks them again on every request. */
function manages(queue) {
  const r = myRow(queue);
  return isAdmin() || Boolean(r && r.queue_role === "manager");
}

function managedQueues() {
  return S.queues.filter((q) => manages(q.name)).map((q) => q.name);
}

function isMember() {
  return S.me && S.me.login !== "(local)";
}

/* ---------------------------------------------------------------- live data */

const pending = new Set();
let flushTimer = 0;
const generation = {};

function schedule(queue) {
  pending.add(queue);
  if (!flushTimer) flushTimer = setTimeout(flush, REFRESH_DEBOUNCE_MS);
}

async function refreshQueue(name) {
  const gen = (generation[name] = (generation[name] || 0) + 1);
  const [stats, calls, members] = await Promise.all([
    rows("stats", [name], { window: "3600" }),
    rows("calls", [name]),
    rows("queue.members", [name]),
  ]);
  /* callback.list is for the queue's managers only: asked once the members say who manages it. */
  const managed = isAdmin() || members.some((m) => m.login === S.me.login && m.queue_role === "manager");
  const callbacks = managed ? await rows("callback.list", [name]) : [];
  if (gen === generation[name]) S.data[name] = { stats: stats[0] || {}, calls, members, callbacks, at: Date.now() };
}

async function refreshAgent() {
  if (!isMember()) return;
  const r = await rows("agent.show");
  S.agent = Object.assign(r[0] || {}, { at: Date.now() });
}

async function flush() {
  flushTimer = 0;
  const names = [...pending];
  pending.clear();
  try {
    S.queues = await rows("queue.list");
    await Promise.all([refreshAgent(), ...names.filter((n) => S.queues.some((q) => q.name === n)).map(refreshQueue)]);
  } catch (e) {
    if ((e.status === 401 || e.status === 403) && !(await loggedIn())) return showLogin();
    toast(e.message, true);
  }
  if (S.view) S.view.live();
  updateNav();
}

function refreshAll() {
  S.queues.forEach((q) => schedule(q.name));
  if (!S.queues.length) schedule("");
}

function onEvent(data) {
  if (data && data.queue && S.data[data.queue]) schedule(data.queue);
  else refreshAll();
}

function startEvents() {
  stopEvents();
  const es = new EventSource("/api/events");
  const handler = (ev) => {
    let data = null;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      data = null;
    }
    onEvent(data);
  };
  EVENT_NAMES.forEach((n) => es.addEventListener(n, handler));
  es.onmessage = handler;
  es.onopen = () => { $("#feed").className = "feed on"; refreshAll(); };
  es.onerror = () => { $("#feed").className = "feed off"; };
  S.events = es;
  S.poll = setInterval(refreshAll, SAFETY_POLL_MS);
}

function stopEvents() {
  if (S.events) S.events.close();
  S.events = null;
  clearInterval(S.poll);
}

/* ---------------------------------------------------------------- login */

function showLogin() {
  stopEvents();
  S.me = null;
  $("#top").hidden = true;
  $("#view").innerHTML = "";
  $("#login").hidden = false;
  $("#login-form [name=login]").focus();
}

async function login(ev) {
  ev.preventDefault();
  const f = ev.target;
  $("#login-error").textContent = "";
  try {
    const r = await post("/api/login", { login: f.login.value, password: f.password.value });
    S.csrf = r.csrf || "";
    sessionStorage.setItem("callq.csrf", S.csrf);
    f.password.value = "";
    await enter();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
}

async function logout() {
  try {
    await post("/api/logout");
  } catch (e) {
    /* the session may be gone already: the login form is what we want either way */
  }
  S.csrf = "";
  sessionStorage.removeItem("callq.csrf");
  location.hash = "";
  showLogin();
}

/* The session's whoami row, or null once the session has ended (logout elsewhere, expiry, demotion). */
async function loggedIn() {
  try {
    const who = await rows("whoami");
    return who[0] && who[0].role !== "none" ? who[0] : null;
  } catch (e) {
    return null;
  }
}

async function enter() {
  S.me = await loggedIn();
  if (!S.me) throw new ApiError(403, "denied", "not logged in");
  S.queues = await rows("queue.list");
  await Promise.all([refreshAgent(), ...S.queues.map((q) => refreshQueue(q.name))]);
  $("#login").hidden = true;
  $("#top").hidden = false;
  $("#who").textContent = `${S.me.login} · ${S.me.role}`;
  startEvents();
  route();
}

function updateNav() {
  if (!S.me) return;
  document.querySelectorAll("#nav a").forEach((a) => {
    const hidden = (a.dataset.role === "manager" && !managedQueues().length) ||
      ("member" in a.dataset && !isMember());
    a.hidden = hidden;
    a.classList.toggle("current", S.view && (S.view.name === a.dataset.view ||
      (S.view.name === "queue" && a.dataset.view === "queues")));
  });
}

/* ---------------------------------------------------------------- queue cards */

const COUNTERS = [
  ["longest_wait", "Longest wait", true], ["waiting", "Calls in queue"], ["abandoned", "Abandoned"],
  ["ready", "Agents ready"], ["busy", "Agents busy"], ["away", "Agents away"], ["missed", "Missed"],
  ["handled", "Handled"],
];

function counters(st) {
  return `<div class="counters">${COUNTERS.map(([k, label, time]) => {
    const v = Number(st[k] || 0);
    const tone = (k === "waiting" && v) || (k === "abandoned" && v) || (k === "missed" && v) ? " hot" : "";
    return `<div class="counter${tone}" data-counter="${k}"><span class="num">${time ? dur(v) : v}</span>` +
      `<span class="lbl">${label}</span></div>`;
  }).join("")}</div>`;
}

/* A manager answering a call rings and talks without being logged in as an agent: activity first. */
function agentState(m) {
  if (m.activity === "ringing") return ["ringing", "ring"];
  if (m.activity === "oncall") return ["on call", "busy"];
  if (m.activity === "recovery") return ["recovery", "rec"];
  if (m.logged_in !== "yes") return ["logged out", "off"];
  if (m.missed === "yes") return ["missed", "bad"];
  if (m.ready !== "yes") return [m.away_reason ? `away: ${m.away_reason}` : "away", "away"];
  if (m.active === "no") return ["paused", "away"];
  if (Number(m.retry_left) > 0) return ["resting", "rec"];
  return ["ready", "ok"];
}

function callsTable(name, d, manage) {
  if (!d.calls.length) return `<p class="empty">No calls waiting.</p>`;
  return `<table class="calls"><thead><tr><th>#</th><th>Caller</th><th>Country</th><th>Wait</th><th>State</th>` +
    `${manage ? "<th></th>" : ""}</tr></thead><tbody>${d.calls.map((c) => {
      const buttons = !manage || c.state === "talking" ? "" :
        `<button class="answer" data-act="call.answer" data-id="${esc(c.call)}">Answer</button>` +
        (c.state === "waiting" ? `<button class="bump" data-act="call.bump" data-id="${esc(c.call)}">Bump</button>` : "");
      return `<tr data-call="${esc(c.call)}" class="${esc(c.state)}"><td>${c.state === "talking" ? "" : esc(c.position)}</td>` +
        `<td><b>${esc(c.caller_number)}</b> <span class="name">${esc(c.caller_name)}</span></td><td>${esc(c.country)}</td>` +
        `<td class="wait">${c.state === "talking" ? dur(c.wait) : tick(c.wait, d.at)}</td>` +   /* answered: the wait is over */
        `<td>${esc(c.state)}${c.agent ? ` → ${esc(c.agent)}` : ""}</td>` +
        `${manage ? `<td class="buttons">${buttons}</td>` : ""}</tr>`;
    }).join("")}</tbody></table>`;
}

function agentsTable(name, d, manage) {
  if (!d.members.length) return `<p class="empty">No members.</p>`;
  return `<table class="agents"><thead><tr><th>Agent</th><th>State</th><th>For</th><th>Handled / missed</th>` +
    `${manage ? "<th></th>" : ""}</tr></thead><tbody>${d.members.map((m) => {
      const [label, tone] = agentState(m);
      const spy = manage && m.activity === "oncall" && m.login !== S.me.login ?
        ["listen", "whisper", "barge"].map((mode) =>
          `<button class="spy" data-act="spy" data-agent="${esc(m.login)}" data-mode="${mode}">` +
          `${mode[0].toUpperCase() + mode.slice(1)}</button>`).join("") : "";
      return `<tr data-member="${esc(m.login)}"><td><b>${esc(m.login)}</b> <span class="name">${esc(m.name)}</span>` +
        `${m.queue_role === "manager" ? ' <span class="tag">manager</span>' : ""}</td>` +
        `<td><span class="state ${tone}">${esc(label)}</span></td><td>${tick(m.in_state, d.at)}</td>` +
        `<td>${esc(m.handled)} / ${esc(m.missed_total)}</td>${manage ? `<td class="buttons">${spy}</td>` : ""}</tr>`;
    }).join("")}</tbody></table>`;
}

/* Pending callbacks, for the queue's managers: Move (to the place typed in the row), Now, Cancel. A callback
 * being dialed or talking can only be cancelled (dialing) or not at all (talking): the engine refuses the rest. */
function callbacksTable(d) {
  if (!d.callbacks.length) return `<p class="empty">No callbacks pending.</p>`;
  return `<table class="callbacks"><thead><tr><th>#</th><th>Number</th><th>Caller</th><th>Wait</th><th>Tries</th>` +
    `<th>State</th><th></th></tr></thead><tbody>${d.callbacks.map((c) => {
      const placing = c.state === "dialing" || c.state === "talking";
      const buttons = (placing ? "" :
        `<input class="cb-pos" type="number" min="1" value="${esc(c.position)}" aria-label="new position">` +
        `<button class="cb-move" data-act="callback.move" data-id="${esc(c.id)}">Move</button>` +
        `<button class="cb-now" data-act="callback.now" data-id="${esc(c.id)}">Now</button>`) +
        (c.state === "talking" ? "" :
          `<button class="cb-cancel" data-act="callback.cancel" data-id="${esc(c.id)}">Cancel</button>`);
      return `<tr data-callback="${esc(c.id)}" class="${esc(c.state)}"><td>${esc(c.position)}</td>` +
        `<td><b>${esc(c.number)}</b></td><td>${esc(c.caller_number)}</td><td class="wait">${tick(c.wait, d.at)}</td>` +
        `<td>${esc(c.attempts)}</td><td>${esc(c.state)}${c.agent ? ` → ${esc(c.agent)}` : ""}</td>` +
        `<td class="buttons">${buttons}</td></tr>`;
    }).join("")}</tbody></table>`;
}

function queueCard(name, manage) {
  const q = S.queues.find((x) => x.name === name) || { name };
  const d = S.data[name];
  if (!d) return `<section class="queue" data-queue="${esc(name)}"><h2>${esc(name)}</h2><p>Loading…</p></section>`;
  return `<section class="queue" data-queue="${esc(name)}">
    <h2>${esc(name)} <small>${esc(q.number)} · ${esc(q.strategy)}</small>
      ${q.paused === "yes" ? '<span class="badge">paused</span>' : ""}</h2>
    ${counters(d.stats)}
    <div class="cols">
      <div><h3>Waiting calls <span class="count">${d.calls.filter((c) => c.state !== "talking").length}</span></h3>
        ${callsTable(name, d, manage)}</div>
      <div><h3>Agents</h3>${agentsTable(name, d, manage)}</div>
    </div>
    ${manage ? `<div class="callbacks-part"><h3>Callbacks <span class="count">${d.callbacks.length}</span></h3>
      ${callbacksTable(d)}</div>` : ""}</section>`;
}

/* Buttons inside the live parts carry their verb in data-act: one delegated click handler. */
function onAction(ev) {
  const b = ev.target.closest("button[data-act]");
  if (!b) return;
  const card = b.closest("[data-queue]");
  const queue = card ? card.dataset.queue : "";
  const verb = b.dataset.act;
  if (verb === "call.answer" || verb === "call.bump") act(verb, [b.dataset.id], {}, queue);
  else if (verb === "callback.now" || verb === "callback.cancel") act(verb, [b.dataset.id], {}, queue);
  else if (verb === "callback.move") {
    act(verb, [b.dataset.id], { position: b.closest("tr").querySelector(".cb-pos").value }, queue);
  }
  else if (verb === "spy") act("spy", [b.dataset.agent], { mode: b.dataset.mode }, queue);
  else if (verb === "queue.pause" || verb === "queue.resume") act(verb, [queue], {}, queue);
  else if (verb === "agent.pause" || verb === "agent.resume") {
    act(verb, [b.dataset.queue], {}, b.dataset.queue === "all" ? "" : b.dataset.queue);
  }
  else if (verb === "agent.away" && $("#away-reason").value) act(verb, [], { reason: $("#away-reason").value });
  else act(verb, []);
}

/* ---------------------------------------------------------------- views */

const views = {};

views.wall = (root) => {
  root.innerHTML = `<div class="wall"></div>`;
  const live = () => {
    $(".wall", root).innerHTML = S.queues.length ? S.queues.map((q) => queueCard(q.name, false)).join("") :
      `<p class="empty">You are in no queue.</p>`;
    updateTicks();
  };
  return live;
};

views.queues = (root) => {
  const mine = managedQueues();
  if (mine.length) location.replace(`#/queue/${encodeURIComponent(mine[0])}`);
  else root.innerHTML = `<p class="empty">You manage no queue.</p>`;
  return () => {};
};

/* A callback's new position being typed survives the live part's re-render: returns what puts it back. */
function keepTyped(root) {
  const kept = [...root.querySelectorAll("tr[data-callback] .cb-pos")]
    .filter((i) => i.value !== i.defaultValue || i === document.activeElement)
    .map((i) => [i.closest("tr").dataset.callback, i.value, i === document.activeElement]);
  return () => kept.forEach(([id, value, focused]) => {
    const i = root.querySelector(`tr[data-callback="${CSS.escape(id)}"] .cb-pos`);
    if (!i) return;
    i.value = value;
    if (focused) i.focus();
  });
}

views.queue = (root, name) => {
  const manage = manages(name);
  root.innerHTML = `<nav class="tabs">${managedQueues().map((q) =>
    `<a href="#/queue/${encodeURIComponent(q)}"${q === name ? ' class="current"' : ""}>${esc(q)}</a>`).join("")}</nav>
    <div class="queue-live" data-queue="${esc(name)}"></div>
    ${manage ? `<section class="panel" data-queue="${esc(name)}"><h3>Assign a member to ${esc(name)}</h3>
      <form id="assign" class="row">
        <label>Login <input name="login" list="logins" required size="8"></label>
        <datalist id="logins"></datalist>
        <label>Role <select name="role"><option>agent</option>${isAdmin() ? "<option>manager</option>" : ""}</select></label>
        <label>Skill <select name="skill"><option value="">(none)</option></select></label>
        <button type="submit">Assign</button>
      </form></section>` : ""}`;
  if (manage) {
    rows("member.list").then((ms) => {
      $("#logins").innerHTML = ms.map((m) => `<option value="${esc(m.login)}">${esc(m.name)}</option>`).join("");
    }).catch(() => {});
    rows("skill.list").then((ss) => {
      $("#assign [name=skill]").innerHTML += ss.map((s) => `<option>${esc(s.name)}</option>`).join("");
    }).catch(() => {});
    $("#assign").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      await act("queue.assign", [name, f.login.value], { role: f.role.value }, name);
      if (f.skill.value) await act("skill.assign", [f.login.value, f.skill.value], {}, name);
    });
  }
  return () => {
    const q = S.queues.find((x) => x.name === name);
    const pause = manage && q ? `<div class="row"><button data-act="${q.paused === "yes" ? "queue.resume" : "queue.pause"}">` +
      `${q.paused === "yes" ? "Resume queue" : "Pause queue"}</button></div>` : "";
    const typed = keepTyped(root);
    $(".queue-live", root).innerHTML = q ? pause + queueCard(name, manage) : `<p class="empty">No queue ${esc(name)} for you.</p>`;
    typed();
    updateTicks();
  };
};

views.agent = (root) => {
  root.innerHTML = `<section class="panel agent-panel">
    <div class="agent-live"></div>
    <div class="row">
      <button data-act="agent.login" class="login-btn">Log in</button>
      <button data-act="agent.ready" class="ready-btn">Ready</button>
      <input id="away-reason" placeholder="away reason" size="14">
      <button data-act="agent.away" class="away-btn">Away</button>
      <button data-act="agent.logout" class="logout-btn">Log out</button>
      <button data-act="agent.pause" data-queue="all">Pause all queues</button>
      <button data-act="agent.resume" data-queue="all">Resume all queues</button>
    </div>
    <div class="agent-queues"></div></section>`;
  return () => {
    const a = S.agent || {};
    const [label, tone] = agentState(a);
    let call = "";
    if (Number(a.call)) {
      let c = null;
      for (const q of S.queues) {
        const d = S.data[q.name];
        const found = d && d.calls.find((x) => x.call === a.call);
        if (found) c = Object.assign({ queue: q.name, at: d.at }, found);
      }
      call = c ? `<div class="current-call ${esc(c.state)}"><h3>${c.state === "talking" ? "On call" : "Incoming call"} · ${esc(c.queue)}</h3>
        <p class="caller"><b>${esc(c.caller_number)}</b> ${esc(c.caller_name)} <span class="tag">${esc(c.country)}</span></p>
        <p>waited ${tick(c.wait, c.at)}</p></div>` : `<div class="current-call"><h3>Call ${esc(a.call)}</h3></div>`;
    }
    const recovery = a.activity === "recovery" ?
      `<div class="recovery"><h3>Recovery</h3><p class="big">${tick(a.recovery_left, a.at, true)}</p>
        <button data-act="agent.extend" class="extend-btn">Extend</button></div>` : "";
    $(".agent-live", root).innerHTML = `<h2>${esc(a.name || S.me.login)} <span class="state ${tone}">${esc(label)}</span>
      <small>for ${tick(a.in_state, a.at)}</small></h2>
      <p>Handled ${esc(a.session_handled)} this session (${esc(a.handled)} in all), missed ${esc(a.missed_total)}.</p>
      ${call}${recovery}`;
    $(".agent-queues", root).innerHTML = `<h3>My queues</h3><table><thead><tr><th>Queue</th><th>Role</th><th>In this queue</th><th></th></tr></thead><tbody>${
      S.queues.map((q) => {
        const r = myRow(q.name);
        if (!r) return "";
        const active = r.active === "yes";
        return `<tr data-queue-row="${esc(q.name)}"><td>${esc(q.name)}</td><td>${esc(r.queue_role)}</td>` +
          `<td><span class="state ${active ? "ok" : "away"}">${active ? "active" : "paused"}</span></td>` +
          `<td><button data-act="${active ? "agent.pause" : "agent.resume"}" data-queue="${esc(q.name)}">` +
          `${active ? "Pause" : "Resume"}</button></td></tr>`;
      }).join("")}</tbody></table>`;
    $(".login-btn", root).hidden = a.logged_in === "yes";
    $(".logout-btn", root).hidden = a.logged_in !== "yes";
    updateTicks();
  };
};

/* A report's subjects: the queues the viewer manages, and the agents of those queues (an agent: itself). */
function reportSubjects() {
  const queues = managedQueues();
  const agents = new Set(isMember() ? [S.me.login] : []);
  queues.forEach((q) => (S.data[q] ? S.data[q].members : []).forEach((m) => agents.add(m.login)));
  return { queues, agents: [...agents].sort() };
}

function localInput(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:` +
    `${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

function barChart(list) {
  const metrics = [["offered", "#4a90d9"], ["handled", "#3cb371"], ["missed", "#e0a030"], ["abandoned", "#d9534f"]];
  const max = Math.max(1, ...list.flatMap((r) => metrics.map(([k]) => Number(r[k] || 0))));
  const bw = 14, gap = 30, group = metrics.length * bw + gap, h = 180, top = 20, left = 30;
  const width = Math.max(420, left + list.length * group + 10);
  let svg = `<svg class="chart" viewBox="0 0 ${width} ${h + 75}" role="img" aria-label="calls per queue and agent">`;
  svg += `<line x1="${left}" y1="${top + h}" x2="${width}" y2="${top + h}" class="axis"/>`;
  svg += `<text x="${left - 4}" y="${top + 4}" class="ylabel">${max}</text><text x="${left - 4}" y="${top + h}" class="ylabel">0</text>`;
  list.forEach((r, i) => {
    const x0 = left + 10 + i * group;
    metrics.forEach(([k, color], j) => {
      const v = Number(r[k] || 0), bh = (v / max) * h;
      svg += `<rect x="${x0 + j * bw}" y="${top + h - bh}" width="${bw - 2}" height="${bh}" fill="${color}"><title>${esc(r.name)} ${k}: ${v}</title></rect>`;
    });
    svg += `<text x="${x0 + (metrics.length * bw) / 2}" y="${top + h + 16}" class="xlabel">${esc(r.name)}</text>`;
  });
  metrics.forEach(([k, color], j) => {
    svg += `<rect x="${left + j * 90}" y="${top + h + 32}" width="10" height="10" fill="${color}"/>` +
      `<text x="${left + j * 90 + 14}" y="${top + h + 41}" class="legend">${k}</text>`;
  });
  return svg + "</svg>";
}

views.report = (root) => {
  const { queues, agents } = reportSubjects();
  const now = new Date();
  const box = (kind, names) => names.map((n) =>
    `<label class="check"><input type="checkbox" name="${kind}" value="${esc(n)}" checked> ${esc(n)}</label>`).join("");
  root.innerHTML = `<section class="panel"><h2>Performance indicators</h2>
    <form id="report-form">
      <div class="row"><b>Queues</b> ${box("queue", queues) || "<i>none</i>"}</div>
      <div class="row"><b>Agents</b> ${box("agent", agents) || "<i>none</i>"}</div>
      <div class="row">
        <label>From <input type="datetime-local" step="1" name="from" value="${localInput(new Date(now - 3600e3))}"></label>
        <label>To <input type="datetime-local" step="1" name="to" value="${localInput(now)}"></label>
        <button type="button" data-preset="3600">Last hour</button>
        <button type="button" data-preset="today">Today</button>
        <button type="button" data-preset="604800">Last 7 days</button>
      </div>
      <div class="row"><button type="submit" id="report-run">Show</button>
        <button type="button" id="report-csv">Download CSV</button></div>
    </form>
    <div id="report-out"></div></section>`;
  const f = $("#report-form");
  const request = () => {
    const kv = {
      from: String(Math.floor(new Date(f.from.value).getTime() / 1000)),
      to: String(Math.floor(new Date(f.to.value).getTime() / 1000)),
    };
    const q = [...f.querySelectorAll("[name=queue]:checked")].map((i) => i.value);
    const a = [...f.querySelectorAll("[name=agent]:checked")].map((i) => i.value);
    if (q.length) kv.queue = q;
    if (a.length) kv.agent = a;
    return kv;
  };
  f.addEventListener("click", (ev) => {
    const p = ev.target.dataset.preset;
    if (!p) return;
    const end = new Date();
    const start = p === "today" ? new Date(end.getFullYear(), end.getMonth(), end.getDate()) : new Date(end - p * 1000);
    f.from.value = localInput(start);
    f.to.value = localInput(end);
  });
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const kv = request();
    const out = $("#report-out");
    try {
      const list = await rows("report", [], kv);
      const cols = ["offered", "handled", "missed", "abandoned", "avg_wait", "max_wait", "avg_talk", "avg_recovery",
        "occupancy", "logged_in", "away"];
      const timeCols = new Set(["avg_wait", "max_wait", "avg_talk", "avg_recovery", "logged_in", "away"]);
      out.innerHTML = `<div class="report" data-from="${kv.from}" data-to="${kv.to}">${barChart(list)}
        <table class="report-table"><thead><tr><th></th><th>Name</th>${cols.map((c) => `<th>${c.replace("_", " ")}</th>`).join("")}</tr></thead>
        <tbody>${list.map((r) => `<tr><td>${esc(r.type)}</td><td><b>${esc(r.name)}</b></td>${cols.map((c) =>
          `<td>${r[c] === undefined ? "—" : timeCols.has(c) ? dur(r[c]) : c === "occupancy" ? esc(r[c]) + "%" : esc(r[c])}</td>`).join("")}</tr>`).join("")}
        </tbody></table></div>`;
    } catch (e) {
      out.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  });
  $("#report-csv").addEventListener("click", async () => {
    const kv = request();
    try {
      /* The CSV lines come back as one text without the last line's end: put it back, so the file is
       * byte for byte what the control socket sends. */
      const r = await api("report", [], Object.assign({ format: "csv" }, kv));
      const blob = new Blob([r.text + "\n"], { type: "text/csv" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `callq-report-${kv.from}-${kv.to}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      toast(`downloaded ${a.download}`);
    } catch (e) {
      toast(`report: ${e.message}`, true);
    }
  });
  return () => {};
};

views.activity = (root) => {
  root.innerHTML = `<section class="panel"><h2>Activity log</h2>
    <form class="row" id="activity-form"><label>Queue <select name="queue">${S.queues.map((q) =>
      `<option>${esc(q.name)}</option>`).join("")}</select></label>
    <label>Past <select name="window"><option value="3600">hour</option><option value="14400">4 hours</option>
      <option value="86400">day</option></select></label></form>
    <div id="activity-out"></div></section>`;
  const f = $("#activity-form");
  let busy = false;
  const load = async () => {
    if (busy || !f.queue.value) return;
    busy = true;
    try {
      const list = await rows("activity", [f.queue.value], { window: f.window.value });
      $("#activity-out").innerHTML = list.length ? `<table class="activity"><thead><tr><th>Time</th><th>Member</th><th>What</th>` +
        `<th>Call</th><th>Details</th></tr></thead><tbody>${list.map((r) => `<tr><td>${esc(r.time.replace("T", " "))}</td>` +
        `<td>${esc(r.member)}</td><td>${esc(r.what)}</td><td>${esc(r.call || "")}</td><td>${esc([r.reason,
          r.wait !== undefined ? `waited ${dur(r.wait)}` : "", r.talk !== undefined ? `talked ${dur(r.talk)}` : ""]
          .filter(Boolean).join(", "))}</td></tr>`).join("")}</tbody></table>` : `<p class="empty">No activity.</p>`;
    } catch (e) {
      $("#activity-out").innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
    busy = false;
  };
  f.addEventListener("change", load);
  load();
  return load;
};

/* Recordings the viewer may see: admins all, managers those of their queues, agents their own. */
async function loadRecordings() {
  let list;
  if (isAdmin()) list = await rows("recordings");
  else if (managedQueues().length) list = (await Promise.all(managedQueues().map((q) => rows("recordings", [], { queue: q })))).flat();
  else list = await rows("recordings", [], { agent: S.me.login });
  const seen = new Set();
  return list.filter((r) => !seen.has(r.id) && seen.add(r.id)).sort((a, b) => b.started - a.started);
}

views.recordings = (root) => {
  root.innerHTML = `<section class="panel"><h2>Recordings</h2><div id="recordings-out">Loading…</div></section>`;
  loadRecordings().then((list) => {
    $("#recordings-out").innerHTML = list.length ? `<table class="recordings"><thead><tr><th>Started</th><th>Kind</th>` +
      `<th>Queue</th><th>Agent</th><th>Length</th><th>Status</th><th></th></tr></thead><tbody>${list.map((r) => {
        const url = `/api/recording?id=${encodeURIComponent(r.id)}`;
        const playable = r.status === "done";
        return `<tr data-recording="${esc(r.id)}"><td>${esc(new Date(r.started * 1000).toLocaleString())}</td><td>${esc(r.kind)}</td>` +
          `<td>${esc(r.queue)}</td><td>${esc(r.agent)}</td><td>${dur(r.duration)}</td><td>${esc(r.status)} ${esc(r.error)}</td>` +
          `<td>${playable ? `<audio controls preload="none" src="${url}"></audio> <a href="${url}&amp;download=1" download>Download</a>` : ""}</td></tr>`;
      }).join("")}</tbody></table>` : `<p class="empty">No recordings.</p>`;
  }).catch((e) => {
    $("#recordings-out").innerHTML = `<p class="error">${esc(e.message)}</p>`;
  });
  return () => {};
};

/* ---------------------------------------------------------------- routing */

function route() {
  if (!S.me) return;
  const [, name = "wall", arg = ""] = location.hash.split("/");
  const make = views[name] || views.wall;
  const root = $("#view");
  S.view = { name: views[name] ? name : "wall", live: () => {} };
  S.view.live = make(root, decodeURIComponent(arg)) || (() => {});
  S.view.live();
  updateNav();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#view").addEventListener("click", onAction);
  window.addEventListener("hashchange", route);
  setInterval(updateTicks, 1000);
  enter().catch(showLogin);
});

// Genesis dashboard: polls GET /v1/status once a second and the last 15 minutes
// (GET /v1/status/history, drawn as small SVG charts) every two, takes breaker and mode transitions
// and external events live from the gateway's WebSocket, and sends operator commands to the
// /v1/admin/* routes. Snapshots and transition events carry the daemon's state_version: the
// page never applies breaker or mode state older than what it shows. The bearer token lives
// in memory, or in sessionStorage when the operator asks to keep it for this tab; never in
// localStorage or a cookie.
"use strict";

(function () {
  const POLL_MS = 1000;
  const LOG_MAX = 200;
  const TOKEN_KEY = "genesis.token";
  const HISTORY_MS = 2000;
  const POLICY_MS = 10000;
  const WINDOW_S = 60; // the table's rate, success and p99: the last minute of the history
  const SVG = "http://www.w3.org/2000/svg";
  let history = null; // the last GET /v1/status/history answer
  let modeChosen = false; // the operator picked a mode not applied yet: leave the selector
  const backoffs = new Map(); // supervised id -> {ms, at}: from supervisor.restarting events

  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let ws = null;
  let wsRetryMs = 500;
  let pollTimer = null;
  let polling = false;
  let pollAgain = false;
  // The newest breaker and mode state shown, as the daemon numbers its transitions
  // (state_version, counted again from 0 by each daemon process, state_epoch). A status
  // snapshot built before a transition event the page already applied is older than the
  // event however late it arrives: its breakers and mode are not applied (its counters are).
  const shown = { epoch: null, version: -1 };
  let staleSnapshots = 0; // snapshots whose breakers and mode were older than shown: skipped
  // Last known breaker state per component and mode, to list the transitions that polling
  // sees but no event reported (the event bus is best effort: an event can be lost).
  const known = { mode: null, breakers: new Map() };
  // subject ("breaker:<id>" or "mode") -> the transition entry inferred from status, which a
  // late event for the same change completes instead of adding a second entry.
  const inferred = new Map();

  const $ = (id) => document.getElementById(id);

  function authHeaders(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h["Authorization"] = "Bearer " + token;
    return h;
  }

  function fmtInt(n) {
    return typeof n === "number" ? n.toLocaleString("en-US") : "-";
  }

  function fmtUs(us) {
    if (typeof us !== "number" || us <= 0) return "-";
    if (us < 1000) return us + " µs";
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + " ms";
    return (us / 1e6).toFixed(2) + " s";
  }

  function fmtUptime(ms) {
    if (typeof ms !== "number") return "-";
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + s + "s";
  }

  function fmtBytes(n) {
    if (typeof n !== "number") return "-";
    if (n < 1024) return n + " B";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }

  function fmtAge(ms) {
    if (typeof ms !== "number" || ms < 0) return "-";
    return ms < 1000 ? ms + " ms" : fmtUptime(ms);
  }

  // The last minute of a component's history: rate, success % and the highest p99.
  function recent(id) {
    const h = history && history.components.find((c) => c.id === id);
    if (!h) return null;
    const k = Math.min(h.requests.length, Math.max(1, Math.round(WINDOW_S * 1000 / history.interval_ms)));
    if (k === 0) return null;
    let req = 0, err = 0, p99 = 0;
    for (let i = h.requests.length - k; i < h.requests.length; i++) {
      req += h.requests[i];
      for (const r in h.errors) err += h.errors[r][i];
      if (h.p99_us[i] !== null && h.p99_us[i] > p99) p99 = h.p99_us[i];
    }
    return { rate: req / (k * history.interval_ms / 1000), requests: req, errors: err, p99: p99 };
  }

  function successRate(c) {
    const w = recent(c.id);
    if (!w || !w.requests) return "-";
    const ok = Math.max(0, w.requests - w.errors);
    return (100 * ok / w.requests).toFixed(ok === w.requests ? 0 : 1) + " %";
  }

  function fmtRate(r) {
    if (typeof r !== "number") return "-";
    return r === 0 ? "0" : r < 10 ? r.toFixed(2) : r.toFixed(0);
  }

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  // ---- status -----------------------------------------------------------------------------

  function showStatusState(ok, text) {
    const el = $("status-state");
    el.dataset.ok = ok ? "true" : "false";
    setText(el, "status: " + text);
  }

  function actionButton(label, id, state, title) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.dataset.action = state;
    b.addEventListener("click", () => breakerAction(id, state));
    return b;
  }

  function componentRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.component = id;
    const cells = ["id", "health", "breaker", "in_flight num", "queued num", "rate num",
                   "success num", "p99 num", "requests num", "actions"];
    for (const cls of cells) {
      const td = document.createElement("td");
      td.className = cls;
      tr.appendChild(td);
    }
    tr.querySelector(".id").textContent = id;
    const actions = tr.querySelector(".actions");
    // The breaker API's operator states: forced open, closed (a reset: automatic again, empty
    // window, base open time), disabled and metrics-only.
    actions.appendChild(actionButton("Force open", id, "open",
                                     "reject every request until reset"));
    actions.appendChild(actionButton("Reset", id, "reset",
                                     "close the breaker and make it automatic again"));
    actions.appendChild(actionButton("Disable", id, "disable",
                                     "admit every request and record nothing"));
    actions.appendChild(actionButton("Measure only", id, "metrics-only",
                                     "admit every request, record outcomes and rates, never open"));
    return tr;
  }

  // Whether state numbered (epoch, version) is at least as new as what is shown; if so it is
  // now what is shown. A daemon without state_version: always (no ordering to keep).
  function takeState(epoch, version, orEqual) {
    if (typeof version !== "number") return true;
    if (epoch !== shown.epoch) { // another daemon process: its count started again
      shown.epoch = epoch;
      shown.version = version;
      return true;
    }
    if (version < shown.version || (version === shown.version && !orEqual)) return false;
    shown.version = version;
    return true;
  }

  function renderComponents(list, fresh) {
    const body = $("component-rows");
    const seen = new Set();
    for (const c of list) {
      seen.add(c.id);
      let tr = body.querySelector('tr[data-component="' + CSS.escape(c.id) + '"]');
      if (!tr) {
        tr = componentRow(c.id);
        body.appendChild(tr);
      }
      const health = tr.querySelector(".health");
      health.dataset.health = c.health;
      setText(health, c.health + (c.remote ? " (remote" + (c.instances ? ", " + c.instances : "") + ")" : ""));
      if (fresh || !tr.querySelector(".breaker").dataset.state) {
        noteBreaker(c.id, c.breaker);
        setBreaker(tr, c.breaker);
      }
      const br = tr.querySelector(".breaker");
      const rates = [];
      if (typeof c.failure_rate_pct === "number" && c.failure_rate_pct >= 0)
        rates.push("failure rate " + c.failure_rate_pct.toFixed(1) + " %");
      if (typeof c.slow_call_rate_pct === "number" && c.slow_call_rate_pct >= 0)
        rates.push("slow calls " + c.slow_call_rate_pct.toFixed(1) + " %");
      if (typeof c.concurrency_limit === "number" && c.concurrency_limit > 0)
        rates.push("concurrency limit " + c.concurrency_limit);
      br.title = rates.length ? "breaker window: " + rates.join(", ") : "";
      setText(tr.querySelector(".in_flight"), fmtInt(c.in_flight));
      setText(tr.querySelector(".queued"), fmtInt(c.queued));
      const w = recent(c.id);
      setText(tr.querySelector(".rate"), w ? fmtRate(w.rate) : "-");
      setText(tr.querySelector(".success"), successRate(c));
      setText(tr.querySelector(".p99"), fmtUs(w ? w.p99 : 0));
      setText(tr.querySelector(".requests"), fmtInt(c.requests));
    }
    for (const tr of Array.from(body.rows))
      if (!seen.has(tr.dataset.component)) tr.remove();
    $("no-components").hidden = list.length > 0;
  }

  function setBreaker(tr, state) {
    const el = tr.querySelector(".breaker");
    el.dataset.state = state;
    setText(el, state);
  }

  function setMode(mode, forced) {
    const el = $("mode");
    el.dataset.mode = mode;
    setText(el, mode);
    if (forced !== undefined) {
      $("mode-forced").hidden = !forced;
      // The selector shows what is in force: the forced mode, or AUTO.
      const sel = $("mode-select");
      if (!modeChosen && document.activeElement !== sel) sel.value = forced ? mode : "AUTO";
    }
  }

  function noteBreaker(id, state) {
    const before = known.breakers.get(id);
    if (before !== undefined && before !== state)
      inferTransition("breaker:" + id, "breaker", id + ": " + before + " → " + state, state);
    known.breakers.set(id, state);
  }

  function noteMode(mode) {
    if (known.mode !== null && known.mode !== mode)
      inferTransition("mode", "mode", known.mode + " → " + mode, mode);
    known.mode = mode;
  }

  function inferTransition(subject, kind, text, to) {
    inferred.set(subject, appendLog("transitions", kind, text + " (seen in status)", to, "status"));
  }

  // A transition event: complete the entry polling inferred for it, or add one.
  function eventTransition(subject, kind, text, to) {
    const li = inferred.get(subject);
    inferred.delete(subject);
    if (li && li.dataset.to === to && li.isConnected) {
      li.lastChild.textContent = text;
      li.dataset.via = "event";
    } else {
      appendLog("transitions", kind, text, to, "event");
    }
  }

  // fresh: the snapshot is not older than the breaker and mode state shown.
  function render(doc, fresh) {
    if (fresh) {
      noteMode(doc.mode);
      setMode(doc.mode, doc.mode_forced);
    }
    setText($("unhealthy"), fmtInt(doc.unhealthy));
    setText($("requests"), fmtInt(doc.stats ? doc.stats.requests : undefined));
    setText($("uptime"), fmtUptime(doc.uptime_ms));
    setText($("version"), doc.version || "-");
    renderComponents(doc.components || [], fresh);
    renderInstances(doc.components || []);
    renderCheckpoints(doc);
    renderSupervised(doc.supervised || []);
  }

  // ---- views: instances, checkpoints, supervised processes, policies -----------------------

  // Rows keyed by data-key in tbody: cells (class names) made once, filled by fill(tr, item).
  function syncRows(tbodyId, items, key, cells, fill) {
    const body = $(tbodyId);
    const seen = new Set();
    for (const it of items) {
      const k = key(it);
      seen.add(k);
      let tr = body.querySelector('tr[data-key="' + CSS.escape(k) + '"]');
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.key = k;
        for (const cls of cells) {
          const td = document.createElement("td");
          td.className = cls;
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      fill(tr, it);
    }
    for (const tr of Array.from(body.rows))
      if (!seen.has(tr.dataset.key)) tr.remove();
  }

  function renderInstances(list) {
    syncRows("instance-rows", list, (c) => c.id, ["id", "where", "count num", "urls"], (tr, c) => {
      setText(tr.querySelector(".id"), c.id);
      setText(tr.querySelector(".where"), c.remote ? "remote" : "in-process");
      setText(tr.querySelector(".count"), c.remote ? fmtInt(c.instances) : "-");
      setText(tr.querySelector(".urls"), (c.urls || []).join(" ") || (c.remote ? "none" : "-"));
    });
  }

  function renderCheckpoints(doc) {
    const ck = doc.checkpoints || {};
    setText($("checkpoint-store"), ck.store ? "(" + ck.store + ")" : "(no store)");
    const list = (doc.components || []).filter((c) => c.checkpoint && c.checkpoint.generation > 0 || (c.checkpoint && c.checkpoint.error));
    syncRows("checkpoint-rows", list, (c) => c.id, ["id", "gen num", "age num", "size num", "error"], (tr, c) => {
      setText(tr.querySelector(".id"), c.id);
      setText(tr.querySelector(".gen"), fmtInt(c.checkpoint.generation));
      setText(tr.querySelector(".age"), fmtAge(c.checkpoint.age_ms));
      setText(tr.querySelector(".size"), fmtBytes(c.checkpoint.size));
      setText(tr.querySelector(".error"), c.checkpoint.error || "");
    });
  }

  function renderSupervised(list) {
    syncRows("supervised-rows", list, (s) => s.id, ["id", "state", "pid num", "restarts num", "backoff num", "up num", "exit"], (tr, s) => {
      setText(tr.querySelector(".id"), s.id);
      const st = tr.querySelector(".state");
      st.dataset.state = s.state;
      setText(st, s.state);
      const b = backoffs.get(s.id);
      let bo = b ? fmtAge(b.ms) : "-";
      if (b && s.state === "BACKOFF") {
        const left = b.ms - (Date.now() - b.at);
        bo += left > 0 ? ", restart in " + fmtAge(Math.round(left)) : ", restarting";
      }
      setText(tr.querySelector(".backoff"), bo);
      setText(tr.querySelector(".pid"), s.pid ? String(s.pid) : "-");
      setText(tr.querySelector(".restarts"), fmtInt(s.restarts));
      setText(tr.querySelector(".up"), s.uptime_ms ? fmtUptime(s.uptime_ms) : "-");
      setText(tr.querySelector(".exit"), s.last_exit || "");
    });
    $("no-supervised").hidden = list.length > 0;
  }

  function renderPolicies(doc) {
    const pol = doc.policies || {};
    const ids = Object.keys(pol).sort((a, b) => (a === "*" ? -1 : b === "*" ? 1 : a.localeCompare(b)));
    const head = $("policies").tHead.rows[0];
    while (head.cells.length > 1) head.deleteCell(1);
    for (const id of ids) {
      const th = document.createElement("th");
      th.className = "num";
      th.textContent = id;
      head.appendChild(th);
    }
    const def = (pol["*"] || {}).policy || {};
    const fields = Object.keys(def);
    const body = $("policy-rows");
    body.textContent = "";
    for (const f of fields) {
      const tr = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = f;
      tr.appendChild(name);
      for (const id of ids) {
        const td = document.createElement("td");
        td.className = "num";
        const v = ((pol[id] || {}).policy || {})[f];
        td.textContent = v === undefined ? "-" : String(v);
        if (id !== "*" && v !== def[f]) td.classList.add("differs");
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  async function pollPolicies() {
    try {
      const r = await fetch("/v1/status/policies", { headers: authHeaders(), cache: "no-store" });
      if (r.ok) renderPolicies(await r.json());
    } catch (e) { /* the status poll reports an unreachable gateway */ }
    setTimeout(pollPolicies, POLICY_MS);
  }

  // ---- history charts --------------------------------------------------------------------------

  function svgEl(name, attrs) {
    const el = document.createElementNS(SVG, name);
    for (const k in attrs) el.setAttribute(k, attrs[k]);
    return el;
  }

  // A small line chart of several series (same length, oldest first; null = no value) drawn
  // over the whole window (history.slots), newest at the right edge.
  function chart(series, fmt) {
    const W = 220, H = 56, PAD = 2;
    const svg = svgEl("svg", { width: W, height: H + 12, viewBox: "0 0 " + W + " " + (H + 12), class: "chart" });
    const slots = history.slots;
    let max = 0, last = 0;
    for (const s of series)
      for (const v of s.values) if (v !== null && v > max) max = v;
    svg.appendChild(svgEl("line", { x1: 0, y1: H, x2: W, y2: H, class: "axis" }));
    const step = (W - 2 * PAD) / Math.max(1, slots - 1);
    for (const s of series) {
      const n = s.values.length;
      const pts = [];
      s.values.forEach((v, i) => {
        if (v === null) return;
        const x = PAD + (slots - n + i) * step;
        const y = H - (max > 0 ? (v / max) * (H - 2 * PAD) : 0);
        pts.push(x.toFixed(1) + "," + y.toFixed(1));
      });
      if (pts.length === 1) pts.push(pts[0]);
      svg.appendChild(svgEl("polyline", { points: pts.join(" "), class: s.cls }));
      const tail = s.values.filter((v) => v !== null);
      if (series.length === 1 && tail.length) last = tail[tail.length - 1];
    }
    const label = svgEl("text", { x: 0, y: H + 11 });
    label.textContent = "max " + fmt(max) + (series.length === 1 ? " · now " + fmt(last) : "");
    svg.appendChild(label);
    svg.dataset.max = String(max);
    svg.dataset.last = String(last);
    return svg;
  }

  function legend(items) {
    const div = document.createElement("div");
    div.className = "legend";
    for (const [cls, text] of items) {
      const s = document.createElement("span");
      s.className = cls;
      s.textContent = "— " + text;
      div.appendChild(s);
    }
    return div;
  }

  function renderHistory() {
    const perS = 1000 / history.interval_ms;
    const rate = (v) => v === 0 ? "0/s" : (v < 10 ? v.toFixed(2) : v.toFixed(0)) + "/s";
    syncRows("history-rows", history.components, (c) => c.id, ["id", "rate", "errors", "latency"], (tr, c) => {
      setText(tr.querySelector(".id"), c.id);
      const r = tr.querySelector(".rate");
      r.replaceChildren(chart([{ values: c.requests.map((v) => v * perS), cls: "s-rate" }], rate));
      const reasons = Object.keys(c.errors);
      const e = tr.querySelector(".errors");
      const errSeries = reasons.length
        ? reasons.map((name, i) => ({ values: c.errors[name].map((v) => v * perS), cls: "s-err" + (i % 4) }))
        : [{ values: c.requests.map(() => 0), cls: "s-err0" }];
      e.replaceChildren(chart(errSeries, rate),
                        legend(reasons.length ? reasons.map((n, i) => ["s-err" + (i % 4), n]) : [["muted", "no errors"]]));
      const l = tr.querySelector(".latency");
      l.replaceChildren(chart([{ values: c.p50_us, cls: "s-p50" }, { values: c.p99_us, cls: "s-p99" }], fmtUs),
                        legend([["s-p50", "p50"], ["s-p99", "p99"]]));
    });
    $("no-history").hidden = history.components.length > 0 && history.samples > 0;
    const mins = Math.round(history.slots * history.interval_ms / 60000);
    setText($("history-state"), "(" + history.samples + " of " + history.slots + " samples, every " +
            history.interval_ms / 1000 + " s, " + mins + " min)");
  }

  async function pollHistory() {
    try {
      const r = await fetch("/v1/status/history", { headers: authHeaders(), cache: "no-store" });
      if (r.ok) {
        history = await r.json();
        renderHistory();
      }
    } catch (e) { /* the status poll reports an unreachable gateway */ }
    setTimeout(pollHistory, HISTORY_MS);
  }

  async function poll() {
    if (polling) {
      pollAgain = true; // the answer in flight may predate what asked for this poll
      return;
    }
    polling = true;
    pollAgain = false;
    clearTimeout(pollTimer);
    try {
      const r = await fetch("/v1/status", { headers: authHeaders(), cache: "no-store" });
      if (r.status === 401) {
        showStatusState(false, token ? "token refused" : "token required");
        setAuthState(token ? "the gateway refused this token" : "this gateway needs a token");
      } else if (!r.ok) {
        const err = await r.json().catch(() => ({}));
        showStatusState(false, r.status + " " + (err.message || r.statusText));
      } else {
        const doc = await r.json();
        // Decided when the answer is complete, not when its headers came: an event may
        // have been applied while the body was on its way.
        const fresh = takeState(doc.state_epoch, doc.state_version, true);
        if (!fresh) {
          staleSnapshots++;
          pollAgain = true; // a newer snapshot shows what the event did, and the counters
        }
        render(doc, fresh);
        const el = $("status-state");
        el.dataset.version = String(shown.version);
        el.dataset.stale = String(staleSnapshots);
        showStatusState(true, "ok");
      }
    } catch (e) {
      showStatusState(false, "gateway unreachable");
    } finally {
      polling = false;
      pollTimer = setTimeout(poll, pollAgain ? 100 : POLL_MS);
    }
  }

  // ---- live events --------------------------------------------------------------------------

  function now() {
    const t = document.createElement("time");
    const d = new Date();
    t.textContent = d.toTimeString().slice(0, 8);
    t.dateTime = d.toISOString();
    return t;
  }

  function appendLog(listId, kind, text, to, via) {
    const list = $(listId);
    const li = document.createElement("li");
    if (to) li.dataset.to = to;
    if (via) li.dataset.via = via;
    li.appendChild(now());
    const k = document.createElement("span");
    k.className = "kind";
    k.textContent = kind;
    li.appendChild(k);
    li.appendChild(document.createTextNode(text));
    list.insertBefore(li, list.firstChild);
    while (list.childElementCount > LOG_MAX) list.lastElementChild.remove();
    return li;
  }

  function describe(data) {
    if (data === undefined || data === null) return "";
    return typeof data === "string" ? data : JSON.stringify(data);
  }

  function onEvent(msg) {
    const d = msg.data && typeof msg.data === "object" ? msg.data : {};
    const system = msg.source === "genesis"; // the coordinator's own, not a component's
    if (system && msg.type === "genesis.breaker") {
      const id = String(d.component);
      // An event older than the snapshot shown is listed but changes nothing on display.
      if (takeState(d.state_epoch, d.state_version, false)) {
        const tr = $("component-rows").querySelector('tr[data-component="' + CSS.escape(id) + '"]');
        if (tr) setBreaker(tr, d.to);
        if (known.breakers.has(id)) known.breakers.set(id, d.to);
      }
      eventTransition("breaker:" + id, "breaker", id + ": " + d.from + " → " + d.to +
                      (d.cause ? " (" + d.cause + ")" : ""), d.to);
      poll(); // health, counters and mode follow a breaker change
    } else if (system && msg.type === "genesis.mode") {
      if (takeState(d.state_epoch, d.state_version, false)) {
        setMode(d.to);
        if (known.mode !== null) known.mode = d.to;
      }
      eventTransition("mode", "mode", d.from + " → " + d.to + (d.cause ? " (" + d.cause + ")" : "") +
                      (typeof d.unhealthy === "number" ? ", " + d.unhealthy + "/" + d.components + " unhealthy" : ""), d.to);
      poll();
    } else if (msg.type === "supervisor.restarting" && typeof d.backoff_ms === "number") {
      backoffs.set(String(d.id), { ms: d.backoff_ms, at: Date.now() });
      appendLog("events", String(msg.type), (msg.source ? msg.source + ": " : "") + describe(msg.data));
      poll();
    } else if (msg.type === "error") {
      appendLog("events", "error", describe(msg.data));
    } else {
      appendLog("events", String(msg.type), (msg.source ? msg.source + ": " : "") + describe(msg.data));
    }
  }

  function setLive(on, text) {
    const el = $("live");
    el.dataset.live = on ? "on" : "off";
    setText(el, "events: " + text);
  }

  function connect() {
    if (ws) ws.close();
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    // topic=* asks for every event, the coordinator's transitions included.
    let url = proto + "//" + location.host + "/ws?id=dashboard&topic=*";
    if (token) url += "&access_token=" + encodeURIComponent(token);
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      wsRetryMs = 500;
      setLive(true, "live");
    };
    sock.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      onEvent(msg);
    };
    sock.onclose = () => {
      if (ws !== sock) return; // replaced by a newer connection
      ws = null;
      setLive(false, "reconnecting (status still polled)");
      setTimeout(connect, wsRetryMs);
      wsRetryMs = Math.min(wsRetryMs * 2, 10000);
    };
  }

  // ---- operator actions ----------------------------------------------------------------------

  function showResult(ok, text) {
    const el = $("action-result");
    el.dataset.ok = ok ? "true" : "false";
    el.textContent = text;
  }

  async function admin(path, body, what) {
    try {
      const r = await fetch(path, {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
      });
      const doc = await r.json().catch(() => ({}));
      if (r.ok) showResult(true, what + ": done");
      else showResult(false, what + ": " + r.status + " " + (doc.reason || "") + " " + (doc.message || ""));
    } catch (e) {
      showResult(false, what + ": gateway unreachable");
    }
    poll();
  }

  function breakerAction(id, state) {
    admin("/v1/admin/components/" + encodeURIComponent(id) + "/breaker", { state: state },
          "breaker " + state + " " + id);
  }

  // ---- token ----------------------------------------------------------------------------------

  function setAuthState(text) {
    setText($("auth-state"), text);
  }

  function useToken(t, remember) {
    token = t;
    if (remember && t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
    setAuthState(t ? (remember ? "token kept for this tab" : "token in memory") : "no token");
    connect();
    poll();
  }

  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("token");
    useToken(input.value.trim(), $("remember").checked);
    input.value = "";
  });
  $("forget").addEventListener("click", () => useToken("", false));
  $("mode-select").addEventListener("change", () => { modeChosen = true; });
  $("mode-form").addEventListener("submit", (e) => {
    e.preventDefault();
    modeChosen = false;
    const mode = $("mode-select").value;
    admin("/v1/admin/mode", { mode: mode }, "mode " + mode);
  });

  if (token) {
    $("remember").checked = true;
    setAuthState("token kept for this tab");
  }
  connect();
  poll();
  pollHistory();
  pollPolicies();
})();

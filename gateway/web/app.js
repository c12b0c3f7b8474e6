// Genesis dashboard: polls GET /v1/status once a second, takes breaker and mode transitions
// and external events live from the gateway's WebSocket, and sends operator commands to the
// /v1/admin/* routes. The bearer token lives in memory, or in sessionStorage when the
// operator asks to keep it for this tab; never in localStorage or a cookie.
"use strict";

(function () {
  const POLL_MS = 1000;
  const LOG_MAX = 200;
  const TOKEN_KEY = "genesis.token";

  let token = sessionStorage.getItem(TOKEN_KEY) || "";
  let ws = null;
  let wsRetryMs = 500;
  let pollTimer = null;
  let polling = false;
  let pollAgain = false;
  // Bumped by every transition event: a status answer started before one is stale.
  let eventGen = 0;
  let staleAnswers = 0; // in a row; a flapping breaker must not starve the display
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

  function successRate(c) {
    if (!c.requests) return "-";
    return (100 * c.succeeded / c.requests).toFixed(c.succeeded === c.requests ? 0 : 1) + " %";
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

  function actionButton(label, id, state) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = state;
    b.addEventListener("click", () => breakerAction(id, state));
    return b;
  }

  function componentRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.component = id;
    const cells = ["id", "health", "breaker", "in_flight num", "queued num", "success num",
                   "p99 num", "requests num", "actions"];
    for (const cls of cells) {
      const td = document.createElement("td");
      td.className = cls;
      tr.appendChild(td);
    }
    tr.querySelector(".id").textContent = id;
    const actions = tr.querySelector(".actions");
    actions.appendChild(actionButton("Open", id, "open"));
    actions.appendChild(actionButton("Close", id, "close"));
    actions.appendChild(actionButton("Reset", id, "reset"));
    return tr;
  }

  function renderComponents(list) {
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
      noteBreaker(c.id, c.breaker);
      setBreaker(tr, c.breaker);
      setText(tr.querySelector(".in_flight"), fmtInt(c.in_flight));
      setText(tr.querySelector(".queued"), fmtInt(c.queued));
      setText(tr.querySelector(".success"), successRate(c));
      setText(tr.querySelector(".p99"), fmtUs(c.latency_us ? c.latency_us.p99 : 0));
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
    if (forced !== undefined) $("mode-forced").hidden = !forced;
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

  function render(doc) {
    noteMode(doc.mode);
    setMode(doc.mode, doc.mode_forced);
    setText($("unhealthy"), fmtInt(doc.unhealthy));
    setText($("requests"), fmtInt(doc.stats ? doc.stats.requests : undefined));
    setText($("uptime"), fmtUptime(doc.uptime_ms));
    setText($("version"), doc.version || "-");
    renderComponents(doc.components || []);
  }

  async function poll() {
    if (polling) {
      pollAgain = true; // the answer in flight may predate what asked for this poll
      return;
    }
    polling = true;
    pollAgain = false;
    clearTimeout(pollTimer);
    const gen = eventGen;
    try {
      const r = await fetch("/v1/status", { headers: authHeaders(), cache: "no-store" });
      const stale = gen !== eventGen && ++staleAnswers < 3;
      if (!stale) staleAnswers = 0;
      if (stale) {
        pollAgain = true; // a transition arrived meanwhile: this answer may be older
      } else if (r.status === 401) {
        showStatusState(false, token ? "token refused" : "token required");
        setAuthState(token ? "the gateway refused this token" : "this gateway needs a token");
      } else if (!r.ok) {
        const err = await r.json().catch(() => ({}));
        showStatusState(false, r.status + " " + (err.message || r.statusText));
      } else {
        render(await r.json());
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
      eventGen++;
      const id = String(d.component);
      const tr = $("component-rows").querySelector('tr[data-component="' + CSS.escape(id) + '"]');
      if (tr) setBreaker(tr, d.to);
      if (known.breakers.has(id)) known.breakers.set(id, d.to);
      eventTransition("breaker:" + id, "breaker", id + ": " + d.from + " → " + d.to +
                      (d.cause ? " (" + d.cause + ")" : ""), d.to);
      poll(); // health, counters and mode follow a breaker change
    } else if (system && msg.type === "genesis.mode") {
      eventGen++;
      setMode(d.to);
      if (known.mode !== null) known.mode = d.to;
      eventTransition("mode", "mode", d.from + " → " + d.to + (d.cause ? " (" + d.cause + ")" : "") +
                      (typeof d.unhealthy === "number" ? ", " + d.unhealthy + "/" + d.components + " unhealthy" : ""), d.to);
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
  $("mode-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const mode = $("mode-select").value;
    admin("/v1/admin/mode", { mode: mode }, "mode " + mode);
  });

  if (token) {
    $("remember").checked = true;
    setAuthState("token kept for this tab");
  }
  connect();
  poll();
})();

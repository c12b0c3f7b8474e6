// End-to-end test of the gateway's dashboard in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser download).
//
// Starts genesisd --demo with its embedded gateway on a free port and a token file, opens
// the page, enters the token, checks the demo components show, forces comp1's breaker open
// through the admin route and checks the page reflects it (live over the WebSocket), sends
// an external event from a second page and sees it stream in, forces a mode and resets the
// breaker from the page's own controls, checks the history charts move when traffic starts,
// the views (instances, policies, supervised processes) and that the "forced" badge and the
// mode selector follow the mode, that a status snapshot older than a breaker event the page
// applied is skipped, and saves a screenshot. The daemon and the browser
// are always stopped; the daemon must exit cleanly (sanitizer builds fail on a report).
//
//   node dashboard_test.js --genesisd PATH --chromium PATH --screenshot FILE
//        [--lsan-supp FILE]
"use strict";

const assert = require("assert");
const fs = require("fs");
const path = require("path");
const { WAIT_MS, sleep, Daemon, launchChromium, runMain } = require("./browser_harness");

const ADMIN_TOKEN = "dashboard-test-admin-" + process.pid;

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i], value = argv[i + 1];
    if (value === undefined) throw new Error("missing value for " + key);
    if (key === "--genesisd") args.genesisd = value;
    else if (key === "--chromium") args.chromium = value;
    else if (key === "--screenshot") args.screenshot = value;
    else if (key === "--lsan-supp") args.lsanSupp = value;
    else throw new Error("unknown argument " + key);
  }
  if (!args.genesisd || !args.chromium || !args.screenshot)
    throw new Error("usage: dashboard_test.js --genesisd PATH --chromium PATH --screenshot FILE");
  return args;
}

function step(text) {
  console.log("dashboard: " + text);
}

// ---- HTTP helpers ---------------------------------------------------------------------------

async function api(base, method, route, body, token) {
  const headers = {};
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

async function statusOf(base) {
  const r = await api(base, "GET", "/v1/status", undefined, ADMIN_TOKEN);
  assert.strictEqual(r.status, 200, "GET /v1/status: " + r.text);
  return r.json;
}

async function until(what, fn) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error("timed out waiting for " + what);
}

// ---- the test -------------------------------------------------------------------------------

async function checkAssets(base) {
  const page = await api(base, "GET", "/");
  assert.strictEqual(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html; charset=utf-8$/);
  assert.match(page.headers.get("content-security-policy"), /default-src 'none'.*script-src 'self'/);
  assert.strictEqual(page.headers.get("x-content-type-options"), "nosniff");
  const etag = page.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const again = await fetch(base + "/", { headers: { "If-None-Match": etag } });
  assert.strictEqual(again.status, 304, "If-None-Match with the current ETag gives 304");
  const js = await api(base, "GET", "/ui/app.js");
  assert.strictEqual(js.status, 200);
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  assert.strictEqual((await api(base, "GET", "/ui/missing.js")).status, 404);
  assert.strictEqual((await api(base, "GET", "/v1/status")).status, 401, "the gateway runs with --auth-file");
}

async function run(args, tmp, cleanups, failing) {
  const tokens = path.join(tmp, "tokens");
  fs.writeFileSync(tokens, ADMIN_TOKEN + " *,admin\n", { mode: 0o600 });
  const daemon = new Daemon([args.genesisd, "--demo", "--front-door", "tcp://127.0.0.1:0",
    "--events", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--auth-file", tokens,
    "--log-level", "warn", "--history-interval", "200"], tmp, args.lsanSupp);
  let daemonStopped = false;
  cleanups.push(async () => {
    if (daemonStopped) return;
    daemonStopped = true;
    const r = await daemon.stop();
    if (r.code !== 0) throw new Error("genesisd exited " + JSON.stringify(r) + "; stderr:\n" + daemon.stderr());
  });
  const base = await daemon.ready();
  step("genesisd serves " + base);
  await checkAssets(base);
  step("assets: content types, ETag/304, CSP, auth on data routes");

  const browser = await launchChromium(args.chromium);
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  const page = await context.newPage();
  // On failure: what the page showed, and the daemon's log (mode and breaker changes are WARN).
  cleanups.push(async () => {
    if (!failing.now) return;
    const shown = await page.evaluate(() => ["live", "status-state", "mode", "transitions", "events", "action-result"]
      .map((id) => id + ": " + document.getElementById(id).innerText.replace(/\n/g, " | ")).join("\n"))
      .catch((e) => "(page gone: " + e.message + ")");
    const st = await api(base, "GET", "/v1/status", undefined, ADMIN_TOKEN).catch(() => ({ json: null }));
    const metrics = await api(base, "GET", "/metrics", undefined, ADMIN_TOKEN).catch(() => ({ text: "" }));
    const lost = (metrics.text || "").split("\n").filter((l) => /^genesis_gateway_(bus_|events)/.test(l)).join("\n");
    console.error("dashboard: the page showed:\n" + shown + "\nlistener_restarts " +
      (st.json ? st.json.stats.listener_restarts : "?") + "\n" + lost + "\ngenesisd stderr:\n" + daemon.stderr());
    const shot = args.screenshot.replace(/\.png$/, "") + "-failure.png";
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error("dashboard: failure screenshot " + shot);
  });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push("console: " + m.text());
  });

  await page.goto(base + "/");
  await page.waitForFunction(() => document.getElementById("status-state").textContent.includes("token required"),
    null, { timeout: WAIT_MS });
  step("without a token the page asks for one");

  await page.fill("#token", ADMIN_TOKEN);
  await page.click("#auth-form button[type=submit]");
  for (const id of ["comp1", "comp2"])
    await page.waitForSelector(`tr[data-component="${id}"] .health[data-health="UP"]`, { timeout: WAIT_MS });
  await page.waitForSelector('#live[data-live="on"]', { timeout: WAIT_MS });
  assert.strictEqual(await page.inputValue("#token"), "", "the token field is cleared");
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepStrictEqual(stored, { local: 0, session: 0, cookie: "" }, "the token stays in memory");
  step("with the token: comp1 and comp2 UP, events live");

  // Nothing forced: the badge stays hidden (it once showed always: a CSS rule beat [hidden]).
  assert.strictEqual(await page.isVisible("#mode-forced"), false, "no 'forced' badge in AUTO");
  assert.strictEqual(await page.inputValue("#mode-select"), "AUTO");

  // The views fed by the status report and GET /v1/status/policies.
  for (const id of ["comp1", "comp2"])
    await page.waitForSelector(`#instance-rows tr[data-key="${id}"] .where`, { timeout: WAIT_MS });
  await page.waitForSelector("#policy-rows td", { timeout: WAIT_MS });
  const policyHead = await page.$$eval("#policies thead th", (ths) => ths.map((t) => t.textContent));
  assert.ok(policyHead.includes("*") && policyHead.includes("comp1"), "policy columns: " + policyHead);
  assert.ok(await page.isVisible("#no-supervised"), "genesisd without --supervise says so");
  step("views: instances, effective policies, no supervised processes");

  // The history: comp1's request-rate chart is flat before traffic and moves once it starts.
  const rateChart = 'tr[data-key="comp1"] .rate svg';
  await page.waitForSelector(rateChart, { timeout: WAIT_MS });
  assert.strictEqual(await page.getAttribute(rateChart, "data-max"), "0", "no traffic yet");

  // Some traffic, so the table shows success rates and latencies.
  for (let i = 0; i < 20; i++)
    for (const id of ["comp1", "comp2"]) {
      const r = await api(base, "POST", `/v1/components/${id}/request`, { type: "ping" }, ADMIN_TOKEN);
      assert.strictEqual(r.status, 200, r.text);
    }
  await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.max) > 0, rateChart,
    { timeout: WAIT_MS });
  await page.waitForFunction(() => {
    const s = document.querySelector('tr[data-key="comp1"] .latency svg');
    return s && Number(s.dataset.max) > 0;
  }, null, { timeout: WAIT_MS });
  await until("comp1's 20 requests in the history", async () => {
    const history = await api(base, "GET", "/v1/status/history", undefined, ADMIN_TOKEN);
    assert.strictEqual(history.status, 200, history.text);
    const h1 = history.json.components.find((c) => c.id === "comp1");
    const sum = h1.requests.reduce((a, b) => a + b, 0);
    assert.ok(sum <= 20, "no request counted twice: " + sum);
    return sum === 20;
  });
  const head = await fetch(base + "/v1/status/history", { method: "HEAD", headers: { Authorization: "Bearer " + ADMIN_TOKEN } });
  assert.strictEqual(head.status, 200, "HEAD on a GET route");
  step("history: the request-rate and latency charts move when traffic starts");

  // A breaker forced open by another operator (the admin route): the page shows it at once.
  const opened = await api(base, "POST", "/v1/admin/components/comp1/breaker", { state: "open" }, ADMIN_TOKEN);
  assert.strictEqual(opened.status, 200, opened.text);
  const t0 = Date.now();
  await page.waitForSelector('tr[data-component="comp1"] .breaker[data-state$="OPEN"]', { timeout: WAIT_MS });
  step(`breaker opened by the admin route: shown after ${Date.now() - t0} ms`);
  // Its transition is listed: from the WebSocket event (normally at once), or inferred from
  // status when the best-effort event bus lost the event.
  const via = await transitionVia(page, "comp1", "FORCED_OPEN");
  step(`its transition is listed (via ${via})`);
  const state = await page.textContent('tr[data-component="comp1"] .breaker');
  assert.strictEqual(state, (await statusOf(base)).components.find((c) => c.id === "comp1").breaker);
  const failFast = await api(base, "POST", "/v1/components/comp1/request", { type: "ping" }, ADMIN_TOKEN);
  assert.strictEqual(failFast.status, 503, "an open breaker fails fast: " + failFast.text);
  await page.waitForSelector('tr[data-key="comp1"] .errors .legend .s-err0', { timeout: WAIT_MS });
  assert.match(await page.textContent('tr[data-key="comp1"] .errors .legend'), /BREAKER_OPEN/);
  step("the error chart names the reason: BREAKER_OPEN");

  // An external event from another WebSocket client streams into the page's event list.
  const sender = await context.newPage();
  await sender.goto(base + "/healthz"); // a page of the gateway's origin (a blank one is foreign)
  const wsUrl = base.replace(/^http/, "ws") + "/ws?id=comp2&access_token=" + encodeURIComponent(ADMIN_TOKEN);
  await sender.evaluate((url) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.send(JSON.stringify({ type: "chat", data: "hello from the test" })); setTimeout(resolve, 100); };
    ws.onerror = () => reject(new Error("sender websocket failed"));
  }), wsUrl);
  await page.waitForFunction(() => Array.from(document.querySelectorAll("#events li"))
    .some((li) => li.textContent.includes("hello from the test")), null, { timeout: WAIT_MS });
  await sender.close();
  step("an external event streamed into the page");

  // Operator actions from the page's own controls: force SAFE, then close comp1's breaker.
  await page.selectOption("#mode-select", "SAFE");
  await page.click("#mode-apply");
  await until("mode SAFE (forced) after the page's action", async () => {
    const s = await statusOf(base);
    return s.mode === "SAFE" && s.mode_forced;
  });
  await page.waitForSelector('#mode[data-mode="SAFE"]', { timeout: WAIT_MS });
  await page.waitForSelector('#action-result[data-ok="true"]', { timeout: WAIT_MS });
  await page.waitForSelector("#mode-forced", { state: "visible", timeout: WAIT_MS });
  assert.strictEqual(await page.inputValue("#mode-select"), "SAFE", "the selector shows the forced mode");
  step(`mode SAFE forced from the page: coordinator agrees, transition listed (via ${await transitionVia(page, "", "SAFE")})`);

  await page.screenshot({ path: args.screenshot, fullPage: true });
  step("screenshot: " + args.screenshot);

  const breakerOf = async () => (await statusOf(base)).components.find((c) => c.id === "comp1").breaker;
  await page.click('tr[data-component="comp1"] button[data-action="disable"]');
  await until("comp1's breaker DISABLED after the page's action", async () => (await breakerOf()) === "DISABLED");
  await page.waitForSelector('tr[data-component="comp1"] .breaker[data-state="DISABLED"]', { timeout: WAIT_MS });
  await page.click('tr[data-component="comp1"] button[data-action="metrics-only"]');
  await until("comp1's breaker METRICS_ONLY after the page's action", async () => (await breakerOf()) === "METRICS_ONLY");
  await page.waitForSelector('tr[data-component="comp1"] .breaker[data-state="METRICS_ONLY"]', { timeout: WAIT_MS });
  await page.click('tr[data-component="comp1"] button[data-action="reset"]');
  await until("comp1's breaker CLOSED after the page's reset", async () => (await breakerOf()) === "CLOSED");
  await page.waitForSelector('tr[data-component="comp1"] .breaker[data-state="CLOSED"]', { timeout: WAIT_MS });
  step("comp1's breaker disabled, measuring only, then reset (closed, automatic) from the page");
  const timed = await api(base, "POST", "/v1/admin/components/comp2/breaker", { state: "open", for_ms: 60000 }, ADMIN_TOKEN);
  assert.strictEqual(timed.status, 200, timed.text);
  assert.strictEqual(timed.json.for_ms, 60000);
  await api(base, "POST", "/v1/admin/components/comp2/breaker", { state: "reset" }, ADMIN_TOKEN);
  await page.waitForSelector('tr[data-component="comp2"] .breaker[data-state="CLOSED"]', { timeout: WAIT_MS });
  await staleSnapshot(page, base);

  // A refused action shows its reason instead of failing silently.
  await page.fill("#token", "not-a-token");
  await page.click("#auth-form button[type=submit]");
  await page.selectOption("#mode-select", "AUTO");
  await page.click("#mode-apply");
  await page.waitForFunction(() => {
    const el = document.getElementById("action-result");
    return el.dataset.ok === "false" && el.textContent.includes("401");
  }, null, { timeout: WAIT_MS });
  assert.strictEqual((await statusOf(base)).mode, "SAFE", "a refused action changes nothing");
  step("an action with a bad token is refused and says why");

  const viaEvent = await page.$$eval('#transitions li[data-via="event"]', (l) => l.length);
  assert.ok(viaEvent > 0, "at least one transition arrived live over the WebSocket");
  assert.deepStrictEqual(problems, [], "no page errors or CSP violations");
}

// A status snapshot built before a breaker transition but answered after the page applied
// it (a slow answer, a proxy, a body still on its way) must not put the page back to the
// older state. The snapshot is taken before comp2's breaker opens; once the page shows it
// open (from the event, or from a newer snapshot if the best-effort bus lost the event),
// every status request of the page gets that old snapshot as its answer.
async function staleSnapshot(page, base) {
  const old = await api(base, "GET", "/v1/status", undefined, ADMIN_TOKEN);
  assert.strictEqual(old.json.components.find((c) => c.id === "comp2").breaker, "CLOSED");
  let stale = false;
  const isStatus = (url) => new URL(url).pathname === "/v1/status";
  const answer = (route) => stale
    ? route.fulfill({ status: 200, contentType: "application/json", body: old.text })
    : route.continue();
  await page.route(isStatus, answer);
  const opened = await api(base, "POST", "/v1/admin/components/comp2/breaker", { state: "open" }, ADMIN_TOKEN);
  assert.strictEqual(opened.status, 200, opened.text);
  const comp2 = 'tr[data-component="comp2"] .breaker';
  await page.waitForSelector(comp2 + '[data-state="FORCED_OPEN"]', { timeout: WAIT_MS });
  const skippedBefore = Number(await page.getAttribute("#status-state", "data-stale"));
  stale = true;
  // Whichever comes first: the page skips the old snapshot, or it shows comp2 closed again.
  await page.waitForFunction(([sel, before]) => {
    const skipped = Number(document.getElementById("status-state").dataset.stale || 0);
    return skipped > before || document.querySelector(sel).dataset.state === "CLOSED";
  }, [comp2, skippedBefore], { timeout: WAIT_MS });
  assert.strictEqual(await page.getAttribute(comp2, "data-state"), "FORCED_OPEN",
    "a snapshot older than the breaker event put the page back to the older state");
  stale = false;
  await page.unroute(isStatus, answer);
  const shown = await page.getAttribute("#status-state", "data-version");
  assert.ok(Number(shown) > old.json.state_version, `the page shows state ${shown}, newer than the old snapshot's ${old.json.state_version}`);
  await api(base, "POST", "/v1/admin/components/comp2/breaker", { state: "reset" }, ADMIN_TOKEN);
  await page.waitForSelector(comp2 + '[data-state="CLOSED"]', { timeout: WAIT_MS });
  step(`an old status snapshot answered after the breaker event is skipped (state ${old.json.state_version} < ${shown})`);
}

// Wait for a transition entry mentioning text with the given target state; returns how it
// arrived ("event" or "status").
async function transitionVia(page, text, to) {
  const handle = await page.waitForFunction(([text, to]) => {
    const li = Array.from(document.querySelectorAll("#transitions li"))
      .find((li) => li.dataset.to === to && li.textContent.includes(text));
    return li ? li.dataset.via : null;
  }, [text, to], { timeout: WAIT_MS });
  return handle.jsonValue();
}

const args = parseArgs(process.argv);
runMain("dashboard", (tmp, cleanups, failing) => run(args, tmp, cleanups, failing));

// Other websites against a gateway without --auth-file, in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, as dashboard_test.js).
//
// genesisd --demo serves its gateway on loopback. A page of another origin (a small HTTP
// server of this test, named evil.test through Chromium's host resolver rules) and a page
// opened from file:// each try what a hostile page can do without a CORS preflight:
//   - POST /v1/admin/mode {"mode":"EMERGENCY"} as text/plain, as a form body and with no type;
//   - POST a component request as JSON (needs a preflight, which the gateway never grants);
//   - open /ws?id=comp1&topic=* and read the events.
// Then a DNS-rebinding page (rebind.test resolved to the gateway's own address) reads
// /v1/status from "its own" origin. Afterwards the mode is still NORMAL, no session was
// opened, every attempt was refused (403/415, counted in the metrics), and the same requests
// from the gateway's own origin (its dashboard page) still work.
//
//   node cross_site_test.js --genesisd PATH --chromium PATH [--lsan-supp FILE]
"use strict";

const assert = require("assert");
const fs = require("fs");
const http = require("http");
const path = require("path");
const { Daemon, launchChromium, runMain } = require("./browser_harness");

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i], value = argv[i + 1];
    if (value === undefined) throw new Error("missing value for " + key);
    if (key === "--genesisd") args.genesisd = value;
    else if (key === "--chromium") args.chromium = value;
    else if (key === "--lsan-supp") args.lsanSupp = value;
    else throw new Error("unknown argument " + key);
  }
  if (!args.genesisd || !args.chromium)
    throw new Error("usage: cross_site_test.js --genesisd PATH --chromium PATH");
  return args;
}

function step(text) {
  console.log("cross-site: " + text);
}

async function getJson(url) {
  const r = await fetch(url);
  return { status: r.status, json: await r.json().catch(() => null) };
}

async function metric(base, name) {
  const text = await (await fetch(base + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ")[1]) : NaN;
}

// What a hostile page tries; runs inside the page (its origin). Results the page can see:
// opaque (no-cors) responses hide the status, so the verdict comes from the gateway's state.
async function attack(gw) {
  const out = {};
  const evil = JSON.stringify({ mode: "EMERGENCY" });
  const attempts = [
    ["text", { "Content-Type": "text/plain" }],
    ["form", { "Content-Type": "application/x-www-form-urlencoded" }],
  ];
  for (const [name, headers] of attempts) {
    try {
      await fetch(gw + "/v1/admin/mode", { method: "POST", mode: "no-cors", headers, body: evil });
      out[name] = "sent";
    } catch (e) {
      out[name] = "blocked: " + e.message;
    }
  }
  try { // a Blob without a type: no Content-Type header at all
    await fetch(gw + "/v1/admin/mode", { method: "POST", mode: "no-cors", body: new Blob([evil]) });
    out.untyped = "sent";
  } catch (e) {
    out.untyped = "blocked: " + e.message;
  }
  try { // JSON needs a preflight: the browser must not get to send it
    const r = await fetch(gw + "/v1/components/comp1/request", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"ping"}' });
    out.json = "read " + r.status + " " + (await r.text());
  } catch (e) {
    out.json = "blocked";
  }
  out.ws = await new Promise((resolve) => {
    let ws;
    try { ws = new WebSocket(gw.replace(/^http/, "ws") + "/ws?id=comp1&topic=*"); } catch (e) { resolve("blocked"); return; }
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
  });
  return out;
}

async function run(args, tmp, cleanups) {
  const daemon = new Daemon([args.genesisd, "--demo", "--front-door", "tcp://127.0.0.1:0",
    "--events", "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn"], tmp, args.lsanSupp);
  let daemonStopped = false;
  cleanups.push(async () => {
    if (daemonStopped) return;
    daemonStopped = true;
    const r = await daemon.stop();
    if (r.code !== 0) throw new Error("genesisd exited " + JSON.stringify(r) + "; stderr:\n" + daemon.stderr());
  });
  const base = await daemon.ready();
  const gwPort = Number(base.split(":").pop());
  step("genesisd serves " + base + " without --auth-file");

  // Another website: a plain page on another loopback port.
  const site = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>another site</title><p>another site</p>");
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => site.close(resolve)));
  const sitePort = site.address().port;
  const filePage = path.join(tmp, "attack.html");
  fs.writeFileSync(filePage, "<!doctype html><title>a saved page</title><p>file</p>");

  const browser = await launchChromium(args.chromium,
    ["--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1"]);
  cleanups.push(() => browser.close());
  const context = await browser.newContext();
  const page = await context.newPage();

  const refusedBefore = await metric(base, "genesis_gateway_cross_site_refused_total");
  const origins = [["http://evil.test:" + sitePort + "/", "another origin"],
    ["file://" + filePage, "a file:// page"]];
  for (const [url, what] of origins) {
    await page.goto(url);
    const out = await page.evaluate(attack, base);
    step(what + ": " + JSON.stringify(out));
    assert.notStrictEqual(out.ws, "open", what + ": the WebSocket must not open");
    assert.ok(!String(out.json).startsWith("read"), what + ": the JSON response must not be readable");
    const st = await getJson(base + "/v1/status");
    assert.strictEqual(st.status, 200);
    assert.strictEqual(st.json.mode, "NORMAL", what + ": the mode must not change");
    assert.strictEqual(st.json.mode_forced, false, what + ": the mode must not be forced");
  }
  const refusedAfter = await metric(base, "genesis_gateway_cross_site_refused_total");
  // per page: 3 POSTs (foreign Origin) and the WebSocket upgrade, at least
  assert.ok(refusedAfter - refusedBefore >= 8, `foreign Origin refusals counted: ${refusedBefore} -> ${refusedAfter}`);
  step(`every attempt refused (cross_site_refused_total ${refusedBefore} -> ${refusedAfter})`);

  // DNS rebinding: the attacker's name now resolves to the gateway's address, so the page is
  // "same origin" with it. The Host header still names the attacker's domain.
  const resp = await page.goto("http://rebind.test:" + gwPort + "/v1/status");
  assert.strictEqual(resp.status(), 403, "a rebound name is refused");
  assert.match(await resp.text(), /HOST_NOT_ALLOWED/);
  const rebound = await page.evaluate(async () => {
    const r = await fetch("/v1/admin/mode", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ mode: "EMERGENCY" }) });
    return r.status;
  });
  assert.strictEqual(rebound, 403, "a rebound page cannot force the mode");
  step("DNS rebinding (rebind.test -> the gateway): 403 HOST_NOT_ALLOWED");

  // The gateway's own origin keeps working in the same browser.
  await page.goto(base + "/");
  const own = await page.evaluate(async (gw) => {
    const r = await fetch(gw + "/v1/components/comp1/request", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: '{"type":"ping"}' });
    const ws = await new Promise((resolve) => {
      const s = new WebSocket(gw.replace(/^http/, "ws") + "/ws?id=comp1&topic=*");
      s.onopen = () => { s.close(); resolve("open"); };
      s.onerror = () => resolve("refused");
    });
    return { status: r.status, body: await r.text(), ws };
  }, base);
  assert.deepStrictEqual(own, { status: 200, body: '{"result":"Pong from comp1"}', ws: "open" });
  step("the gateway's own page: request 200, WebSocket open");
  const st = await getJson(base + "/v1/status");
  assert.strictEqual(st.json.mode, "NORMAL");
}

const args = parseArgs(process.argv);
runMain("cross-site", (tmp, cleanups) => run(args, tmp, cleanups));

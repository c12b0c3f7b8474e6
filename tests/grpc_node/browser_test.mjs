// A page in Debian's headless Chromium (driven by playwright-core, no browser download) that
// speaks Connect to the gateway with the browser's own fetch: JSON unary calls and the
// application/connect+json stream of Genesis.Watch, from another origin (so every call goes
// through CORS: the gateway runs with --allowed-origin naming the page's origin, and the
// preflights of connect-timeout-ms and application/json must pass).
// Checks: a unary ping; an error whose ErrorInfo details it decodes; deadline exceeded
// (Connect-Timeout-Ms); a Watch stream of events, then cancelled (AbortController); a request
// at the size limit and one above it (resource_exhausted); and a page from an origin not
// allowed cannot read any answer.
//
//   node browser_test.mjs --genesisd PATH --service PATH --chromium PATH [--lsan-supp FILE]
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { chromium } from "playwright-core";

import { Proc, WAIT_MS } from "./procs.mjs";

const MAX_BODY = 65536;

function parseArgs(argv) {
  const a = {};
  for (let i = 2; i < argv.length; i += 2) a[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const k of ["genesisd", "service", "chromium"]) if (!a[k]) throw new Error("missing --" + k);
  return a;
}

const step = (t) => console.log("browser: " + t);

// Runs in the page: a minimal Connect client on fetch.
const pageClient = `
window.connectUnary = async (base, method, body, headers) => {
  const r = await fetch(base + "/genesis.v1.Genesis/" + method, {
    method: "POST",
    headers: Object.assign({"content-type": "application/json", "connect-protocol-version": "1"}, headers || {}),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};
window.watch = (base, req) => {
  const json = new TextEncoder().encode(JSON.stringify(req));
  const frame = new Uint8Array(5 + json.length);
  new DataView(frame.buffer).setUint32(1, json.length);
  frame.set(json, 5);
  const abort = new AbortController();
  const state = { events: [], ended: null, abort };
  state.done = (async () => {
    try {
      const r = await fetch(base + "/genesis.v1.Genesis/Watch", { method: "POST",
        headers: {"content-type": "application/connect+json", "connect-protocol-version": "1"},
        body: frame, signal: abort.signal });
      const reader = r.body.getReader();
      let buf = new Uint8Array(0);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) { state.ended = "eof"; return; }
        const next = new Uint8Array(buf.length + value.length);
        next.set(buf); next.set(value, buf.length); buf = next;
        while (buf.length >= 5) {
          const n = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
          if (buf.length < 5 + n) break;
          const msg = JSON.parse(new TextDecoder().decode(buf.subarray(5, 5 + n)));
          if (buf[0] & 2) { state.ended = msg; return; }
          state.events.push(msg);
          buf = buf.slice(5 + n);
        }
      }
    } catch (e) {
      state.ended = e.name;
    }
  })();
  window.stream = state;
};
`;

// The page is served from a loopback port of its own (Chromium lets a page reach the loopback
// address space only from there): http://127.0.0.1:P is the allowed origin, http://localhost:P
// (the same server, another origin) the one that is not.
function servePage() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>genesis</title><script>" + pageClient + "</script>");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function main() {
  const args = parseArgs(process.argv);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "genesis-browser-"));
  const procs = [];
  let browser = null, failure = null, pageServer = null;
  try {
    pageServer = await servePage();
    const PAGE_ORIGIN = "http://127.0.0.1:" + pageServer.address().port;
    const OTHER_ORIGIN = "http://localhost:" + pageServer.address().port;
    const daemon = new Proc([args.genesisd, "--demo", "--front-door", "tcp://127.0.0.1:0", "--events",
      "tcp://127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "warn", "--max-body", String(MAX_BODY),
      "--allowed-origin", PAGE_ORIGIN], "genesisd", tmp, args["lsan-supp"]);
    procs.push(daemon);
    const m = await daemon.line(/^ready front_door=(\S+) event_bus=(\S+) http=(\S+)$/m);
    const url = m[3];
    const service = new Proc([args.service, "--id", "slow", "--front-door", m[1], "--events", m[2],
      "--listen", "ipc://" + path.join(tmp, "slow.sock")], "service-slow", tmp, args["lsan-supp"]);
    procs.push(service);
    await service.line(/^ready /m);

    browser = await chromium.launch({ executablePath: args.chromium, args: ["--no-sandbox"] });
    const page = await browser.newPage();
    await page.goto(PAGE_ORIGIN + "/");
    const call = (method, body, headers) =>
      page.evaluate(([u, mth, b, h]) => window.connectUnary(u, mth, b, h), [url, method, body, headers]);

    step("unary ping");
    let r = await call("Request", { target: "comp1", type: "ping" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(Buffer.from(r.body.payload.data, "base64").toString(), "Pong from comp1");

    step("error details");
    r = await call("Request", { target: "nope", type: "ping" });
    assert.equal(r.status, 404);
    assert.equal(r.body.code, "not_found");
    const detail = r.body.details[0];
    assert.equal(detail.type, "genesis.v1.ErrorInfo");
    assert.equal(detail.debug.reason, "NOT_FOUND");
    assert.equal(detail.debug.component, "nope");
    assert.ok(Buffer.from(detail.value, "base64").includes(Buffer.from("NOT_FOUND")));

    step("deadline exceeded (Connect-Timeout-Ms, preflighted)");
    r = await call("Request", { target: "slow", type: "sleep", payload: { data: Buffer.from("2000").toString("base64") } },
      { "connect-timeout-ms": "300" });
    assert.equal(r.status, 504, JSON.stringify(r.body));
    assert.equal(r.body.code, "deadline_exceeded");

    step("a Watch stream of events, then cancelled");
    await page.evaluate(([u]) => window.watch(u, { types: ["browser.test"] }), [url]);
    const deadline = Date.now() + WAIT_MS;
    for (let n = 1; ; n++) {
      const got = await page.evaluate(() => window.stream.events.length);
      if (got >= 3) break;
      assert.ok(Date.now() < deadline, "no events on the stream: " + (await page.evaluate(() => String(window.stream.ended))));
      r = await call("Emit", { type: "browser.test", source: "page", payload: { data: Buffer.from("e" + n).toString("base64") } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await call("Emit", { type: "other", source: "page" });
    }
    const events = await page.evaluate(() => window.stream.events);
    for (const ev of events) assert.equal(ev.type, "browser.test");
    await page.evaluate(async () => { window.stream.abort.abort(); await window.stream.done; });
    assert.equal(await page.evaluate(() => window.stream.ended), "AbortError");

    step("requests at and above the size limit");
    const base = JSON.stringify({ target: "comp1", type: "echo", payload: { data: "eHl6" } });
    const at = base + " ".repeat(MAX_BODY - base.length); // JSON allows the padding
    r = await call("Request", at);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await call("Request", at + " ");
    assert.equal(r.status, 429, JSON.stringify(r.body));
    assert.equal(r.body.code, "resource_exhausted");
    assert.equal(r.body.details[0].debug.reason, "MESSAGE_TOO_LARGE");

    step("a page from an origin not allowed reads nothing");
    await page.goto(OTHER_ORIGIN + "/");
    const blocked = await page.evaluate(([u]) =>
      window.connectUnary(u, "Request", { target: "comp1", type: "ping" }).then(() => "read", (e) => e.name), [url]);
    assert.equal(blocked, "TypeError"); // fetch's CORS failure
    step("all checks passed");
  } catch (e) {
    failure = e;
  }
  if (browser) await browser.close().catch(() => {});
  if (pageServer) pageServer.close();
  for (const p of procs.reverse()) {
    try { await p.stop(); } catch (e) { failure = failure ?? e; }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (failure) {
    console.error(failure);
    process.exit(1);
  }
  process.exit(0);
}

main();

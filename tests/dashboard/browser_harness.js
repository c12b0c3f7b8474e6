// What the browser tests of the gateway share: Debian's headless Chromium launched through
// playwright-core (no browser download), genesisd started on free loopback ports and always
// stopped, and a main() that runs the test, then every cleanup in reverse order, and exits 0
// or 1.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const WAIT_MS = 20000; // generous bound for "soon" (sanitizer builds, loaded CI machines)

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Headless Chromium at executablePath with the flags a container needs (no GPU, no /dev/shm;
// root has no sandbox) and extraArgs.
async function launchChromium(executablePath, extraArgs) {
  const args = ["--disable-gpu", "--disable-dev-shm-usage"].concat(extraArgs || []);
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  return chromium.launch({ executablePath, headless: true, args });
}

// genesisd with argv, stderr kept in tmp, LeakSanitizer suppressions for sanitizer builds.
class Daemon {
  constructor(argv, tmp, lsanSupp) {
    const env = Object.assign({}, process.env);
    if (lsanSupp)
      env.LSAN_OPTIONS = (env.LSAN_OPTIONS ? env.LSAN_OPTIONS + ":" : "") + "suppressions=" + lsanSupp;
    this.errPath = path.join(tmp, "genesisd.stderr");
    this.errFd = fs.openSync(this.errPath, "w");
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", this.errFd], env });
    this.exit = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve({ code, signal })));
    this.out = "";
    this.proc.stdout.on("data", (d) => { this.out += d.toString(); });
  }

  stderr() {
    try { return fs.readFileSync(this.errPath, "utf8").slice(-6000); } catch (e) { return ""; }
  }

  // The gateway's base URL from the ready line.
  async ready() {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const m = /^ready front_door=(\S+) event_bus=(\S+) http=(\S+)$/m.exec(this.out);
      if (m) return m[3];
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error("genesisd never printed its ready line; stderr:\n" + this.stderr());
  }

  // SIGTERM and wait; returns the exit status (SIGKILL after WAIT_MS).
  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => { this.proc.kill("SIGKILL"); resolve({ code: null, signal: "timeout" }); }, WAIT_MS);
    });
    const r = await Promise.race([this.exit, killed]);
    clearTimeout(timer);
    fs.closeSync(this.errFd);
    return r;
  }
}

// Run test(tmp, cleanups, failing) in a fresh temporary directory; cleanups (functions, run
// last first) stop what it started; failing.now is true while they run after a failure.
// Exits the process: 0 when the test and every cleanup passed, else 1.
async function runMain(name, test) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "genesis-" + name + "-"));
  const cleanups = [];
  const failing = { now: false };
  let failed = false;
  const cleanup = async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try { await fn(); } catch (e) { failed = true; console.error(name + ": cleanup: " + e.message); }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => { cleanup().finally(() => process.exit(1)); });
  try {
    await test(tmp, cleanups, failing);
  } catch (e) {
    failed = true;
    failing.now = true;
    console.error(name + ": FAILED: " + (e.stack || e));
  }
  await cleanup();
  console.log(failed ? name + ": FAILED" : name + ": OK");
  process.exit(failed ? 1 : 0);
}

module.exports = { WAIT_MS, sleep, launchChromium, Daemon, runMain };

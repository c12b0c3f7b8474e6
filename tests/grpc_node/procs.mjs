// Shared by the Node and browser tests: child processes (genesisd, test_service) whose stdout
// is read for their ready line, stderr kept in a file shown on failure, always stopped with a
// check of the exit status (a sanitizer report fails the test).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const WAIT_MS = 20000;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Proc {
  constructor(argv, name, tmp, lsanSupp) {
    const env = Object.assign({}, process.env);
    if (lsanSupp)
      env.LSAN_OPTIONS = (env.LSAN_OPTIONS ? env.LSAN_OPTIONS + ":" : "") + "suppressions=" + lsanSupp;
    this.errPath = path.join(tmp, name + ".stderr");
    this.errFd = fs.openSync(this.errPath, "w");
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", this.errFd], env });
    this.exit = new Promise((r) => this.proc.on("exit", (code, signal) => r({ code, signal })));
    this.out = "";
    this.proc.stdout.on("data", (d) => { this.out += d.toString(); });
    this.name = name;
  }
  stderr() {
    try { return fs.readFileSync(this.errPath, "utf8").slice(-6000); } catch (e) { return ""; }
  }
  async line(re) {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.proc.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(this.name + " never became ready; stderr:\n" + this.stderr());
  }
  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), WAIT_MS);
    const { code, signal } = await this.exit;
    clearTimeout(timer);
    fs.closeSync(this.errFd);
    if (code !== 0) throw new Error(`${this.name} exited ${code} ${signal}; stderr:\n` + this.stderr());
  }
}


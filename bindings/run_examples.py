#!/usr/bin/env python3
"""Run the binding examples as a test (the ctest entry bindings_examples).

1. Python and Go versions of the ping/pong scenario (ping_pong.py, examples/pingpong).
2. Languages meeting over NNG: a C coordinator (genesisd), a component written in Python
   (remote_component.py) registered with it, and a Go client (examples/client) calling that
   Python component through the coordinator; genesisctl (C) calls it too. Then the other
   direction: a Go component (examples/service) called by a Python client.
3. The examples of each language against one genesisd with a checkpoint store: a service
   whose count survives a kill -9 and restart (checkpoint_service.py, examples/checkpoint),
   the operator's controls (operate.py, examples/operate: mode, breaker, policy), 500
   concurrent requests (async_client.py, examples/asyncclient), and external events, each
   language producing for the other's consumer (external_events.py, examples/events).
4. A Go module outside the repository that uses the binding through the documented
   `replace` line.

Every process it starts is stopped before it returns; exit 0 when every step behaved.
Environment: GENESIS_BIN_DIR (genesisd, genesisctl), GENESIS_LIBRARY, PYTHONPATH and the Go
variables set by bindings/CMakeLists.txt.
"""

from __future__ import annotations

import argparse
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WAIT = 20.0


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc


def run_up(cmd: "list[str]", **kw) -> subprocess.CompletedProcess:
    """run(cmd), again while it fails with COMPONENT_DOWN (for at most WAIT s): on a loaded
    machine a remote component's heartbeats can arrive late for a moment, and a request
    refused for that never reached it, so asking again is safe."""
    deadline = time.monotonic() + WAIT
    while True:
        proc = run(cmd, **kw)
        if proc.returncode == 0 or "COMPONENT_DOWN" not in proc.stdout + proc.stderr \
                or time.monotonic() > deadline:
            return proc
        time.sleep(0.1)


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", flush=True)


def ready_line(proc: subprocess.Popen, what: str) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(WAIT):
        raise SystemExit(f"FAILED: {what} printed nothing within {WAIT} s")
    line = proc.stdout.readline().strip()
    if not line.startswith("ready "):
        raise SystemExit(f"FAILED: {what} said {line!r}")
    return line


def stop(proc: subprocess.Popen, what: str) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise SystemExit(f"FAILED: {what} did not stop on SIGTERM")
    expect(proc.returncode == 0, f"{what} exited cleanly (status {proc.returncode})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--go", default="go")
    ap.add_argument("--out", required=True, help="directory for the built Go examples")
    args = ap.parse_args()
    bin_dir = Path(os.environ.get("GENESIS_BIN_DIR", HERE.parent / "build" / "bin"))
    py = sys.executable
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # Build the Go examples once.
    for name in ("pingpong", "client", "service", "checkpoint", "operate", "asyncclient",
                 "events"):
        proc = run([args.go, "build", "-o", str(out / name), f"./examples/{name}"],
                   cwd=HERE / "go")
        expect(proc.returncode == 0, f"go build examples/{name}")

    # 1. The ping/pong scenario in both languages.
    proc = run([py, str(HERE / "python" / "examples" / "ping_pong.py")])
    expect(proc.returncode == 0 and "comp1 -> comp2 ping: Pong from comp2" in proc.stdout
           and "comp2 saw event status_update from comp1" in proc.stdout,
           "python ping_pong: ping answered, event delivered")
    proc = run([str(out / "pingpong")])
    expect(proc.returncode == 0 and "comp1 -> comp2 ping: Pong from comp2" in proc.stdout
           and "comp2 saw event status_update from comp1" in proc.stdout,
           "go pingpong: ping answered, event delivered")

    # 2. C coordinator + Python component + Go client. --demo adds two healthy in-process
    # components: on a loaded machine a remote component may miss heartbeats for a moment, and
    # as the only component that would put the coordinator in EMERGENCY mode (shedding every
    # non-critical request) instead of just failing over its own retries.
    with tempfile.TemporaryDirectory(prefix="gnex") as tmp:
        daemon = subprocess.Popen(
            [str(bin_dir / "genesisd"), "--http", "off", "--demo",
             "--front-door", f"ipc://{tmp}/front.sock",
             "--events", f"ipc://{tmp}/bus.sock", "--log-level", "warn"],
            stdout=subprocess.PIPE, text=True)
        component = None
        try:
            ready_line(daemon, "genesisd")
            front, bus = f"ipc://{tmp}/front.sock", f"ipc://{tmp}/bus.sock"
            component = subprocess.Popen(
                [py, str(HERE / "python" / "examples" / "remote_component.py"), "--id", "pycomp",
                 "--front-door", front, "--events", bus, "--listen", f"ipc://{tmp}/pycomp.sock"],
                stdout=subprocess.PIPE, text=True)
            line = ready_line(component, "remote_component.py")
            expect(line == f"ready url=ipc://{tmp}/pycomp.sock", "python component registered")

            proc = run_up([str(out / "client"), "-url", front, "pycomp", "ping"])
            expect(proc.returncode == 0 and proc.stdout.startswith("Pong from pycomp (python, pid "),
                   "go client -> genesisd (C) -> python component: ping")
            proc = run_up([str(out / "client"), "-url", front, "pycomp", "echo", "héllo from go"])
            expect(proc.returncode == 0 and proc.stdout == "héllo from go\n",
                   "go client -> python component: echo")
            proc = run_up([str(out / "client"), "-url", front, "pycomp", "fail"])
            expect(proc.returncode == 1 and "UNKNOWN (HANDLER_ERROR)" in proc.stderr
                   and "RuntimeError: asked to fail" in proc.stderr,
                   "a Python exception reaches the Go client as an error reply")
            proc = run([str(out / "client"), "-url", front, "nobody", "ping"])
            expect(proc.returncode == 1 and "NOT_FOUND" in proc.stderr,
                   "go client: unknown component is NOT_FOUND")
            proc = run_up([str(bin_dir / "genesisctl"), "--url", front, "request", "pycomp", "ping"])
            expect(proc.returncode == 0 and "Pong from pycomp" in proc.stdout,
                   "genesisctl (C) -> python component: ping")
            stop(component, "remote_component.py")
            component = None

            # The other direction: a Go component, called from Python through genesisd.
            component = subprocess.Popen(
                [str(out / "service"), "-id", "gocomp", "-front-door", front, "-events", bus,
                 "-listen", f"ipc://{tmp}/gocomp.sock"], stdout=subprocess.PIPE, text=True)
            line = ready_line(component, "go service")
            expect(line == f"ready url=ipc://{tmp}/gocomp.sock", "go component registered")
            proc = run_up([py, "-c",
                        "import sys, genesis\n"
                        "with genesis.Client(sys.argv[1]) as cl:\n"
                        "    print(cl.request('gocomp', 'upper', 'from python', timeout=10).text())\n"
                        "    try:\n"
                        "        cl.request('gocomp', 'dance', timeout=10)\n"
                        "    except genesis.Unimplemented as err:\n"
                        "        print(err)\n", front])
            expect(proc.returncode == 0 and proc.stdout.startswith("FROM PYTHON\n")
                   and "UNIMPLEMENTED (HANDLER_ERROR): gocomp serves ping and upper" in proc.stdout,
                   "python client -> genesisd (C) -> go component")
            stop(component, "go service")
            component = None
        finally:
            if component is not None:
                component.kill()
                component.wait()
            stop(daemon, "genesisd")

    # 3. The examples of each language against one genesisd with a checkpoint store.
    with tempfile.TemporaryDirectory(prefix="gnex") as tmp:
        front, bus = f"ipc://{tmp}/front.sock", f"ipc://{tmp}/bus.sock"
        daemon = subprocess.Popen(
            [str(bin_dir / "genesisd"), "--http", "off", "--demo", "--front-door", front,
             "--events", bus, "--checkpoint-db", f"{tmp}/checkpoints.db", "--log-level", "error"],
            stdout=subprocess.PIPE, text=True)
        try:
            ready_line(daemon, "genesisd")
            pyex = HERE / "python" / "examples"
            langs = {
                "python": lambda name, *a: [py, str(pyex / f"{name}.py"), *a],
                "go": lambda name, *a: [str(out / name), *a],
            }
            names = {"python": ("checkpoint_service", "operate", "async_client", "external_events"),
                     "go": ("checkpoint", "operate", "asyncclient", "events")}
            for lang, cmd in langs.items():
                ckpt, operate, asyncclient, events = names[lang]
                checkpoint_example(lang, cmd(ckpt, "-id" if lang == "go" else "--id",
                                             f"counter-{lang}", *front_flag(lang, front)),
                                   bin_dir, front, f"counter-{lang}")
                target = "comp2" if lang == "python" else "comp1"
                proc = run(cmd(operate, *front_flag(lang, front), target))
                expect(proc.returncode == 0 and "operate: every control behaved" in proc.stdout
                       and "BREAKER_OPEN" in proc.stdout and "SHED_BY_MODE" in proc.stdout,
                       f"{lang} operate: mode, breaker and policy of {target}")
                proc = run(cmd(asyncclient, *front_flag(lang, front), "-n", "500", target))
                expect(proc.returncode == 0 and "500 requests, 500 answered" in proc.stdout,
                       f"{lang} async client: 500 concurrent requests answered")
            # External events, each language producing for the other's consumer.
            for consumer, producer in (("python", "go"), ("go", "python")):
                inbox = f"inbox-{consumer}"
                flags = {"python": ("--id", inbox, "--front-door", front),
                         "go": ("-id", inbox, "-front-door", front)}
                c_ev, p_ev = names[consumer][3], names[producer][3]
                events_flag = "--events" if consumer == "python" else "-events"
                expect_flag = "--expect" if consumer == "python" else "-expect"
                proc_c = subprocess.Popen(
                    langs[consumer](c_ev, "consume", *flags[consumer], events_flag, bus,
                                    expect_flag, "5"), stdout=subprocess.PIPE, text=True)
                try:
                    ready_line(proc_c, f"{consumer} event consumer")
                    count_flag = "--count" if producer == "python" else "-count"
                    proc = run_up(langs[producer](p_ev, "produce", *flags[producer], count_flag,
                                                  "5"))
                    expect(proc.returncode == 0 and f"sent 5 external events to {inbox}" in proc.stdout,
                           f"{producer} producer sent 5 external events")
                    got, _ = proc_c.communicate(timeout=WAIT)
                    print(got, end="")
                    expect(proc_c.returncode == 0 and got.count("got reading from sensor-1") == 5
                           and f"{inbox}: received 5 external events" in got,
                           f"{consumer} consumer received the {producer} producer's 5 events")
                finally:
                    if proc_c.poll() is None:
                        proc_c.kill()
                        proc_c.wait()
        finally:
            stop(daemon, "genesisd")

    # 4. The Go module used from outside the repository, with the documented replace line.
    with tempfile.TemporaryDirectory(prefix="gnmod") as tmp:
        Path(tmp, "go.mod").write_text(
            "module example.com/outside\n\ngo 1.19\n\n"
            "require genesis.dev/bindings/go v0.0.0\n\n"
            f"replace genesis.dev/bindings/go => {HERE / 'go'}\n")
        Path(tmp, "main.go").write_text(
            'package main\n\nimport (\n\t"fmt"\n\n\t"genesis.dev/bindings/go/genesis"\n)\n\n'
            'func main() { fmt.Println("genesis", genesis.Version()) }\n')
        proc = run([args.go, "run", "."], cwd=tmp)
        expect(proc.returncode == 0 and proc.stdout.startswith("genesis "),
               "a module outside the repository builds with the replace line")
    print("all examples behaved", flush=True)
    return 0


def front_flag(lang: str, front: str) -> "list[str]":
    return ["--front-door", front] if lang == "python" else ["-front-door", front]


def checkpoint_example(lang: str, cmd: "list[str]", bin_dir: Path, front: str, cid: str) -> None:
    """Start the checkpointing service, count to 3, kill it (-9), start it again: it resumes
    at 3 and counts on to 4."""
    def start() -> "subprocess.Popen[str]":
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)

    def inc() -> str:
        proc = run_up([str(bin_dir / "genesisctl"), "--url", front, "request", cid, "inc"])
        expect(proc.returncode == 0, f"{lang} checkpoint service: inc")
        return proc.stdout

    svc = start()
    try:
        line = ready_line(svc, f"{lang} checkpoint service")
        expect(line.endswith(" count=0"), f"{lang} checkpoint service starts at 0")
        for _ in range(3):
            last = inc()
        expect('"count":3' in last.replace(" ", ""), f"{lang} checkpoint service counted to 3")
        svc.kill()  # a crash: nothing is saved on the way out
        svc.wait()
        svc = start()
        line = ready_line(svc, f"{lang} checkpoint service (restarted)")
        expect(line.endswith(" count=3"), f"{lang} checkpoint service restored 3 after a kill")
        expect('"count":4' in inc().replace(" ", ""), f"{lang} checkpoint service counts on to 4")
    finally:
        if svc.poll() is None:
            svc.terminate()
            svc.wait(timeout=WAIT)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run the binding examples as a test (the ctest entry bindings_examples).

1. Python and Go versions of the ping/pong scenario (ping_pong.py, examples/pingpong).
2. Languages meeting over NNG: a C coordinator (genesisd), a component written in Python
   (remote_component.py) registered with it, and a Go client (examples/client) calling that
   Python component through the coordinator; genesisctl (C) calls it too. Then the other
   direction: a Go component (examples/service) called by a Python client.

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
from pathlib import Path

HERE = Path(__file__).resolve().parent
WAIT = 20.0


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc


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
    for name in ("pingpong", "client", "service"):
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

    # 2. C coordinator + Python component + Go client.
    with tempfile.TemporaryDirectory(prefix="gnex") as tmp:
        daemon = subprocess.Popen(
            [str(bin_dir / "genesisd"), "--front-door", f"ipc://{tmp}/front.sock",
             "--events", f"ipc://{tmp}/bus.sock", "--http", "off", "--log-level", "warn"],
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

            proc = run([str(out / "client"), "-url", front, "pycomp", "ping"])
            expect(proc.returncode == 0 and proc.stdout.startswith("Pong from pycomp (python, pid "),
                   "go client -> genesisd (C) -> python component: ping")
            proc = run([str(out / "client"), "-url", front, "pycomp", "echo", "héllo from go"])
            expect(proc.returncode == 0 and proc.stdout == "héllo from go\n",
                   "go client -> python component: echo")
            proc = run([str(out / "client"), "-url", front, "pycomp", "fail"])
            expect(proc.returncode == 1 and "UNKNOWN (HANDLER_ERROR)" in proc.stderr
                   and "RuntimeError: asked to fail" in proc.stderr,
                   "a Python exception reaches the Go client as an error reply")
            proc = run([str(out / "client"), "-url", front, "nobody", "ping"])
            expect(proc.returncode == 1 and "NOT_FOUND" in proc.stderr,
                   "go client: unknown component is NOT_FOUND")
            proc = run([str(bin_dir / "genesisctl"), "--url", front, "request", "pycomp", "ping"])
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
            proc = run([py, "-c",
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
    print("all examples behaved", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

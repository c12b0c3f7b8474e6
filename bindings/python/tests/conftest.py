"""Fixtures: real genesisd processes on port 0 and short temp dirs for ipc sockets.

GENESIS_BIN_DIR points at the build's bin/ (ctest sets it; default: the repository's
build/bin). The package is imported from bindings/python (ctest sets PYTHONPATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "bindings" / "python"))

BIN_DIR = Path(os.environ.get("GENESIS_BIN_DIR", REPO / "build" / "bin"))
READY_TIMEOUT = 10.0


class Daemon(NamedTuple):
    front_door: str
    event_bus: str
    process: subprocess.Popen


def start_genesisd(*args: str) -> Daemon:
    """Start genesisd on free tcp ports and wait for its ready line."""
    exe = BIN_DIR / "genesisd"
    if not exe.exists():
        pytest.fail(f"{exe} not built (set GENESIS_BIN_DIR)")
    proc = subprocess.Popen(
        [str(exe), "--http", "off", "--front-door", "tcp://127.0.0.1:0",
         "--events", "tcp://127.0.0.1:0", "--log-level", "warn", *args],
        stdout=subprocess.PIPE, text=True)
    try:
        line = _readline(proc, READY_TIMEOUT)
        if not line.startswith("ready "):
            raise RuntimeError(f"genesisd did not become ready: {line!r}")
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        return Daemon(fields["front_door"], fields["event_bus"], proc)
    except BaseException:
        stop_process(proc)
        raise


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise RuntimeError(f"genesisd printed nothing within {timeout} s")
    return proc.stdout.readline().strip()


def stop_process(proc: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL if it does not exit within 10 s; returns the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
    return proc.returncode


@pytest.fixture
def genesisd() -> Iterator[Daemon]:
    """A genesisd with the demo components comp1 and comp2; stopped (cleanly) after the test."""
    daemon = start_genesisd("--demo")
    try:
        yield daemon
    finally:
        assert stop_process(daemon.process) == 0, "genesisd did not stop cleanly"


@pytest.fixture
def ipc_dir() -> Iterator[str]:
    """A short temp dir for ipc:// sockets (paths are limited to ~100 bytes)."""
    path = tempfile.mkdtemp(prefix="gnpy")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

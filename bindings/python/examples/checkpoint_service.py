#!/usr/bin/env python3
"""checkpoint_service: a remote component whose state survives its own restart.

The service "counter" keeps a count. Every "inc" request adds one and stores the new count
durably in the coordinator's checkpoint store (Service.checkpoint waits until it is synced);
"get" returns it. When the process is killed and started again, the coordinator hands the
latest checkpoint to restore() while the service connects, before it serves anything: the
count goes on where it stopped.

    build/bin/genesisd --checkpoint-db /tmp/genesis.db &
    PYTHONPATH=bindings/python python3 bindings/python/examples/checkpoint_service.py &
    build/bin/genesisctl request counter inc        # 1, 2, 3 ... across restarts

Prints "ready url=<listen url> count=<restored count>" once registered; SIGINT/SIGTERM stop it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading

import genesis


class Counter:
    """The component: its state is one number, restored from and checkpointed to Genesis."""

    def __init__(self) -> None:
        self.count = 0
        self.generation = 0
        self.lock = threading.Lock()
        self.service: "genesis.Service | None" = None

    def restore(self, state: bytes, generation: int) -> None:
        self.count = int(json.loads(state)["count"]) if state else 0
        self.generation = generation

    def on_request(self, req: genesis.Request) -> object:
        if req.type == "get":
            return {"count": self.count, "generation": self.generation}
        if req.type == "inc":
            assert self.service is not None
            with self.lock:  # one checkpoint at a time, in order
                self.count += 1
                self.generation = self.service.checkpoint({"count": self.count}, timeout=5)
                return {"count": self.count, "generation": self.generation}
        raise genesis.Unimplemented(f"counter serves get and inc, not {req.type}")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--id", default="counter")
    ap.add_argument("--front-door", default=os.environ.get("GENESIS_URL", "tcp://127.0.0.1:7400"))
    ap.add_argument("--events", default=None)
    ap.add_argument("--listen", help="URL to serve on (default: an ipc socket in a temp dir)")
    args = ap.parse_args()

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    counter = Counter()
    with tempfile.TemporaryDirectory(prefix="gnpy") as tmp:
        with genesis.Service(args.id, counter) as svc:
            counter.service = svc
            url = svc.listen(args.listen or f"ipc://{tmp}/{args.id}.sock")
            try:
                svc.connect(args.front_door, args.events, timeout=10)
            except genesis.GenesisError as err:
                print(f"{args.id}: cannot register with {args.front_door}: {err}", file=sys.stderr)
                return 1
            print(f"ready url={url} count={counter.count}", flush=True)
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""remote_component: a component written in Python, served to a coordinator in another
process (genesisd, written in C) over NNG.

It listens on its own address, registers, heartbeats in the background and serves:
  ping -> "Pong from <id> (python, pid N)"
  echo -> the request's payload and content type
  fail -> raises an exception: the caller gets an UNKNOWN / HANDLER_ERROR reply naming it
Local events arriving on the event bus are printed to stderr.

    build/bin/genesisd &        # front door tcp://127.0.0.1:7400, events tcp://127.0.0.1:7401
    PYTHONPATH=bindings/python python3 bindings/python/examples/remote_component.py &
    build/bin/genesisctl request pycomp ping

Prints "ready url=<listen url>" once registered; SIGINT/SIGTERM unregister it and exit 0.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading

import genesis


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--id", default="pycomp")
    ap.add_argument("--front-door", default=os.environ.get("GENESIS_URL", "tcp://127.0.0.1:7400"))
    ap.add_argument("--events", default=os.environ.get("GENESIS_EVENTS", "tcp://127.0.0.1:7401"))
    ap.add_argument("--listen", help="URL to serve on (default: an ipc socket in a temp dir)")
    args = ap.parse_args()

    def on_request(req: genesis.Request) -> object:
        if req.type == "ping":
            return f"Pong from {args.id} (python, pid {os.getpid()})"
        if req.type == "echo":
            return genesis.Reply(req.data, req.content_type or None)
        if req.type == "fail":
            raise RuntimeError("asked to fail")
        raise genesis.Unimplemented(f"{args.id} serves ping, echo and fail, not {req.type}")

    def on_event(ev: genesis.Event) -> None:
        print(f"{args.id}: event {ev.type} from {ev.source}: {ev.text()}", file=sys.stderr,
              flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    with tempfile.TemporaryDirectory(prefix="gnpy") as tmp:
        listen = args.listen or f"ipc://{tmp}/{args.id}.sock"
        with genesis.Service(args.id, on_request, on_event) as svc:
            url = svc.listen(listen)
            try:
                svc.connect(args.front_door, args.events, timeout=10)
            except genesis.GenesisError as err:
                print(f"{args.id}: cannot register with {args.front_door}: {err}",
                      file=sys.stderr)
                return 1
            print(f"ready url={url}", flush=True)
            while not stop.wait(0.5):
                pass
            print(f"{args.id}: served {svc.requests_served} requests, stopping",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

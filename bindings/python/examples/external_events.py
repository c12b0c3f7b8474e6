#!/usr/bin/env python3
"""external_events: an external-event producer and a consumer.

External events come from outside the system of components (a WebSocket client of the
gateway, a sensor, another program) and go to one component, which sees them with
Event.external set; they are not broadcast to the other components.

    consume   a Service (default id "inbox") that receives external events in on_event and
              prints "got <type> from <source>: <payload>"; it answers "count" requests with
              how many it received, and exits after --expect events (0: run until SIGTERM).
              External events reach a remote component over the event bus, whose
              subscription connects in the background: before it says ready, it sends
              itself probes until one arrives, so no event sent afterwards is lost to that.
    produce   a Client that sends --count external events to the consumer
              (Client.emit_to, source "sensor-1"), each acknowledged by the coordinator.

    build/bin/genesisd &            # front door tcp://127.0.0.1:7400, events tcp://127.0.0.1:7401
    PYTHONPATH=bindings/python python3 bindings/python/examples/external_events.py consume &
    PYTHONPATH=bindings/python python3 bindings/python/examples/external_events.py produce
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading

import genesis


def consume(args: argparse.Namespace) -> int:
    received: "list[genesis.Event]" = []
    done = threading.Event()
    probed = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())

    def on_event(ev: genesis.Event) -> None:
        if not ev.external:
            return  # local events from other components: not what this inbox is for
        if ev.type == "probe":
            probed.set()
            return
        received.append(ev)
        print(f"got {ev.type} from {ev.source}: {ev.text()}", flush=True)
        if args.expect and len(received) >= args.expect:
            done.set()

    def on_request(req: genesis.Request) -> object:
        if req.type == "count":
            return {"received": len(received)}
        raise genesis.Unimplemented("the inbox serves count")

    with tempfile.TemporaryDirectory(prefix="gnpy") as tmp:
        with genesis.Service(args.id, on_request, on_event) as svc:
            url = svc.listen(args.listen or f"ipc://{tmp}/{args.id}.sock")
            svc.connect(args.front_door, args.events, timeout=10)
            # (from another source: a component never receives its own events)
            with genesis.Client(args.front_door, name=f"{args.id}-probe") as probe:
                for _ in range(200):
                    probe.emit_to(args.id, "probe", None, timeout=10)
                    if probed.wait(0.05):
                        break
                else:
                    print(f"{args.id}: external events never arrived", file=sys.stderr)
                    return 1
            print(f"ready url={url}", flush=True)
            done.wait()
    print(f"{args.id}: received {len(received)} external events", flush=True)
    return 0


def produce(args: argparse.Namespace) -> int:
    with genesis.Client(args.front_door, name="sensor-1") as cl:
        for i in range(args.count):
            cl.emit_to(args.id, "reading", {"seq": i, "celsius": 20 + i % 5},
                       source="sensor-1", timeout=10)
        print(f"sent {args.count} external events to {args.id}", flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("role", choices=("consume", "produce"))
    ap.add_argument("--id", default="inbox")
    ap.add_argument("--front-door", default=os.environ.get("GENESIS_URL", "tcp://127.0.0.1:7400"))
    ap.add_argument("--events", default=os.environ.get("GENESIS_EVENTS", "tcp://127.0.0.1:7401"),
                    help="consume: the event bus URL (external events arrive on it)")
    ap.add_argument("--listen", help="consume: URL to serve on (default: an ipc socket)")
    ap.add_argument("--expect", type=int, default=0, help="consume: exit after this many")
    ap.add_argument("--count", type=int, default=5, help="produce: events to send")
    args = ap.parse_args()
    return consume(args) if args.role == "consume" else produce(args)


if __name__ == "__main__":
    sys.exit(main())

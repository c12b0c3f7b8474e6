#!/usr/bin/env python3
"""ping_pong: the ping/pong scenario in Python, in one process.

A coordinator embedded in this process with two components, comp1 and comp2, written in
Python. comp1 pings comp2 and prints the reply; then comp1 emits a local event
"status_update" and comp2 (every component but the source) receives it. Exits 0 when all of
that happened, 1 otherwise.

    PYTHONPATH=bindings/python python3 bindings/python/examples/ping_pong.py
"""

import sys
import threading

import genesis


class Component:
    """A component: answers ping, counts the events it sees."""

    def __init__(self, id: str) -> None:
        self.id = id
        self.saw_event = threading.Event()

    def on_request(self, req: genesis.Request) -> str:
        if req.type == "ping":
            return f"Pong from {self.id}"
        raise genesis.Unimplemented(f"{self.id} serves only ping, not {req.type}")

    def on_event(self, ev: genesis.Event) -> None:
        print(f"{self.id} saw event {ev.type} from {ev.source}: {ev.text()}", flush=True)
        self.saw_event.set()


def main() -> int:
    comp1, comp2 = Component("comp1"), Component("comp2")
    with genesis.Coordinator() as co:
        co.register("comp1", comp1)
        co.register("comp2", comp2)
        reply = co.request("comp2", "ping", source="comp1", timeout=5)
        print(f"comp1 -> comp2 ping: {reply.text()}", flush=True)
        try:
            co.request("comp2", "dance", source="comp1", timeout=5)
        except genesis.GenesisError as err:
            print(f"comp1 -> comp2 dance: {err}", flush=True)
        co.emit("status_update", {"status": "ok"}, source="comp1")
        if not comp2.saw_event.wait(5):
            print("comp2 never saw the event", file=sys.stderr)
            return 1
        if comp1.saw_event.is_set():
            print("comp1 received its own event", file=sys.stderr)
            return 1
        return 0 if reply.text() == "Pong from comp2" else 1


if __name__ == "__main__":
    sys.exit(main())

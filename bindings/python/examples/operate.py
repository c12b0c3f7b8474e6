#!/usr/bin/env python3
"""operate: the operator's controls from a script, against a running coordinator.

Forces the degradation mode and returns it to automatic, forces a component's circuit
breaker open (its requests then fail fast with BREAKER_OPEN) and resets it, and changes the
component's resilience policy, printing what the coordinator answers at each step. The same
commands genesisctl sends, as Python calls (Client.admin).

    build/bin/genesisd --demo &
    PYTHONPATH=bindings/python python3 bindings/python/examples/operate.py comp2

Exits 0 when every step behaved as described.
"""

from __future__ import annotations

import argparse
import os
import sys

import genesis


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("component", nargs="?", default="comp2")
    ap.add_argument("--front-door", default=os.environ.get("GENESIS_URL", "tcp://127.0.0.1:7400"))
    args = ap.parse_args()
    comp = args.component

    with genesis.Client(args.front_door, name="operator", default_timeout=10) as cl:
        # Degradation mode: force SAFE (sheds SHEDDABLE requests), then back to automatic.
        print("mode:", cl.admin("mode")["mode"])
        print("mode forced:", cl.admin("mode", "SAFE")["mode"])
        try:
            # ("ping" and "status" are always CRITICAL: the coordinator's critical_types)
            cl.request(comp, "work", criticality=genesis.Criticality.SHEDDABLE)
            print("a sheddable request got through in SAFE mode", file=sys.stderr)
            return 1
        except genesis.Unavailable as err:
            print("sheddable request in SAFE mode:", err.reason.name if isinstance(
                err.reason, genesis.Reason) else err.reason)
        print("mode automatic:", cl.admin("mode", "AUTO")["mode"])

        # Circuit breaker: force it open, see requests fail fast, reset it.
        print("breaker:", cl.admin("breaker", comp, "open"))
        try:
            cl.request(comp, "ping")
            print("a request passed a forced-open breaker", file=sys.stderr)
            return 1
        except genesis.Unavailable as err:
            assert err.reason == genesis.Reason.BREAKER_OPEN, err
            print("request with the breaker open:", err)
        cl.admin("breaker", comp, "reset")
        print("after reset:", cl.request(comp, "ping").text())

        # Policy: no retries and a shorter per-try timeout for this component.
        changed = cl.admin("policy", comp, "max_attempts=1", "per_try_timeout_ms=500")
        policy = changed["policy"]
        assert policy["max_attempts"] == 1 and policy["per_try_timeout_ms"] == 500, changed
        print(f"policy of {comp}: max_attempts={policy['max_attempts']} "
              f"per_try_timeout_ms={policy['per_try_timeout_ms']}")
        try:
            cl.admin("policy", comp, "backoff_multiplier_pct=10")
            print("an invalid policy was accepted", file=sys.stderr)
            return 1
        except genesis.InvalidArgument as err:
            print("invalid policy refused:", err.message)
    print("operate: every control behaved")
    return 0


if __name__ == "__main__":
    sys.exit(main())

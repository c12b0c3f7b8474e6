#!/usr/bin/env python3
"""bench_request: the cost of the Python binding on the request path.

Sync requests from Python to a Python component through an embedded coordinator: each one
crosses ctypes twice (the call, and the handler's callback that takes the GIL on a worker
thread). Prints microseconds per request (median of 5 rounds); nothing is asserted.

    PYTHONPATH=bindings/python python3 bindings/python/examples/bench_request.py [N]
"""

import statistics
import sys
import time

import genesis


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with genesis.Coordinator() as co:
        co.register("p", lambda req: b"pong")
        for _ in range(1000):  # warm up: worker threads, ctypes thunks
            co.request("p", "ping")
        rounds = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(n):
                co.request("p", "ping")
            rounds.append((time.perf_counter() - t) / n * 1e6)
    print(f"python in-process sync request: {statistics.median(rounds):.1f} us/req "
          f"(median of 5 rounds of {n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

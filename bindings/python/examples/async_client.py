#!/usr/bin/env python3
"""async_client: hundreds of concurrent requests from one asyncio task group.

Raises the target component's bulkhead (policy max_concurrency / max_queued, an operator
command) so that every request is admitted, then starts N requests at once with
genesis.aio.Client and waits for all of them. No thread per request: the C library's
completion callbacks resolve the awaitables. Then shows cancellation: a request abandoned
with asyncio.wait_for's timeout raises at once, and the client keeps working.

    build/bin/genesisd --demo &
    PYTHONPATH=bindings/python python3 bindings/python/examples/async_client.py comp2 -n 500

Prints "<N> requests, <N> answered" and exits 0 when all were answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import genesis
import genesis.aio


async def run(front_door: str, target: str, n: int) -> int:
    async with genesis.aio.Client(front_door, name="async-client", default_timeout=30) as cl:
        await cl.admin("policy", target, f"max_concurrency={min(n, 256)}", f"max_queued={n}")
        start = time.perf_counter()
        replies = await asyncio.gather(*(cl.request(target, "ping", str(i)) for i in range(n)),
                                       return_exceptions=True)
        took = time.perf_counter() - start
        failed = [r for r in replies if isinstance(r, BaseException)]
        for err in failed[:3]:
            print("failed:", err, file=sys.stderr)
        print(f"{n} requests, {n - len(failed)} answered in {took:.2f} s")

        try:
            await asyncio.wait_for(cl.request(target, "ping"), timeout=0.000001)
            print("cancellation: the reply won the race")
        except asyncio.TimeoutError:
            print("cancellation: the abandoned request raised at once")
        print("after cancellation:", (await cl.request(target, "ping")).text())
        return 0 if not failed else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("target", nargs="?", default="comp2")
    ap.add_argument("-n", type=int, default=500, help="concurrent requests (default 500)")
    ap.add_argument("--front-door", default=os.environ.get("GENESIS_URL", "tcp://127.0.0.1:7400"))
    args = ap.parse_args()
    return asyncio.run(run(args.front_door, args.target, args.n))


if __name__ == "__main__":
    sys.exit(main())

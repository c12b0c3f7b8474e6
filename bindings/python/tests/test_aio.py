"""genesis.aio: async Client, Coordinator and Service; cancellable awaitables; coroutine
handlers; async subscriptions."""

from __future__ import annotations

import asyncio
import threading

import pytest

import genesis
import genesis.aio

from conftest import Daemon

WAIT = 10.0


def test_hundreds_of_concurrent_requests_with_a_coroutine_handler() -> None:
    async def main() -> None:
        async with genesis.aio.Coordinator(max_concurrency=64,
                                           max_queued_requests=1000) as co:
            async def echo(req: genesis.Request) -> str:
                await asyncio.sleep(0)
                return "re:" + req.text()

            await co.register("echo", echo)
            replies = await asyncio.gather(*(co.request("echo", "x", str(i), timeout=WAIT)
                                             for i in range(300)))
            assert [r.text() for r in replies] == [f"re:{i}" for i in range(300)]

    asyncio.run(main())


def test_cancelling_an_awaitable_abandons_the_request() -> None:
    release = threading.Event()

    def stuck(req: genesis.Request) -> str:
        release.wait(WAIT)
        return "late"

    async def main() -> None:
        async with genesis.aio.Coordinator() as co:
            await co.register("stuck", stuck)
            co.listen("tcp://127.0.0.1:0")
            async with genesis.aio.Client(co.front_door_url) as cl:
                task = asyncio.ensure_future(cl.request("stuck", "x", timeout=WAIT))
                await asyncio.sleep(0)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(co.request("stuck", "x", timeout=WAIT), 0.05)
                release.set()
                # The client and coordinator still work after abandoned calls.
                await co.register("ok", lambda req: "fine")
                assert (await cl.request("ok", "x", timeout=WAIT)).text() == "fine"

    asyncio.run(main())


def test_async_client_errors_and_close(genesisd: Daemon) -> None:
    async def main() -> None:
        cl = genesis.aio.Client(genesisd.front_door, genesisd.event_bus)
        reply = await cl.request("comp2", "ping", timeout=WAIT)
        assert "Pong" in reply.text()
        with pytest.raises(genesis.NotFound):
            await cl.request("nobody", "ping", timeout=WAIT)
        status = await cl.status(timeout=WAIT)
        assert status["mode"] == "NORMAL"
        assert (await cl.admin("mode", timeout=WAIT))["mode"] == "NORMAL"
        sub = cl.subscribe("local:")
        for _ in range(200):
            await cl.emit("tick", "1", timeout=WAIT)
            try:
                ev = await asyncio.wait_for(sub.get(), 0.05)
                break
            except asyncio.TimeoutError:
                continue
        else:
            pytest.fail("no event arrived")
        assert ev.type == "tick"
        await cl.close()
        assert cl.closed
        with pytest.raises(genesis.Closed):
            await cl.request("comp2", "ping")
        with pytest.raises(StopAsyncIteration):
            await sub.get()

    asyncio.run(main())


def test_async_service_with_coroutine_handler(genesisd: Daemon, ipc_dir: str) -> None:
    async def main() -> None:
        async def handler(req: genesis.Request) -> str:
            await asyncio.sleep(0)
            return "async " + req.text()

        async with genesis.aio.Service("asvc", handler) as svc:
            svc.listen(f"ipc://{ipc_dir}/asvc.sock")
            await svc.connect(genesisd.front_door, genesisd.event_bus, timeout=WAIT)
            async with genesis.aio.Client(genesisd.front_door) as cl:
                replies = await asyncio.gather(*(cl.request("asvc", "x", str(i), timeout=WAIT)
                                                 for i in range(60)))
                assert {r.text() for r in replies} == {f"async {i}" for i in range(60)}
            assert svc.requests_served == 60

    asyncio.run(main())


def test_cancelling_the_awaitable_cancels_a_coroutine_handler_in_this_process() -> None:
    async def main() -> None:
        started = asyncio.Event()
        cancelled = asyncio.Event()

        async def slow(req: genesis.Request) -> str:
            started.set()
            try:
                await asyncio.sleep(WAIT * 3)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "too late"

        async with genesis.aio.Coordinator() as co:
            await co.register("slow", slow)
            co.listen("tcp://127.0.0.1:0")
            for caller in ("coordinator", "client"):
                started.clear()
                cancelled.clear()
                async with genesis.aio.Client(co.front_door_url) as cl:
                    call = co.request if caller == "coordinator" else cl.request
                    task = asyncio.ensure_future(call("slow", "x", timeout=WAIT * 3))
                    await asyncio.wait_for(started.wait(), WAIT)
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task
                    await asyncio.wait_for(cancelled.wait(), WAIT)  # the handler saw it

    asyncio.run(main())

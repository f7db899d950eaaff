"""Blocking work of a webhook runs in the lane's own threads, one piece after the other with one
thread, and its result or error comes back to the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from platebot.threads import ThreadLane


def test_work_runs_in_the_lanes_thread_and_its_result_comes_back() -> None:
    lane = ThreadLane(1, name="test-lane")

    async def main() -> tuple[str, str]:
        try:
            return await lane.run(lambda: threading.current_thread().name), "done"
        finally:
            await lane.stop()

    assert asyncio.run(main()) == ("test-lane-0", "done")


def test_an_error_is_raised_to_the_caller_and_the_lane_goes_on() -> None:
    lane = ThreadLane(1, name="test-lane")

    def fail() -> None:
        raise LookupError("no such row")

    async def main() -> int:
        with pytest.raises(LookupError, match="no such row"):
            await lane.run(fail)
        result = await lane.run(int, "7")
        await lane.stop()
        return result

    assert asyncio.run(main()) == 7


def test_a_stray_stop_iteration_reaches_the_caller_as_an_error() -> None:
    lane = ThreadLane(1, name="test-lane")

    async def main() -> None:
        with pytest.raises(RuntimeError, match="StopIteration") as raised:
            await lane.run(next, iter([]))
        assert isinstance(raised.value.__cause__, StopIteration)
        await lane.stop()

    asyncio.run(main())


def test_one_thread_takes_work_first_come_first_served_one_at_a_time() -> None:
    lane = ThreadLane(1, name="test-lane")
    running = 0
    seen: list[int] = []

    def work(n: int) -> int:
        nonlocal running
        running += 1
        assert running == 1
        seen.append(n)
        running -= 1
        return n * n

    async def main() -> list[int]:
        results = await asyncio.gather(*(lane.run(work, n) for n in range(50)))
        await lane.stop()
        return results

    assert asyncio.run(main()) == [n * n for n in range(50)]
    assert seen == list(range(50))


def test_several_threads_work_at_once() -> None:
    lane = ThreadLane(3, name="test-lane")
    together = threading.Barrier(3, timeout=10)

    async def main() -> list[int]:
        results = await asyncio.gather(*(lane.run(together.wait) for _ in range(3)))
        await lane.stop()
        return results

    assert sorted(asyncio.run(main())) == [0, 1, 2]


def test_work_whose_caller_was_cancelled_before_it_started_is_not_run() -> None:
    lane = ThreadLane(1, name="test-lane")
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        first = asyncio.ensure_future(lane.run(release.wait, 10))
        await asyncio.sleep(0.05)  # the thread is busy with the first piece
        second = asyncio.ensure_future(lane.run(ran.append, "second"))
        await asyncio.sleep(0)
        second.cancel()
        release.set()
        assert await first is True
        await lane.run(ran.append, "third")
        await lane.stop()

    asyncio.run(main())
    assert ran == ["third"]


def test_a_stopped_lane_ends_its_threads_and_starts_again_when_used() -> None:
    lane = ThreadLane(2, name="test-lane")

    async def main() -> None:
        await lane.run(int)
        threads = [t for t in threading.enumerate() if t.name.startswith("test-lane")]
        assert len(threads) == 2
        await lane.stop()
        assert not any(t.is_alive() for t in threads)
        assert await lane.run(str, 5) == "5"
        await lane.stop()

    asyncio.run(main())
    assert not [t for t in threading.enumerate() if t.name.startswith("test-lane")]


def test_a_lane_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        ThreadLane(0, name="none")

"""A turn process: a child that builds its service once and runs the calls it is given, in order;
results and errors come back; a child that dies has its calls run again in a new one."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from platebot import turn_process
from platebot.settings import Settings
from platebot.threads import ThreadLane
from platebot.turn_process import InThreads, TurnProcess, TurnProcessFailed

T = TypeVar("T")
SETTINGS = Settings(database_url="sqlite:///unused.db", secret_key="k", turn_process=True)


@dataclass
class Counter:
    """A service with state: it lives as long as its process."""

    built_in: int = field(default_factory=os.getpid)
    calls: int = 0


def build_counter(_settings: Settings) -> Counter:
    return Counter()


def build_nothing(settings: Settings) -> Counter:
    raise ValueError(f"cannot build for {settings.database_url}")


def count(counter: Counter, step: int = 1) -> tuple[int, int]:
    counter.calls += step
    return counter.built_in, counter.calls


def fail(_counter: Counter, message: str) -> None:
    raise LookupError(message)


def unsendable(_counter: Counter) -> object:
    return threading.Lock()  # cannot be pickled


def record_then_wait(counter: Counter, marks: str) -> int:
    """Writes its process id to ``marks``; the first time, waits to be killed."""
    path = Path(marks)
    if path.exists():
        path.write_text(path.read_text() + f"{os.getpid()}\n")
        return counter.built_in
    path.with_suffix(".new").write_text(f"{os.getpid()}\n")
    path.with_suffix(".new").replace(path)  # seen whole, or not at all
    time.sleep(30)
    return counter.built_in


def run(main: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(main)


def test_calls_run_in_the_child_one_after_the_other_on_one_service() -> None:
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")

    async def main() -> list[tuple[int, int]]:
        try:
            await lane.start()
            first = await lane.run(count)
            rest = await asyncio.gather(*(lane.run(count, step=10) for _ in range(5)))
            return [first, *rest]
        finally:
            await lane.stop()

    results = run(main())
    pids = {pid for pid, _ in results}
    assert len(pids) == 1 and os.getpid() not in pids, "one child, not this process"
    assert sorted(calls for _, calls in results) == [1, 11, 21, 31, 41, 51]


def test_an_error_comes_back_as_itself_and_the_child_goes_on() -> None:
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")

    async def main() -> tuple[int, int]:
        try:
            with pytest.raises(LookupError, match="no such row"):
                await lane.run(fail, "no such row")
            with pytest.raises(TurnProcessFailed, match="cannot be sent back"):
                await lane.run(unsendable)
            return await lane.run(count)
        finally:
            await lane.stop()

    assert run(main())[1] == 1


def test_a_service_that_cannot_be_built_fails_the_start_with_its_reason() -> None:
    lane = TurnProcess(build_nothing, SETTINGS, name="test-turns")

    async def main() -> None:
        with pytest.raises(TurnProcessFailed, match=r"cannot build for sqlite:///unused\.db"):
            await lane.start()

    run(main())


def test_a_child_killed_during_a_call_is_replaced_and_the_call_runs_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")
    marks = tmp_path / "marks"

    async def main() -> tuple[int, int, int]:
        try:
            await lane.start()
            first_pid = lane.pid
            assert first_pid is not None
            call = asyncio.create_task(lane.run(record_then_wait, str(marks)))
            while not marks.exists():
                await asyncio.sleep(0.01)
            os.kill(first_pid, signal.SIGKILL)
            built_in = await asyncio.wait_for(call, 30)
            return first_pid, built_in, (await lane.run(count))[0]
        finally:
            await lane.stop()

    first_pid, built_in, later = run(main())
    ran_in = [int(line) for line in marks.read_text().split()]
    assert ran_in[0] == first_pid and ran_in[1] == built_in != first_pid, "again, in a new child"
    assert later == built_in, "the new child stays"
    assert "ended unexpectedly" in caplog.text


def _explode() -> None:
    raise ValueError("this argument cannot be rebuilt here")


class Unreadable:
    """Pickles in the server, fails to unpickle in the child."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_explode, ())


def count_with(counter: Counter, _anything: object) -> tuple[int, int]:
    return count(counter)


def test_a_call_the_child_cannot_read_fails_alone() -> None:
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")

    async def main() -> tuple[int | None, int | None, tuple[int, int]]:
        try:
            await lane.start()
            before = lane.pid
            with pytest.raises(ValueError, match="cannot be rebuilt"):
                await lane.run(count_with, Unreadable())
            return before, lane.pid, await lane.run(count)
        finally:
            await lane.stop()

    before, after, (_, calls) = run(main())
    assert before == after and calls == 1, "the same child goes on"


def test_a_child_that_dies_between_calls_is_replaced_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its background jobs must not wait for the next call."""
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")

    async def main() -> tuple[int, int | None]:
        try:
            await lane.start()
            first = lane.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            for _ in range(300):
                await asyncio.sleep(0.05)
                if lane.pid not in (None, first):
                    break
            return first, lane.pid
        finally:
            await lane.stop()

    first, replaced = run(main())
    assert replaced not in (None, first)
    assert "ended unexpectedly" in caplog.text


def test_stop_kills_a_child_whose_call_does_not_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(turn_process, "STOP_WAIT", 0.5)
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")
    marks = tmp_path / "marks"

    async def main() -> float:
        await lane.start()
        call = asyncio.create_task(lane.run(record_then_wait, str(marks)))  # waits 30 s
        while not marks.exists():
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await lane.stop()
        with pytest.raises((TurnProcessFailed, ConnectionError)):
            await call
        return time.monotonic() - started

    assert run(main()) < 10
    assert lane.pid is None


def test_stop_lets_the_child_answer_what_it_was_given() -> None:
    lane = TurnProcess(build_counter, SETTINGS, name="test-turns")

    async def main() -> list[tuple[int, int]]:
        await lane.start()
        calls = [asyncio.create_task(lane.run(count)) for _ in range(20)]
        await asyncio.sleep(0)  # the calls are sent
        await lane.stop()
        return list(await asyncio.gather(*calls))

    assert [calls for _, calls in run(main())] == list(range(1, 21))


def test_in_threads_runs_the_same_calls_on_this_process_service() -> None:
    counter = Counter()
    threads = ThreadLane(1, name="test-lane")
    lane = InThreads(counter, threads)

    async def main() -> tuple[int, int]:
        try:
            await lane.start()
            await lane.run(count, step=5)
            return await lane.run(count)
        finally:
            await lane.stop()
            await threads.stop()

    assert run(main()) == (os.getpid(), 6)
    assert counter.calls == 6


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "sqlite://", "sqlite:///:memory:"])
def test_the_turn_process_is_for_a_sqlite_file(url: str) -> None:
    with pytest.raises(ValueError, match="PLATEBOT_TURN_PROCESS is for a SQLite file"):
        Settings(database_url=url, turn_process=True)

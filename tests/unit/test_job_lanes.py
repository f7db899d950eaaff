"""Background jobs in a thread of their own (the turn process runs them so): each runs again
while it finds work, a failing one is logged and does not stop the others, and stopping lets
the job that is running finish."""

from __future__ import annotations

import asyncio
import threading

import pytest

from web.workers import JobThread, Workers


def test_jobs_run_while_busy_a_failure_is_logged_and_stop_waits_for_the_running_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[str] = []
    work = [3]  # three rounds' worth of messages to send
    sending, may_finish = threading.Event(), threading.Event()

    def outbox() -> int:
        runs.append("outbox")
        if work[0] == 0:
            sending.set()  # the last run is in the middle of a send when stop() comes
            may_finish.wait(5)
            runs.append("settled")
            return 0
        work[0] -= 1
        return 1

    def broken() -> int:
        raise RuntimeError("database locked")

    jobs = JobThread([("outbox", outbox), ("timers", broken)], interval=30)
    jobs.start()
    assert sending.wait(5), "busy rounds follow one another without waiting the interval"
    stopper = threading.Thread(target=jobs.stop)
    stopper.start()
    stopper.join(0.2)
    assert stopper.is_alive(), "stop waits for the job that is running"
    may_finish.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert runs == ["outbox"] * 4 + ["settled"]
    assert "background job timers failed" in caplog.text and "RuntimeError" in caplog.text


def test_a_job_stuck_in_a_send_does_not_hold_up_the_timers() -> None:
    sending, may_finish = threading.Event(), threading.Event()
    ticks = threading.Semaphore(0)

    def outbox() -> int:
        sending.set()
        may_finish.wait(10)  # a paced SMS batch, or a slow provider
        return 0

    def timers() -> int:
        ticks.release()
        return 0

    jobs = JobThread([("outbox", outbox), ("timers", timers)], interval=0.01)
    jobs.start()
    try:
        assert sending.wait(5)
        for _ in range(5):
            assert ticks.acquire(timeout=5), "the timers ran on while the send was stuck"
    finally:
        may_finish.set()
        jobs.stop()


def test_the_servers_lanes_run_each_job_on_its_own() -> None:
    async def scenario() -> int:
        may_finish = threading.Event()
        ticks: list[int] = []

        def outbox() -> int:
            may_finish.wait(10)
            return 0

        def timers() -> int:
            ticks.append(1)
            return 0

        workers = Workers([("outbox", outbox), ("timers", timers)], interval=0.01)
        await workers.start()
        for _ in range(500):
            if len(ticks) >= 5:
                break
            await asyncio.sleep(0.01)
        may_finish.set()
        await workers.stop()
        return len(ticks)

    assert asyncio.run(scenario()) >= 5

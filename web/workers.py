"""Background work inside the server process: the outbox dispatcher and the timers.

Each job is a plain function that does what is due now and returns how much it did; it runs in a
worker thread so the event loop keeps answering webhooks. Jobs coordinate through the database
(row locks, leases), so several server processes may run them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

import anyio.to_thread

from core.masking import describe_error

log = logging.getLogger(__name__)

Job = Callable[[], int]


class Workers:
    def __init__(self, jobs: Sequence[tuple[str, Job]], interval: float = 1.0) -> None:
        self.jobs = list(jobs)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="platebot-workers")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            for name, job in self.jobs:
                busy = await anyio.to_thread.run_sync(run_job, name, job) or busy
            if busy:
                await asyncio.sleep(0)  # more may be due: go round again at once
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)


class JobThread:
    """The loop of ``Workers`` in a thread of its own, for a process without an event loop (the
    turn process, which runs the jobs beside the turns: the database work of both in one
    process). ``stop`` lets the job that is running finish: a message being sent is settled."""

    def __init__(
        self,
        jobs: Sequence[tuple[str, Job]],
        interval: float = 1.0,
        *,
        interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.interval = interval
        self.interrupt = interrupt  # tells a long job to wind up (the dispatcher's batch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="platebot-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.interrupt is not None:
            self.interrupt()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            for name, job in self.jobs:
                if self._stop.is_set():
                    return
                busy = run_job(name, job) or busy
            if not busy:
                self._stop.wait(self.interval)


def run_job(name: str, job: Job) -> bool:
    """Run one job; whether it did anything (then more may be due). A failure is logged: the
    job runs again at the next round."""
    try:
        return bool(job())
    except Exception as error:
        log.error(
            "background job %s failed; it runs again shortly: %s", name, describe_error(error)
        )
        return False

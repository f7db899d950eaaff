"""Background work inside the server process: the outbox dispatcher, the timers, housekeeping.

Each job is a plain function that does what is due now and returns how much it did. Each job has
a lane of its own (a loop that runs it in a worker thread, so the event loop keeps answering
webhooks): a paced batch of SMS never holds up the timers, nor the timers a send. Jobs coordinate
through the database (row locks, leases), so several server processes may run them at once.
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
    """One lane (an asyncio task) per job; a job that did something runs again at once, one
    that found nothing due waits ``interval`` seconds."""

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
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._lane(name, job), name=f"platebot-{name}")
            for name, job in self.jobs
        ]

    async def stop(self) -> None:
        """Let the job running in each lane finish (a message being sent is recorded, the rest
        of its batch given back unsent), then end the lanes."""
        self._stop.set()
        tasks, self._tasks = self._tasks, []
        if tasks and self.interrupt is not None:
            self.interrupt()
        await asyncio.gather(*tasks)

    async def _lane(self, name: str, job: Job) -> None:
        while not self._stop.is_set():
            if await anyio.to_thread.run_sync(run_job, name, job):
                await asyncio.sleep(0)  # more may be due: go round again at once
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)


class JobThread:
    """The lanes of ``Workers`` as threads, for a process without an event loop (the turn
    process, which runs the jobs beside the turns: the database work of both in one process).
    ``stop`` lets the job that is running in each lane finish: a message being sent is
    settled."""

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
        self._threads = [
            threading.Thread(target=self._lane, args=job, name=f"platebot-{job[0]}", daemon=True)
            for job in self.jobs
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.interrupt is not None:
            self.interrupt()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def _lane(self, name: str, job: Job) -> None:
        while not self._stop.is_set():
            if not run_job(name, job):
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

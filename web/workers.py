"""Background work inside the server process: the outbox dispatcher and the timers.

Each job is a plain function that does what is due now and returns how much it did; it runs in a
worker thread so the event loop keeps answering webhooks. Jobs coordinate through the database
(row locks, leases), so several server processes may run them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
                try:
                    busy = bool(await anyio.to_thread.run_sync(job)) or busy
                except Exception as error:
                    log.error(
                        "background job %s failed; it runs again shortly: %s",
                        name,
                        describe_error(error),
                    )
            if busy:
                await asyncio.sleep(0)  # more may be due: go round again at once
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

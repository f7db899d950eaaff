"""Timers: due steps run from due times kept in the database, never from memory.

Each module registers its own steps (``Wiring.timer``): ``core.selection`` (idle selection
sessions end), ``core.lapses`` (unconfirmed pre-selections lapse, blacklists lift),
``core.payments`` (unpaid orders expire, auction balances among them), ``core.bidding`` (lots
close, in a lane of their own; the auction deposits' refunds have another) and
``core.auction_room`` (what bids noted is told, in a lane of its own too).
A step claims what is due with row locks that other processes skip (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite runs one writer at a time), re-checks it under the lock and handles at most
``limit`` rows in one transaction, so any number of server processes can run the timers at once
(the room's step runs in one of them at a time: ``RoomRepository.claim_changes``).
The server runs them in a lane of their own, at least once a second, so they never wait behind a
paced send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.ports import UnitOfWork

BATCH = 100

StepFunction = Callable[[UnitOfWork, datetime, int], int]


@dataclass(frozen=True)
class TimerStep:
    """``run(uow, now, limit)`` handles at most ``limit`` due rows and returns how many."""

    name: str
    run: StepFunction


class Timers:
    """Everything due now, step by step, in batches of ``batch`` rows per transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        steps: Sequence[TimerStep] | None = None,
        batch: int = BATCH,
    ) -> None:
        if steps is None:
            from core.wiring import wire_core  # noqa: PLC0415 - the modules register themselves

            steps = wire_core().timers
        self.uow_factory = uow_factory
        self.clock = clock
        self.steps = tuple(steps)
        self.batch = batch

    def run_once(self) -> int:
        done = 0
        for step in self.steps:
            while True:
                with self.uow_factory() as uow:
                    count = step.run(uow, self.clock.now(), self.batch)
                    uow.commit()
                done += count
                if count < self.batch:
                    break
        return done

"""The bid desk: the bids waiting for one lot in a server process, decided together.

Every bid on a lot queues for the lot's row lock, and holds it to the end of a commit that waits
for the disk (accepted bids stay durable), so one transaction a bid allows at most one bid per
lock-hold time on a hot lot. A desk (one per process) lets the threads bidding on one lot
combine instead: a caller submits its bid and waits; the first caller that finds no batch
running for the lot takes every bid queued for it and decides them in one unit of work
(``core.bidding.decide_bids``: one lock of the lot, one write, one commit), then hands each
caller its own outcome, and the lead to the next caller queued meanwhile, if any. Bids on
different lots never wait for each other; two server processes each have their own desk, and
the lot's row lock keeps their batches apart as it keeps single bids apart.

A maximum set or cancelled through the desk (``set_maximum``, ``cancel_maximum``) is not batched,
but runs in a transaction of its own, committed at once, so that the lot is held for it alone
and not for the rest of a dialog turn.

Threads only, no framework. A store that takes one writer at a time (SQLite, where a bid runs
inside the dialog turn's own transaction) has no desk: a second transaction beside the turn's
would wait for it for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.bidding import (
    BidRequest,
    BidResult,
    LotChange,
    cancel_maximum,
    decide_bids,
    place_bid,
    set_maximum,
)
from core.clock import Clock
from core.errors import DomainError
from core.ports import UnitOfWork

MAX_BATCH = 64  # bids a batch takes at most: a batch holds the lot for its whole write

Outcome = BidResult | DomainError | BaseException


@dataclass(eq=False)
class _Ticket:
    request: BidRequest
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to run the next batch, not with an outcome
    outcome: Outcome | None = None


@dataclass(eq=False)
class _Lane:
    queue: list[_Ticket] = field(default_factory=list)
    busy: bool = False  # a caller is running a batch of this lot


@dataclass
class DeskStats:
    batches: int = 0
    bids: int = 0

    @property
    def mean_batch(self) -> float:
        return self.bids / self.batches if self.batches else 0.0


class BidDesk:
    """Bids on a lot from this process's threads, decided in batches; see the module."""

    def __init__(self, uow: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._lock = threading.Lock()
        self._lanes: dict[int, _Lane] = {}
        self.stats = DeskStats()

    def place_bid(
        self,
        *,
        signup_id: int,
        lot_id: int,
        share_id: int | None = None,
        amount_fen: int | None = None,
        increment_fen: int | None = None,
        at_start: bool = False,
    ) -> BidResult:
        """As ``core.bidding.place_bid``, committed: the result, or the refusal raised (it is in
        the lot's audit trail already)."""
        request = BidRequest(
            signup_id=signup_id,
            share_id=share_id,
            amount_fen=amount_fen,
            increment_fen=increment_fen,
            at_start=at_start,
        )
        outcome = self.submit(lot_id, request)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def set_maximum(self, *, signup_id: int, lot_id: int, share_id: int, max_fen: int) -> LotChange:
        """As ``core.bidding.set_maximum``, in a transaction of its own, committed at once: the
        lot is held for it alone, not for the rest of the caller's work (a dialog turn)."""
        with self._uow() as uow:
            change = set_maximum(
                uow,
                clock=self._clock,
                signup_id=signup_id,
                lot_id=lot_id,
                share_id=share_id,
                max_fen=max_fen,
            )
            uow.commit()
        return change

    def cancel_maximum(self, *, signup_id: int, lot_id: int) -> None:
        """As ``core.bidding.cancel_maximum``, in a transaction of its own."""
        with self._uow() as uow:
            cancel_maximum(uow, clock=self._clock, signup_id=signup_id, lot_id=lot_id)
            uow.commit()

    def submit(self, lot_id: int, request: BidRequest) -> BidResult | DomainError:
        """The bid's outcome once its batch has committed; a database error raised."""
        ticket = _Ticket(request)
        with self._lock:
            lane = self._lanes.setdefault(lot_id, _Lane())
            lane.queue.append(ticket)
            lead = not lane.busy
            lane.busy = True
        if not lead:
            ticket.woken.wait()
            if not ticket.lead:
                return _given(ticket.outcome)
        self._run(lot_id, lane)
        return _given(ticket.outcome)

    def _run(self, lot_id: int, lane: _Lane) -> None:
        with self._lock:
            batch, lane.queue = lane.queue[:MAX_BATCH], lane.queue[MAX_BATCH:]
        try:
            outcomes = self._decide(lot_id, batch)
        except BaseException as error:  # interrupted: every caller of the batch hears it
            outcomes = [error] * len(batch)
        finally:
            with self._lock:
                if lane.queue:  # queued meanwhile: the first of them runs the next batch
                    following = lane.queue[0]
                    following.lead = True
                    following.woken.set()
                else:
                    lane.busy = False
                    del self._lanes[lot_id]
        for ticket, outcome in zip(batch, outcomes, strict=True):
            ticket.outcome = outcome
            ticket.woken.set()

    def _decide(self, lot_id: int, batch: Sequence[_Ticket]) -> list[Outcome]:
        """The batch's outcomes. Should the batch fail as a whole (a database error), each bid
        is tried alone, so that one bid's trouble is no other bid's."""
        requests = [ticket.request for ticket in batch]
        try:
            outcomes: list[Outcome] = list(self._batch(lot_id, requests))
        except Exception as error:
            if len(batch) == 1:
                return [error]
            outcomes = []
            for request in requests:
                try:
                    outcomes.extend(self._batch(lot_id, [request]))
                except Exception as alone:
                    outcomes.append(alone)
        return outcomes

    def _batch(self, lot_id: int, requests: Sequence[BidRequest]) -> list[BidResult | DomainError]:
        with self._uow() as uow:
            outcomes = decide_bids(uow, clock=self._clock, lot_id=lot_id, requests=requests)
            uow.commit()
        with self._lock:
            self.stats.batches += 1
            self.stats.bids += len(requests)
        return outcomes


class InTurn:
    """The desk's calls where a store takes one writer at a time (SQLite): in the caller's own
    unit of work (a dialog turn's), committed with it."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def place_bid(
        self,
        *,
        signup_id: int,
        lot_id: int,
        share_id: int | None = None,
        amount_fen: int | None = None,
        increment_fen: int | None = None,
        at_start: bool = False,
    ) -> BidResult:
        return place_bid(
            self._uow,
            clock=self._clock,
            signup_id=signup_id,
            lot_id=lot_id,
            share_id=share_id,
            amount_fen=amount_fen,
            increment_fen=increment_fen,
            at_start=at_start,
        )

    def set_maximum(self, *, signup_id: int, lot_id: int, share_id: int, max_fen: int) -> LotChange:
        return set_maximum(
            self._uow,
            clock=self._clock,
            signup_id=signup_id,
            lot_id=lot_id,
            share_id=share_id,
            max_fen=max_fen,
        )

    def cancel_maximum(self, *, signup_id: int, lot_id: int) -> None:
        cancel_maximum(self._uow, clock=self._clock, signup_id=signup_id, lot_id=lot_id)


def _given(outcome: Outcome | None) -> BidResult | DomainError:
    if outcome is None:  # pragma: no cover - a ticket is woken with its outcome set
        raise RuntimeError("a bid was woken without its outcome")
    if isinstance(outcome, DomainError | BidResult):
        return outcome
    raise outcome

"""The practice auction (SPEC §7, issue 14 item 10): one lot against a simulated rival, with the
real rules of a bid and short countdowns, decided by the injected clock; nothing is saved (the
lot lives in the conversation, as ``core.practice`` keeps a practice pre-selection).

The rival's rule, so that a user can learn it: ``RIVAL_OPENS_AFTER`` after the opening it bids
the starting price if nobody has; whenever the user leads, it answers at once with the smallest
increment, as long as that stays within its limit (``RIVAL_LIMIT_FEN``). Past that, the user
leads and wins when the countdown ends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.auctions import YUAN
from core.clock import as_utc

START_FEN = 10_000 * YUAN
INCREMENTS_FEN = (1_000 * YUAN, 2_000 * YUAN, 3_000 * YUAN)
RIVAL_LIMIT_FEN = 16_000 * YUAN
OPENING_COUNTDOWN = timedelta(seconds=60)
BID_COUNTDOWN = timedelta(seconds=20)
RIVAL_OPENS_AFTER = timedelta(seconds=10)
ME = "66000042"  # the practising user's bidder number
RIVAL = "88000017"
PLATE_SERIAL = "88888"


class Bidder(enum.StrEnum):
    ME = "me"
    RIVAL = "rival"


class Move(enum.Enum):
    """What a bid came to, for the screen."""

    ACCEPTED = "accepted"  # the user leads
    ANSWERED = "answered"  # the rival answered at once: the user is outbid
    ALREADY_LEADING = "already_leading"
    HAS_PRICE = "has_price"  # a bid at the starting price once the lot has a bid
    NOT_ALLOWED = "not_allowed"
    TOO_LATE = "too_late"


@dataclass(frozen=True)
class PracticeBid:
    at: datetime
    bidder: Bidder
    amount_fen: int


@dataclass
class PracticeLot:
    opened_at: datetime
    deadline: datetime
    bids: list[PracticeBid] = field(default_factory=list)

    @property
    def price_fen(self) -> int | None:
        return self.bids[-1].amount_fen if self.bids else None

    @property
    def leader(self) -> Bidder | None:
        return self.bids[-1].bidder if self.bids else None

    @property
    def my_bid_fen(self) -> int | None:
        mine = [bid.amount_fen for bid in self.bids if bid.bidder is Bidder.ME]
        return max(mine) if mine else None

    def closed(self, now: datetime) -> bool:
        return now >= self.deadline

    def _accept(self, bidder: Bidder, amount: int, at: datetime) -> None:
        self.bids.append(PracticeBid(at, bidder, amount))
        self.deadline = at + BID_COUNTDOWN

    def catch_up(self, now: datetime) -> None:
        """What the rival did by ``now`` on its own: the opening bid if nobody bid."""
        opening = self.opened_at + RIVAL_OPENS_AFTER
        if not self.bids and opening <= now and opening < self.deadline:
            self._accept(Bidder.RIVAL, START_FEN, opening)

    def bid(self, increment_fen: int | None, now: datetime) -> Move:
        """The user raises the price (the starting price before any bid) by ``increment_fen``,
        or (None) bids the starting price, as the first bid only; the rival answers by its
        rule."""
        self.catch_up(now)
        if self.closed(now):
            return Move.TOO_LATE
        if increment_fen is not None and increment_fen not in INCREMENTS_FEN:
            return Move.NOT_ALLOWED
        if increment_fen is None and self.price_fen is not None:
            return Move.HAS_PRICE
        if self.leader is Bidder.ME:
            return Move.ALREADY_LEADING
        self._accept(Bidder.ME, (self.price_fen or START_FEN) + (increment_fen or 0), now)
        answer = (self.price_fen or START_FEN) + INCREMENTS_FEN[0]
        if answer <= RIVAL_LIMIT_FEN:
            self._accept(Bidder.RIVAL, answer, now)
            return Move.ANSWERED
        return Move.ACCEPTED


def new_lot(now: datetime) -> PracticeLot:
    return PracticeLot(opened_at=now, deadline=now + OPENING_COUNTDOWN)


def to_data(lot: PracticeLot) -> dict[str, Any]:
    """What the conversation keeps of the practice lot."""
    return {
        "opened_at": lot.opened_at.isoformat(),
        "deadline": lot.deadline.isoformat(),
        "bids": [[bid.at.isoformat(), bid.bidder.value, bid.amount_fen] for bid in lot.bids],
    }


def from_data(data: dict[str, Any]) -> PracticeLot:
    return PracticeLot(
        opened_at=as_utc(datetime.fromisoformat(data["opened_at"])),
        deadline=as_utc(datetime.fromisoformat(data["deadline"])),
        bids=[
            PracticeBid(as_utc(datetime.fromisoformat(at)), Bidder(who), int(amount))
            for at, who, amount in data["bids"]
        ],
    )

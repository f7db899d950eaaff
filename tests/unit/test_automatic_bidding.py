"""Automatic bidding (SPEC §7) against a reference model of the rule: random sequences of manual
bids and maxima on one lot, run through the use cases (``place_bid``, ``set_maximum``) on a
hand-written fake repository, give the same bids, leader and ended maxima as a plain model of
the rule written from its wording."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from core import auction_errors as errors
from core.auctions import LotState
from core.bidding import (
    BidRecord,
    LotChange,
    LotView,
    MaximumExceeded,
    Proxy,
    ShareView,
    place_bid,
    resolve_maxima,
    set_maximum,
)
from core.clock import ManualClock
from core.errors import DomainError
from core.events import Event
from core.ports import UnitOfWork

START = 100
STEP = 10
INCREMENTS = (10, 20, 30)
OPENS = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class FakeAuctions:
    """One lot; bidder ``n`` has signup ``n`` and share ``n``."""

    lot: LotView
    maxima: list[tuple[int, int, int, str]] = field(default_factory=list)  # id, signup, max, state
    trail: list[BidRecord] = field(default_factory=list)

    def lock_share(self, share_id: int, lot_id: int) -> tuple[ShareView, LotView]:
        share = ShareView(
            share_id=share_id, signup_id=share_id, vin=f"V{share_id}", live=True, signup_active=True
        )
        return share, self.lot

    def lock_shares(
        self, share_ids: Sequence[int], lot_id: int
    ) -> tuple[dict[int, ShareView], LotView]:
        found = {share_id: self.lock_share(share_id, lot_id)[0] for share_id in share_ids}
        return found, self.lot

    def shares_elsewhere(
        self, share_ids: Sequence[int], lot_id: int
    ) -> dict[int, tuple[int | None, int | None]]:
        return {}

    def lock_lot(self, lot_id: int, share_id: int | None) -> LotView:
        return self.lot

    def active_maxima(self, lot_id: int) -> list[Proxy]:
        return [
            Proxy(maximum_id=i, signup_id=s, share_id=s, max_fen=m)
            for i, s, m, state in self.maxima
            if state == "active"
        ]

    def write_bids(
        self,
        records: Sequence[BidRecord],
        change: LotChange | None,
        *,
        ended: Sequence[int],
        now: datetime,
    ) -> None:
        self.trail.extend(records)
        if change is not None:
            self.lot = replace(
                self.lot,
                price_fen=change.price_fen,
                leader_signup_id=change.leader_signup_id,
                leader_share_id=change.leader_share_id,
                deadline=change.deadline,
                bids=change.bids,
                maxima=change.maxima,
            )
        self._end(lambda i, s: i in ended, "exceeded")

    def add_maximum(
        self, *, lot_id: int, signup_id: int, share_id: int, max_fen: int, now: datetime
    ) -> Proxy:
        maximum_id = len(self.maxima) + 1
        self.maxima.append((maximum_id, signup_id, max_fen, "active"))
        return Proxy(maximum_id=maximum_id, signup_id=signup_id, share_id=share_id, max_fen=max_fen)

    def end_maxima(self, lot_id: int, *, signup_id: int | None, state: str, now: datetime) -> int:
        return self._end(lambda i, s: signup_id in (None, s), state)

    def _end(self, which: Any, state: str) -> int:
        ended = 0
        for n, (i, s, m, current) in enumerate(self.maxima):
            if current == "active" and which(i, s):
                self.maxima[n] = (i, s, m, state)
                ended += 1
        return ended

    def count_maxima(self, lot_id: int, count: int) -> None:
        self.lot = replace(self.lot, maxima=count)


@dataclass
class FakeUnitOfWork:
    auctions: FakeAuctions
    events: list[Event] = field(default_factory=list)

    def record(self, event: Event) -> None:
        self.events.append(event)


def fresh_lot() -> LotView:
    return LotView(
        lot_id=1,
        period_id=1,
        state=LotState.OPEN,
        opens_at=OPENS,
        deadline=OPENS + timedelta(minutes=5),
        starting_price_fen=START,
        price_fen=None,
        leader_signup_id=None,
        leader_share_id=None,
        bids=0,
        maxima=0,
        increments_fen=INCREMENTS,
        bid_countdown_s=60,
    )


# -- the reference model: the rule's wording, in plain Python ---------------------------------


@dataclass
class Model:
    price: int | None = None
    leader: int | None = None
    maxima: dict[int, tuple[int, int]] = field(default_factory=dict)  # bidder -> (max, when set)
    bids: list[tuple[int, int, bool]] = field(default_factory=list)  # bidder, amount, automatic
    exceeded: list[int] = field(default_factory=list)
    clock: int = 0

    def next_bid(self) -> int:
        return START if self.price is None else self.price + STEP

    def strength(self, bidder: int) -> tuple[int, int]:
        """Higher maximum first; of equal ones, the one set earlier."""
        amount, when = self.maxima[bidder]
        return amount, -when

    def manual(self, bidder: int, increment: int) -> bool:
        if self.leader == bidder:
            return False  # the leader cannot raise their own leading bid
        amount = (START if self.price is None else self.price) + increment
        self.bids.append((bidder, amount, False))
        self.price, self.leader = amount, bidder
        self.react()
        return True

    def set_max(self, bidder: int, amount: int) -> bool:
        if amount < self.next_bid():
            return False
        self.clock += 1
        self.maxima[bidder] = (amount, self.clock)
        self.react()
        return True

    def react(self) -> None:
        """Whenever they are outbid, the system bids the smallest increment for the strongest
        outbid maximum, up to its maximum; a maximum that can no longer bid is exceeded; the
        weaker never bids a price the stronger (leading) one could not answer."""
        while True:
            for bidder, (amount, _when) in list(self.maxima.items()):
                if bidder != self.leader and amount < self.next_bid():
                    del self.maxima[bidder]
                    self.exceeded.append(bidder)
            outbid = [b for b in self.maxima if b != self.leader]
            if not outbid:
                return
            strongest = max(outbid, key=self.strength)
            holder = self.leader if self.leader in self.maxima else None
            if (
                holder is not None
                and self.strength(holder) > self.strength(strongest)
                and self.maxima[holder][0] < self.next_bid() + STEP
            ):
                for bidder in outbid:
                    del self.maxima[bidder]
                    self.exceeded.append(bidder)
                return
            self.bids.append((strongest, self.next_bid(), True))
            self.price, self.leader = self.next_bid(), strongest


actions = st.lists(
    st.one_of(
        st.tuples(st.just("bid"), st.integers(1, 4), st.sampled_from(INCREMENTS)),
        st.tuples(st.just("max"), st.integers(1, 4), st.integers(START - STEP, START + 300)),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(actions)
def test_automatic_bids_follow_the_reference_model(steps: list[tuple[str, int, int]]) -> None:
    uow = FakeUnitOfWork(FakeAuctions(fresh_lot()))
    # the fake has what bidding uses of a unit of work, not the rest
    core_uow = cast(UnitOfWork, uow)
    clock = ManualClock(OPENS)
    model = Model()
    for kind, bidder, value in steps:
        clock.advance(timedelta(seconds=1))
        try:
            if kind == "bid":
                place_bid(
                    core_uow,
                    clock=clock,
                    signup_id=bidder,
                    lot_id=1,
                    share_id=bidder,
                    increment_fen=value,
                )
            else:
                set_maximum(
                    core_uow,
                    clock=clock,
                    signup_id=bidder,
                    lot_id=1,
                    share_id=bidder,
                    max_fen=value,
                )
            done = True
        except (errors.AlreadyLeading, errors.MaximumTooLow):
            done = False
        expected = model.manual(bidder, value) if kind == "bid" else model.set_max(bidder, value)
        assert done == expected
    trail = [(r.signup_id, r.amount_fen, r.automatic) for r in uow.auctions.trail if r.accepted]
    assert trail == model.bids
    assert (uow.auctions.lot.price_fen, uow.auctions.lot.leader_signup_id) == (
        model.price,
        model.leader,
    )
    active = {s for _i, s, _m, state in uow.auctions.maxima if state == "active"}
    assert active == set(model.maxima)
    assert uow.auctions.lot.maxima == len(active)
    exceeded = [e.signup_id for e in uow.events if isinstance(e, MaximumExceeded)]
    assert exceeded == model.exceeded
    # what the rule promises whatever the sequence:
    prices = [amount for _b, amount, _a in model.bids]
    assert all(b > a for a, b in itertools.pairwise(prices)), "the price only rises"
    for (_b, before, _), (_bidder, after, automatic) in zip(
        model.bids, model.bids[1:], strict=False
    ):
        assert after - before == STEP if automatic else after - before in INCREMENTS
    assert all(
        b != a for (a, _x, _y), (b, _z, _w) in zip(model.bids, model.bids[1:], strict=False)
    ), "nobody raises their own lead"
    assert set(model.maxima) <= {model.leader}, "every other maximum was answered or ended"


def bids_of(record: Sequence[tuple[Proxy, int]]) -> list[tuple[int, int]]:
    return [(proxy.signup_id, amount) for proxy, amount in record]


def test_of_two_equal_maxima_the_earlier_leads_whoever_starts() -> None:
    earlier = Proxy(maximum_id=1, signup_id=1, share_id=1, max_fen=200)
    later = Proxy(maximum_id=2, signup_id=2, share_id=2, max_fen=200)
    for price in (150, 160):  # both parities of the ladder to 200
        bids, ended = resolve_maxima(
            start=START, price=price, leader=9, proxies=[earlier, later], step=STEP
        )
        assert bids[-1][0] is earlier, price
        assert ended == [later]
        assert all(amount <= 200 for _p, amount in bids)


def test_a_higher_maximum_leads_at_one_step_above_what_the_other_could_bid() -> None:
    low = Proxy(maximum_id=1, signup_id=1, share_id=1, max_fen=175)
    high = Proxy(maximum_id=2, signup_id=2, share_id=2, max_fen=300)
    bids, ended = resolve_maxima(
        start=START, price=None, leader=None, proxies=[low, high], step=STEP
    )
    assert bids_of(bids)[0] == (2, 100), "the strongest bids first"
    assert bids[-1][0] is high and bids[-1][1] <= 180
    assert ended == [low]


def test_a_maximum_is_no_bid_when_the_leader_is_below_it() -> None:
    own = Proxy(maximum_id=1, signup_id=1, share_id=1, max_fen=500)
    assert resolve_maxima(start=START, price=120, leader=1, proxies=[own], step=STEP) == ([], [])


def test_a_refusal_names_its_rule() -> None:
    refusal: DomainError = errors.AlreadyLeading()
    assert refusal.code == "auction.already_leading"

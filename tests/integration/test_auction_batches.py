"""Bids decided together (``core.bidding.decide_bids``, ``core.bid_desk``): a batch decides
exactly as the same bids placed one by one, keeps every refusal in the lot's trail with its
reason, refuses a bid after the deadline by the server's clock, and one bid's trouble is no
other bid's; a desk's threads on PostgreSQL keep every invariant."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bench.auction_load import check_invariants
from core import auction_errors as errors
from core import bidding
from core.auctions import YUAN
from core.bid_desk import BidDesk
from core.bidding import BidRecord, BidRequest, BidResult
from core.errors import DomainError
from store.auction_tables import auction_lots
from store.db import create_engine
from tests.auction_world import START_PRICE, AuctionWorld, Bidder

K = 1_000 * YUAN
INCREMENTS = (1 * K, 2 * K, 5 * K)
BIDDERS = 4

# one bid: (bidder, which share: 0 its own, 1 another bidder's, 2 its second if any,
#           ("inc", increment), ("amount", yuan thousands above the starting price) or
#           ("start", 0): the starting price, as the first bid only)
bids = st.tuples(
    st.integers(0, BIDDERS - 1),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
    st.one_of(
        st.tuples(st.just("inc"), st.sampled_from([*INCREMENTS, 3 * K])),
        st.tuples(st.just("amount"), st.integers(-1, 12)),
        st.tuples(st.just("start"), st.just(0)),
    ),
)
maxima = st.lists(st.tuples(st.integers(0, BIDDERS - 1), st.integers(1, 14)), max_size=2)


@dataclass
class Side:
    """A lot of its own with bidders of their own (VINs lock across lots)."""

    lot: int
    bidders: list[Bidder]


def side(world: AuctionWorld, period: int, serial: str) -> Side:
    lot = world.lot(period, serial)
    # the first bidder has two VINs: a bid naming none is then refused (choose one)
    return Side(lot, [world.bidder(period, shares=2 if n == 0 else 1) for n in range(BIDDERS)])


def request(side: Side, bid: tuple[int, int, tuple[str, int]]) -> BidRequest:
    who, which, (kind, value) = bid
    bidder = side.bidders[who]
    share: int | None = bidder.share_ids[0]
    if which == 1:
        share = side.bidders[(who + 1) % BIDDERS].share_ids[0]
    elif which == 2:
        share = bidder.share_ids[1] if len(bidder.share_ids) > 1 else None
    if kind == "inc":
        return BidRequest(signup_id=bidder.signup_id, share_id=share, increment_fen=value)
    if kind == "start":
        return BidRequest(signup_id=bidder.signup_id, share_id=share, at_start=True)
    return BidRequest(
        signup_id=bidder.signup_id, share_id=share, amount_fen=START_PRICE + value * K
    )


def seen(world: AuctionWorld, side: Side) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """The lot's trail and state, bidders and shares named by their places in ``side``."""
    signups = {b.signup_id: n for n, b in enumerate(side.bidders)}
    shares = {s: (n, k) for n, b in enumerate(side.bidders) for k, s in enumerate(b.share_ids)}

    def row(r: BidRecord) -> tuple[Any, ...]:
        return (
            signups[r.signup_id],
            None if r.share_id is None else shares[r.share_id],
            r.amount_fen,
            r.placed_at,
            r.accepted,
            r.refusal,
            r.automatic,
            r.price_before,
            r.deadline_before,
            r.seq,
        )

    lot = world.lot_now(side.lot)
    state = (
        lot.price_fen,
        None if lot.leader_signup_id is None else signups[lot.leader_signup_id],
        None if lot.leader_share_id is None else shares[lot.leader_share_id],
        lot.deadline,
        lot.bids,
        lot.maxima,
    )
    return [row(r) for r in world.trail(side.lot)], state


def outcome_of(outcome: BidResult | DomainError) -> Any:
    if isinstance(outcome, DomainError):
        return (outcome.code, outcome.params)
    return (outcome.amount_fen, outcome.price_fen, outcome.leading, outcome.automatic_bids)


def decide(world: AuctionWorld, lot: int, requests: list[BidRequest]) -> list[Any]:
    with world.uow() as uow:
        found = bidding.decide_bids(uow, clock=world.clock, lot_id=lot, requests=requests)
        uow.commit()
    return found


def test_a_batch_decides_exactly_as_the_same_bids_placed_one_by_one(db: Engine) -> None:
    world = AuctionWorld(db)
    serials = itertools.count(10000)

    @settings(
        max_examples=25 if db.dialect.name == "sqlite" else 12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(batch=st.lists(bids, min_size=1, max_size=10), ceilings=maxima)
    def check(batch: list[tuple[int, int, tuple[str, int]]], ceilings: list[Any]) -> None:
        world.clock.set(world.opened_at)
        period = world.period(increments_fen=INCREMENTS)
        one, other = (
            side(world, period, str(next(serials))),
            side(world, period, str(next(serials))),
        )
        world.start()
        for each in (one, other):
            for who, ceiling in ceilings:
                with contextlib.suppress(DomainError):
                    world.maximum(each.bidders[who], each.lot, START_PRICE + ceiling * K)
        alone = []
        for bid in batch:
            with world.uow() as uow:
                try:
                    alone.append(
                        outcome_of(
                            bidding.place_bid(
                                uow,
                                clock=world.clock,
                                lot_id=one.lot,
                                **_fields(request(one, bid)),
                            )
                        )
                    )
                except DomainError as error:
                    alone.append(outcome_of(error))
                uow.commit()
        together = decide(world, other.lot, [request(other, bid) for bid in batch])
        assert [outcome_of(o) for o in together] == alone
        assert seen(world, other) == seen(world, one)

    check()


def _fields(request: BidRequest) -> dict[str, Any]:
    return {
        "signup_id": request.signup_id,
        "share_id": request.share_id,
        "amount_fen": request.amount_fen,
        "increment_fen": request.increment_fen,
        "at_start": request.at_start,
    }


def test_refusals_of_a_batch_are_kept_with_their_reasons_and_fail_no_other_bid(
    db: Engine,
) -> None:
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    alice, bob, carol = (world.bidder(period) for _ in range(3))
    world.start()
    outcomes = decide(
        world,
        lot,
        [
            BidRequest(signup_id=alice.signup_id, share_id=alice.share_ids[0], increment_fen=K),
            BidRequest(signup_id=bob.signup_id, share_id=999_999, increment_fen=K),  # unknown VIN
            BidRequest(signup_id=alice.signup_id, share_id=alice.share_ids[0], increment_fen=K),
            BidRequest(signup_id=carol.signup_id, share_id=carol.share_ids[0], amount_fen=1),
            BidRequest(signup_id=bob.signup_id, share_id=bob.share_ids[0], increment_fen=2 * K),
        ],
    )
    assert [type(o) for o in outcomes] == [
        BidResult,
        errors.VinNotYours,
        errors.AlreadyLeading,
        errors.BidTooLow,
        BidResult,
    ]
    assert [(r.signup_id, r.accepted, r.refusal, r.seq) for r in world.trail(lot)] == [
        (alice.signup_id, True, None, 1),
        (bob.signup_id, False, "auction.vin_not_yours", None),
        (alice.signup_id, False, "auction.already_leading", None),
        (carol.signup_id, False, "auction.bid_too_low", None),
        (bob.signup_id, True, None, 2),
    ]
    lot_now = world.lot_now(lot)
    assert (lot_now.price_fen, lot_now.leader_signup_id) == (START_PRICE + 3 * K, bob.signup_id)
    assert check_invariants(db, [lot]) == []


def test_of_two_first_bids_at_the_starting_price_in_one_batch_the_second_is_refused(
    db: Engine,
) -> None:
    """Both bidders saw a lot with no bid and asked for its starting price: under the lot's
    lock the first is the first bid, the second finds a price and is refused (not made a
    raise), with its reason in the trail."""
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    outcomes = decide(
        world,
        lot,
        [
            BidRequest(signup_id=alice.signup_id, share_id=alice.share_ids[0], at_start=True),
            BidRequest(signup_id=bob.signup_id, share_id=bob.share_ids[0], at_start=True),
        ],
    )
    assert outcome_of(outcomes[0]) == (START_PRICE, START_PRICE, True, 0)
    assert isinstance(outcomes[1], errors.LotHasPrice)
    assert outcomes[1].params == {"price": START_PRICE, "increments": "100000,200000,500000"}
    assert [(r.signup_id, r.amount_fen, r.accepted, r.refusal) for r in world.trail(lot)] == [
        (alice.signup_id, START_PRICE, True, None),
        (bob.signup_id, None, False, "auction.lot_has_price"),
    ]
    lot_now = world.lot_now(lot)
    assert (lot_now.price_fen, lot_now.leader_signup_id) == (START_PRICE, alice.signup_id)
    later = decide(
        world,
        lot,
        [BidRequest(signup_id=bob.signup_id, share_id=bob.share_ids[0], at_start=True)],
    )
    assert isinstance(later[0], errors.LotHasPrice), "refused before the lot's lock too"
    assert check_invariants(db, [lot]) == []


def test_a_bid_after_the_deadline_is_refused_in_a_batch_too(db: Engine) -> None:
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    first = decide(
        world,
        lot,
        [BidRequest(signup_id=alice.signup_id, share_id=alice.share_ids[0], increment_fen=K)],
    )[0]
    assert isinstance(first, BidResult)
    world.clock.set(first.deadline)  # the deadline in force, not yet closed
    late = decide(
        world,
        lot,
        [
            BidRequest(signup_id=bob.signup_id, share_id=bob.share_ids[0], increment_fen=K),
            BidRequest(signup_id=bob.signup_id, share_id=bob.share_ids[0], increment_fen=2 * K),
        ],
    )
    assert [type(o) for o in late] == [errors.BidAfterDeadline, errors.BidAfterDeadline]
    trail = world.trail(lot)
    assert [r.refusal for r in trail] == [None, "auction.after_deadline", "auction.after_deadline"]
    assert all(r.deadline_before == first.deadline for r in trail[1:])
    assert world.lot_now(lot).leader_signup_id == alice.signup_id


@contextlib.contextmanager
def held_elsewhere(db: Engine, lot: int) -> Iterator[None]:
    """The lot row-locked by another connection (another server process's bid) while inside;
    let go on leaving."""
    other = create_engine(db.url.render_as_string(hide_password=False))
    try:
        with other.connect() as holder:
            holder.execute(
                sa.select(auction_lots.c.id)
                .where(auction_lots.c.id == lot)
                .with_for_update(key_share=True)
            )
            yield
            holder.rollback()
    finally:
        other.dispose()


def test_bids_waiting_for_a_lot_held_elsewhere_are_decided_in_one_batch(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time")
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    bidders = [world.bidder(period) for _ in range(6)]
    world.start()
    desk = BidDesk(world.uow, world.clock)
    outcomes: dict[int, BidResult | DomainError] = {}

    def bid(n: int) -> None:
        bidder = bidders[n]
        outcomes[n] = desk.submit(
            lot,
            BidRequest(signup_id=bidder.signup_id, share_id=bidder.share_ids[0], increment_fen=K),
        )

    with held_elsewhere(db, lot):  # another server process's bid holds the lot
        first = threading.Thread(target=bid, args=(0,))
        first.start()
        time.sleep(0.3)  # its batch of one waits for the lot; the others queue behind it
        rest = [threading.Thread(target=bid, args=(n,)) for n in range(1, 6)]
        for thread in rest:
            thread.start()
        time.sleep(0.3)
    for thread in [first, *rest]:
        thread.join(timeout=20)
    assert (desk.stats.batches, desk.stats.bids) == (2, 6)
    assert all(isinstance(outcomes[n], BidResult) for n in range(6))
    lot_now = world.lot_now(lot)
    assert lot_now.price_fen == START_PRICE + 6 * K  # each raised the one before by ¥1,000
    assert check_invariants(db, [lot]) == []


def test_first_bids_at_the_starting_price_from_a_desks_threads_make_one_first_bid(
    db: Engine,
) -> None:
    """Three bidders ask for the starting price of a lot held elsewhere (another process's
    bid): one of them is its first bid, the others are refused, none is made a raise."""
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time")
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    bidders = [world.bidder(period) for _ in range(3)]
    world.start()
    desk = BidDesk(world.uow, world.clock)
    outcomes: dict[int, BidResult | DomainError] = {}

    def bid(n: int) -> None:
        bidder = bidders[n]
        outcomes[n] = desk.submit(
            lot,
            BidRequest(signup_id=bidder.signup_id, share_id=bidder.share_ids[0], at_start=True),
        )

    with held_elsewhere(db, lot):
        threads = [threading.Thread(target=bid, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=20)
    accepted = [o for o in outcomes.values() if isinstance(o, BidResult)]
    assert [o.amount_fen for o in accepted] == [START_PRICE]
    assert sorted(type(o).__name__ for o in outcomes.values() if o not in accepted) == [
        "LotHasPrice",
        "LotHasPrice",
    ]
    lot_now = world.lot_now(lot)
    assert (lot_now.price_fen, lot_now.bids) == (START_PRICE, 1)
    assert check_invariants(db, [lot]) == []


def test_a_desks_threads_keep_every_invariant(db: Engine) -> None:
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS, bid_countdown_s=60)
    lot = world.lot(period, "88888")
    bidders = [world.bidder(period) for _ in range(8)]
    world.start()
    desk = BidDesk(world.uow, world.clock)
    found: list[BidResult | DomainError] = []

    def bid(n: int) -> None:
        for k in range(6):
            bidder = bidders[(n + k) % len(bidders)]
            found.append(
                desk.submit(
                    lot,
                    BidRequest(
                        signup_id=bidder.signup_id,
                        share_id=bidder.share_ids[0],
                        increment_fen=INCREMENTS[k % 3],
                    ),
                )
            )
            world.clock.advance(timedelta(milliseconds=1))

    threads = [threading.Thread(target=bid, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 36 and desk.stats.bids == 36
    accepted = [o for o in found if isinstance(o, BidResult)]
    assert accepted
    assert world.lot_now(lot).bids == len(accepted)
    assert {o.code for o in found if isinstance(o, DomainError)} <= {"auction.already_leading"}
    assert check_invariants(db, [lot]) == []


def test_a_bid_the_database_rejects_fails_alone_not_its_batch(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite takes any integer as an id")
    world = AuctionWorld(db)
    period = world.period(increments_fen=INCREMENTS)
    lot = world.lot(period, "88888")
    alice, bob, carol = (world.bidder(period) for _ in range(3))
    world.start()
    desk = BidDesk(world.uow, world.clock)
    outcomes: dict[str, object] = {}

    def bid(name: str, bidder: Bidder, share_id: int) -> None:
        try:
            outcomes[name] = desk.submit(
                lot, BidRequest(signup_id=bidder.signup_id, share_id=share_id, increment_fen=K)
            )
        except sa.exc.DBAPIError as error:
            outcomes[name] = error

    other = create_engine(db.url.render_as_string(hide_password=False))
    try:
        with other.connect() as holder:  # the lot is held: the bids below queue together
            holder.execute(
                sa.select(auction_lots.c.id)
                .where(auction_lots.c.id == lot)
                .with_for_update(key_share=True)
            )
            threads = [threading.Thread(target=bid, args=("alice", alice, alice.share_ids[0]))]
            threads[0].start()
            time.sleep(0.3)
            threads += [
                threading.Thread(target=bid, args=("bob", bob, bob.share_ids[0])),
                threading.Thread(target=bid, args=("carol", carol, 2**40)),  # no such integer id
            ]
            for thread in threads[1:]:
                thread.start()
            time.sleep(0.3)
            holder.rollback()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        other.dispose()
    assert isinstance(outcomes["alice"], BidResult)
    assert isinstance(outcomes["bob"], BidResult), "decided alone once its batch failed"
    assert isinstance(outcomes["carol"], sa.exc.DBAPIError)
    assert (desk.stats.batches, desk.stats.bids) == (2, 2), "alice's, then bob's alone"
    assert [r.signup_id for r in world.trail(lot)] == [alice.signup_id, bob.signup_id]
    assert check_invariants(db, [lot]) == []

"""Bidding (SPEC §7, issue 14 items 4, 5, 7): the rules of a bid, automatic bidding with a
maximum, and the close of a lot, all decided by the database under a row lock of the lot.

Bids are decided in a transaction, one or a batch of them waiting for the same lot
(``decide_bids``; ``place_bid`` is the batch of one, ``core.bid_desk`` gathers batches): the
bidders' shares (VINs) are locked, then the lot; the clock is read once the lot is locked, for
each bid as it is decided, so the time that decides is the time of the decision; the rules below
decide, each bid on the lot as the bids before it left it; every bid (accepted or refused, with
its reason) is written to the lot's audit trail and the lot's price, leader and deadline are
written with them. Everything the rules need comes with the locked reads, so a batch costs
few round trips while it holds the lot. A bid that the lot as it stood before its lock already
refuses (an amount below what it asked: the price only rises; a closed lot) is refused without
queueing for the lot (``refused_unlocked``), when no bid of its batch needs the lot.

Rules of a bid (manual 003 §5):

- a lot opens at the period's start with the opening countdown as its deadline; every accepted
  bid moves the deadline to the moment of the bid plus the bid countdown; a bid at or after the
  deadline in force is refused, whether or not the close has run;
- the first bid is at least the starting price; each later bid is the current price plus one of
  the allowed increments; the leader cannot raise their own leading bid; a bid asked for at
  the starting price (``at_start``) is the first bid or nothing: once the lot has a price, it
  is refused (``LotHasPrice``), never turned into a raise;
- each bid names one of the bidder's VINs (shares): a VIN leading (or having won) another lot,
  or standing behind a maximum on another lot, cannot bid; it is free again when outbid.

Automatic bidding (beyond the manual, as the UK DVLA and Hong Kong auctions have it): a bidder
sets a maximum on a lot, naming a VIN, which then bids on that lot only. Whenever the leader
changes, the system bids the smallest allowed increment for the strongest outbid maximum
(higher, or equal and set earlier), within every rule above, until no outbid maximum can bid.
The weaker of two maxima never bids a price the stronger one could not answer, so the stronger
one (of two equal ones, the earlier) leads; a maximum that cannot bid any more ends, and its
bidder is told (``MaximumExceeded``). Each automatic bid is a bid of its own in the audit trail,
so the price always rises by allowed increments.

A refusal raises its ``DomainError`` after the refused bid was written: the caller commits then
too (the dialog engine commits a turn that ends in a domain error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from core.auction_errors import (
    AlreadyLeading,
    BidAfterDeadline,
    BidTooLow,
    ChooseVin,
    LotHasPrice,
    LotNotOpen,
    LotUnknown,
    MaximumTooLow,
    NoFreeVin,
    NoMaximum,
    NotAnAllowedIncrement,
    SignupNotActive,
    VinBehindMaximum,
    VinLocked,
    VinNotYours,
)
from core.auctions import LotState, PeriodState, Share, stored_id
from core.clock import Clock
from core.errors import DomainError
from core.events import Event
from core.ports import UnitOfWork
from core.timers import TimerStep
from core.wiring import Wiring

AUCTION_LANE = "timers:auctions"

# -- what the locked reads give ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareView:
    """A share (VIN) as its row lock found it, with its signup."""

    share_id: int
    signup_id: int
    vin: str
    live: bool
    signup_active: bool


@dataclass(frozen=True, slots=True)
class LotView:
    """A lot as its row lock found it, with its period's rules, and where the share asked about
    leads (or won) another lot (``elsewhere``) or stands behind a maximum on another lot
    (``reserved_on``). Read after the share's lock, so nothing can make that share lead or
    stand elsewhere meanwhile (being outbid elsewhere frees it, which at worst refuses a bid
    that a moment later would pass)."""

    lot_id: int
    period_id: int
    state: LotState
    opens_at: datetime
    deadline: datetime
    starting_price_fen: int
    price_fen: int | None
    leader_signup_id: int | None
    leader_share_id: int | None
    bids: int
    maxima: int
    increments_fen: tuple[int, ...]
    bid_countdown_s: int
    elsewhere: int | None = None
    reserved_on: int | None = None

    @property
    def step(self) -> int:
        """The smallest allowed increment."""
        return self.increments_fen[0]

    @property
    def minimum(self) -> int:
        """The lowest bid allowed now."""
        return self.starting_price_fen if self.price_fen is None else self.price_fen + self.step


@dataclass(frozen=True, slots=True)
class Proxy:
    """An active maximum; a lower ``maximum_id`` was set earlier."""

    maximum_id: int
    signup_id: int
    share_id: int
    max_fen: int


@dataclass(frozen=True, slots=True)
class BidRecord:
    """A row of the lot's audit trail. Accepted bids carry their sequence number on the lot;
    ``price_before`` and ``deadline_before`` are what was in force when it was decided."""

    lot_id: int
    signup_id: int
    share_id: int | None
    amount_fen: int | None
    placed_at: datetime
    accepted: bool
    refusal: str | None
    automatic: bool
    price_before: int | None
    deadline_before: datetime | None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class LotChange:
    lot_id: int
    price_fen: int | None
    leader_signup_id: int | None
    leader_share_id: int | None
    deadline: datetime
    bids: int
    maxima: int


@dataclass(frozen=True, slots=True)
class BidResult:
    """What the bidder is told at once: their bid, and the lot after every automatic answer."""

    lot_id: int
    amount_fen: int
    price_fen: int
    leading: bool
    deadline: datetime
    automatic_bids: int


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BidPlaced(Event):
    lot_id: int
    period_id: int
    signup_id: int
    share_id: int
    amount_fen: int
    automatic: bool
    seq: int
    placed_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Outbid(Event):
    """``signup_id`` led the lot earlier in this transaction (or before it) and no longer does."""

    lot_id: int
    period_id: int
    signup_id: int
    price_fen: int
    leader_signup_id: int
    at: datetime


@dataclass(frozen=True)
class MaximumExceeded(Event):
    """The bidder's maximum cannot bid any more on the lot (the price passed it, or an equal or
    higher maximum set earlier holds the lead)."""

    lot_id: int
    period_id: int
    signup_id: int
    max_fen: int
    price_fen: int
    at: datetime


@dataclass(frozen=True)
class LotClosed(Event):
    lot_id: int
    period_id: int
    sold: bool
    price_fen: int | None
    winner_signup_id: int | None
    winner_share_id: int | None
    closed_at: datetime  # the deadline the lot closed at


@dataclass(frozen=True)
class PeriodClosed(Event):
    """Every lot of the period is closed: settlement (balance orders, refunds) can start."""

    period_id: int
    closed_at: datetime


# -- the rules ---------------------------------------------------------------------------------


def check_open(view: LotView, now: datetime) -> None:
    if view.state is not LotState.OPEN or now < view.opens_at:
        raise LotNotOpen(opens=view.opens_at.isoformat())
    if now >= view.deadline:
        raise BidAfterDeadline()


def check_share(view: LotView, share: ShareView) -> None:
    if not share.signup_active:
        raise SignupNotActive()
    if not share.live:
        raise VinLocked(vin=share.vin, lot=0)
    if view.elsewhere is not None:
        raise VinLocked(vin=share.vin, lot=view.elsewhere)
    if view.reserved_on is not None and view.reserved_on != view.lot_id:
        raise VinBehindMaximum(vin=share.vin, lot=view.reserved_on)


def bid_amount(
    view: LotView, *, amount_fen: int | None, increment_fen: int | None, at_start: bool = False
) -> int:
    """The amount a manual bid stands for, or why it is refused. ``increment_fen`` raises the
    current price (the starting price before the first bid) by one allowed increment;
    ``at_start`` bids the starting price, while the lot has no price only."""
    if at_start:
        if view.price_fen is not None:
            raise _has_price(view.price_fen, view)
        return view.starting_price_fen
    if increment_fen is not None:
        if increment_fen not in view.increments_fen:
            raise NotAnAllowedIncrement(increments=_listed(view.increments_fen))
        base = view.starting_price_fen if view.price_fen is None else view.price_fen
        return base + increment_fen
    if amount_fen is None:
        raise BidTooLow(minimum=view.minimum)
    if view.price_fen is None:
        if amount_fen < view.starting_price_fen:
            raise BidTooLow(minimum=view.starting_price_fen)
        return amount_fen
    if amount_fen < view.minimum:
        raise BidTooLow(minimum=view.minimum)
    if amount_fen - view.price_fen not in view.increments_fen:
        raise NotAnAllowedIncrement(increments=_listed(view.increments_fen))
    return amount_fen


def _has_price(price_fen: int, view: LotView) -> LotHasPrice:
    return LotHasPrice(price=price_fen, increments=_listed(view.increments_fen))


def _listed(increments: Sequence[int]) -> str:
    return ",".join(str(value) for value in increments)


def _stronger(a: Proxy, b: Proxy) -> bool:
    """``a`` beats ``b``: a higher maximum, or an equal one set earlier."""
    return (a.max_fen, -a.maximum_id) > (b.max_fen, -b.maximum_id)


def resolve_maxima(
    *, start: int, price: int | None, leader: int | None, proxies: Sequence[Proxy], step: int
) -> tuple[list[tuple[Proxy, int]], list[Proxy]]:
    """The automatic bids the maxima make from this state, in order, and the maxima that end
    (can bid no more and do not lead). See the module's docstring for the rule."""
    bids: list[tuple[Proxy, int]] = []
    ended: list[Proxy] = []
    active = list(proxies)
    while True:
        need = start if price is None else price + step
        out = [p for p in active if p.signup_id != leader and p.max_fen < need]
        if out:
            ended.extend(out)
            active = [p for p in active if p not in out]
        challengers = [p for p in active if p.signup_id != leader]
        if not challengers:
            return bids, ended
        best = challengers[0]
        for proxy in challengers[1:]:
            if _stronger(proxy, best):
                best = proxy
        holder = next((p for p in active if p.signup_id == leader), None)
        if holder is not None and _stronger(holder, best) and holder.max_fen < need + step:
            # ``best`` would take a lead the stronger holder could not answer: it stays out
            ended.extend(challengers)
            return bids, ended
        bids.append((best, need))
        price, leader = need, best.signup_id


@dataclass
class _Decision:
    """The lot as the bids decided under its lock leave it, and their consequences, gathered
    before anything is written: the bids of a batch (``decide_bids``) are decided one after
    the other on it, each at its own moment (``now``)."""

    view: LotView
    now: datetime
    records: list[BidRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    ended: list[Proxy] = field(default_factory=list)
    price: int | None = None
    leader: int | None = None
    leader_share: int | None = None
    bids: int = 0
    maxima: int = 0
    deadline: datetime = field(init=False)
    led: list[int] = field(default_factory=list)  # who led at some point of this step, in order

    def __post_init__(self) -> None:
        self.price = self.view.price_fen
        self.leader = self.view.leader_signup_id
        self.leader_share = self.view.leader_share_id
        self.bids = self.view.bids
        self.maxima = self.view.maxima
        self.deadline = self.view.deadline

    def current(self) -> LotView:
        """The lot as the decisions so far leave it."""
        return replace(
            self.view,
            price_fen=self.price,
            leader_signup_id=self.leader,
            leader_share_id=self.leader_share,
            bids=self.bids,
            maxima=self.maxima,
            deadline=self.deadline,
        )

    def step(self, now: datetime) -> None:
        """The next bid is decided at ``now``."""
        self.now = now
        self.led = [] if self.leader is None else [self.leader]

    def refuse(
        self, signup_id: int, share_id: int | None, amount: int | None, error: DomainError
    ) -> None:
        self.records.append(
            BidRecord(
                lot_id=self.view.lot_id,
                signup_id=signup_id,
                share_id=share_id,
                amount_fen=amount,
                placed_at=self.now,
                accepted=False,
                refusal=error.code,
                automatic=False,
                price_before=self.price,
                deadline_before=self.deadline,
            )
        )

    def accept(self, signup_id: int, share_id: int, amount: int, *, automatic: bool) -> None:
        deadline_before = self.deadline
        self.bids += 1
        self.deadline = self.now + timedelta(seconds=self.view.bid_countdown_s)
        self.records.append(
            BidRecord(
                lot_id=self.view.lot_id,
                signup_id=signup_id,
                share_id=share_id,
                amount_fen=amount,
                placed_at=self.now,
                accepted=True,
                refusal=None,
                automatic=automatic,
                price_before=self.price,
                deadline_before=deadline_before,
                seq=self.bids,
            )
        )
        self.price, self.leader, self.leader_share = amount, signup_id, share_id
        self.led.append(signup_id)
        self.events.append(
            BidPlaced(
                lot_id=self.view.lot_id,
                period_id=self.view.period_id,
                signup_id=signup_id,
                share_id=share_id,
                amount_fen=amount,
                automatic=automatic,
                seq=self.bids,
                placed_at=self.now,
                deadline=self.deadline,
            )
        )

    def run_maxima(self, proxies: list[Proxy]) -> None:
        """The maxima's automatic answers; those that end leave ``proxies``."""
        bids, ended = resolve_maxima(
            start=self.view.starting_price_fen,
            price=self.price,
            leader=self.leader,
            proxies=proxies,
            step=self.view.step,
        )
        for proxy, amount in bids:
            self.accept(proxy.signup_id, proxy.share_id, amount, automatic=True)
        for proxy in ended:
            proxies.remove(proxy)
            self.ended.append(proxy)
            self.maxima -= 1
            self.events.append(
                MaximumExceeded(
                    lot_id=self.view.lot_id,
                    period_id=self.view.period_id,
                    signup_id=proxy.signup_id,
                    max_fen=proxy.max_fen,
                    price_fen=self.price or 0,
                    at=self.now,
                )
            )

    def tell_outbid(self) -> None:
        """Who led during this step and no longer does is outbid (once each)."""
        told: set[int] = set()
        for signup_id in self.led:
            if signup_id != self.leader and signup_id not in told and self.leader is not None:
                told.add(signup_id)
                self.events.append(
                    Outbid(
                        lot_id=self.view.lot_id,
                        period_id=self.view.period_id,
                        signup_id=signup_id,
                        price_fen=self.price or 0,
                        leader_signup_id=self.leader,
                        at=self.now,
                    )
                )
        self.led = [] if self.leader is None else [self.leader]

    def change(self) -> LotChange:
        return LotChange(
            lot_id=self.view.lot_id,
            price_fen=self.price,
            leader_signup_id=self.leader,
            leader_share_id=self.leader_share,
            deadline=self.deadline,
            bids=self.bids,
            maxima=self.maxima,
        )

    def finish(self, uow: UnitOfWork, *, lot_changed: bool) -> LotChange:
        """Everything decided, written in as few statements as the store can (the lot's row
        only if ``lot_changed``), and the events recorded."""
        change = self.change()
        uow.auctions.write_bids(
            self.records,
            change if lot_changed else None,
            ended=[p.maximum_id for p in self.ended],
            now=self.now,
        )
        for event in self.events:
            uow.record(event)
        return change


def refused_unlocked(
    seen: LotView, *, share: ShareView, signup_id: int, amount: int | None, at_start: bool = False
) -> DomainError | None:
    """Refusals that the lot as it stood before its lock already decides, so that such a bid
    does not queue for the lot: the price only rises, so an amount below what the lot asked
    then is too low now, and a lot that had a price has one now (``at_start``); a closed lot
    stays closed. (Whether the deadline has passed, whether a bid at the starting price is
    still the first, or an amount is one increment above the price, needs the lot as it is:
    under its lock.)"""
    if share.signup_id != signup_id:
        return VinNotYours()
    if not share.signup_active:
        return SignupNotActive()
    if seen.state is not LotState.OPEN:
        return LotNotOpen(opens=seen.opens_at.isoformat())
    if amount is not None and amount < seen.minimum:
        return BidTooLow(minimum=seen.minimum)
    if at_start and seen.price_fen is not None:
        return _has_price(seen.price_fen, seen)
    return None


@dataclass(frozen=True, slots=True)
class BidRequest:
    """A manual bid as a bidder asks for it: ``amount_fen``, or the current price plus
    ``increment_fen``, or the starting price as the lot's first bid (``at_start``), with the
    VIN of ``share_id`` (none: the bidder's only free VIN)."""

    signup_id: int
    share_id: int | None = None
    amount_fen: int | None = None
    increment_fen: int | None = None
    at_start: bool = False


def decide_bids(
    uow: UnitOfWork, *, clock: Clock, lot_id: int, requests: Sequence[BidRequest]
) -> list[BidResult | DomainError]:
    """The bids waiting for one lot, decided together in this unit of work: under one lock of
    the lot, one after the other in the order given, each exactly as it would be alone (its
    moment read from the clock when it is decided), and each with its own outcome, its result
    or its refusal. Every refusal is kept in the lot's audit trail as it would be alone (but
    those refused before reaching the lot: no free VIN to name, an unknown lot). A bid that
    the lot as it stood before its lock already refuses waits for the lot only with others
    that it does not refuse (``refused_unlocked``). Commit afterwards, whatever the outcomes.

    The shares involved are locked first, in the order of their ids (two batches on the same
    shares never wait for each other crosswise), then the lot; all the bids' rows, the lot's
    change and the ended maxima are written together."""
    outcomes: list[BidResult | DomainError | None] = [None] * len(requests)
    # a bid naming no VIN takes the bidder's only free one when it is decided (the bids before
    # it in the batch may have taken or freed one): their live VINs are locked with the others
    unnamed = {
        r.signup_id: [s for s in uow.auctions.shares(r.signup_id) if s.live]
        for r in requests
        if r.share_id is None
    }
    wanted = sorted(
        {r.share_id for r in requests if r.share_id is not None}
        | {stored_id(s.id) for found in unnamed.values() for s in found}
    )
    if not wanted:
        return [NoFreeVin() for _ in requests]
    shares, seen = uow.auctions.lock_shares(wanted, lot_id)
    if (
        seen is not None
        and not unnamed
        and _refused_before_the_lot(
            uow, clock, seen, requests=requests, shares=shares, outcomes=outcomes
        )
    ):
        return [outcome for outcome in outcomes if outcome is not None]
    if len(wanted) == 1:
        view = uow.auctions.lock_lot(lot_id, wanted[0])
        places = {} if view is None else {wanted[0]: (view.elsewhere, view.reserved_on)}
    else:
        places = uow.auctions.shares_elsewhere(wanted, lot_id)  # current: the shares are locked
        view = uow.auctions.lock_lot(lot_id, None)
    if view is None:
        return [LotUnknown() for _ in requests]
    proxies = list(uow.auctions.active_maxima(lot_id)) if view.maxima else []
    decision = _Decision(view, clock.now())
    for n, request in enumerate(requests):
        decision.step(clock.now())  # after the lot's lock: the moment of this decision
        share_id = request.share_id
        if share_id is None:
            raised = request.increment_fen
            current = decision.current()
            increments = current.increments_fen
            refused: DomainError | None = None
            has_price = current.state is LotState.OPEN and current.price_fen is not None
            try:
                check_open(current, decision.now)  # closed, not open yet: no vehicle to ask for
            except DomainError as error:
                refused = error
            else:
                if request.at_start and has_price:  # as ``refused_unlocked`` decides it
                    refused = _has_price(current.price_fen or 0, current)
                elif raised is not None and not request.at_start and raised not in increments:
                    refused = NotAnAllowedIncrement(increments=_listed(increments))
            if refused is not None:  # refused as the bid it is, before any vehicle is asked for
                decision.refuse(request.signup_id, None, request.amount_fen, refused)
                outcomes[n] = refused
                continue
            named = _free_now(decision, unnamed[request.signup_id], places, proxies)
            if isinstance(named, DomainError):
                outcomes[n] = named  # not a bid yet: nothing for the trail
                continue
            share_id = named
        outcomes[n] = _decide(decision, request, share_id, shares, places, proxies)
    decision.finish(uow, lot_changed=decision.bids != view.bids)
    return [outcome for outcome in outcomes if outcome is not None]


def _free_now(
    decision: _Decision,
    live: Sequence[Share],
    places: dict[int, tuple[int | None, int | None]],
    proxies: Sequence[Proxy],
) -> int | DomainError:
    """The bidder's only free VIN (live, leading no lot, behind no maximum) as the lot stands in
    the batch; none or several: the bid is not placed (``NoFreeVin``, ``ChooseVin``)."""
    standing = {proxy.share_id for proxy in proxies}
    free = [
        share
        for share in live
        if places.get(stored_id(share.id), (None, None)) == (None, None)
        and share.id != decision.leader_share
        and share.id not in standing
    ]
    if not free:
        return NoFreeVin()
    if len(free) > 1:
        return ChooseVin(vins=",".join(share.vin for share in free))
    return stored_id(free[0].id)


def _refused_before_the_lot(
    uow: UnitOfWork,
    clock: Clock,
    seen: LotView,
    *,
    requests: Sequence[BidRequest],
    shares: dict[int, ShareView],
    outcomes: list[BidResult | DomainError | None],
) -> bool:
    """When the lot as it stood before its lock refuses every bid waiting (``refused_unlocked``),
    they are refused without queueing for the lot; whether that was so."""
    refusals: list[DomainError] = []
    for request in requests:
        share = None if request.share_id is None else shares.get(request.share_id)
        if share is None:
            return False
        refusal = refused_unlocked(
            seen,
            share=share,
            signup_id=request.signup_id,
            amount=request.amount_fen,
            at_start=request.at_start,
        )
        if refusal is None:
            return False
        refusals.append(refusal)
    decision = _Decision(seen, clock.now())
    for n, (request, refusal) in enumerate(zip(requests, refusals, strict=True)):
        decision.refuse(request.signup_id, request.share_id, request.amount_fen, refusal)
        outcomes[n] = refusal
    decision.finish(uow, lot_changed=False)
    return True


def _decide(  # noqa: PLR0917 - the batch's state, as decide_bids holds it
    decision: _Decision,
    request: BidRequest,
    share_id: int | None,
    shares: dict[int, ShareView],
    places: dict[int, tuple[int | None, int | None]],
    proxies: list[Proxy],
) -> BidResult | DomainError:
    """One bid of a batch, on the lot as the bids before it left it: what it would be alone."""
    share = None if share_id is None else shares.get(share_id)
    view = decision.current()
    signup_id = request.signup_id
    try:
        if share is None or share.signup_id != signup_id:
            raise VinNotYours()
        amount_fen = request.amount_fen
        refusal = refused_unlocked(
            view, share=share, signup_id=signup_id, amount=amount_fen, at_start=request.at_start
        )
        if refusal is not None:
            raise refusal
        check_open(view, decision.now)
        if view.leader_signup_id == signup_id:
            raise AlreadyLeading()
        elsewhere, reserved_on = places.get(share.share_id, (None, None))
        check_share(replace(view, elsewhere=elsewhere, reserved_on=reserved_on), share)
        amount = bid_amount(
            view,
            amount_fen=amount_fen,
            increment_fen=request.increment_fen,
            at_start=request.at_start,
        )
    except DomainError as error:
        decision.refuse(signup_id, None if share is None else share_id, request.amount_fen, error)
        return error
    decision.accept(signup_id, share.share_id, amount, automatic=False)
    if proxies:
        decision.run_maxima(proxies)
    decision.tell_outbid()
    return BidResult(
        lot_id=view.lot_id,
        amount_fen=amount,
        price_fen=decision.price or amount,
        leading=decision.leader == signup_id,
        deadline=decision.deadline,
        automatic_bids=decision.bids - view.bids - 1,
    )


def place_bid(
    uow: UnitOfWork,
    *,
    clock: Clock,
    signup_id: int,
    lot_id: int,
    share_id: int | None = None,
    amount_fen: int | None = None,
    increment_fen: int | None = None,
    at_start: bool = False,
) -> BidResult:
    """A manual bid of ``amount_fen``, or of the current price plus ``increment_fen``, or of the
    starting price as the first bid (``at_start``), with one of the bidder's VINs; then the
    maxima's automatic answers: the batch of one (``decide_bids``). Refused: the refusal is
    written to the lot's audit trail and its ``DomainError`` raised (commit anyway)."""
    request = BidRequest(
        signup_id=signup_id,
        share_id=share_id,
        amount_fen=amount_fen,
        increment_fen=increment_fen,
        at_start=at_start,
    )
    (outcome,) = decide_bids(uow, clock=clock, lot_id=lot_id, requests=[request])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def set_maximum(
    uow: UnitOfWork,
    *,
    clock: Clock,
    signup_id: int,
    lot_id: int,
    share_id: int,
    max_fen: int,
) -> LotChange:
    """Automatic bidding on ``lot_id`` up to ``max_fen`` with the VIN of ``share_id`` (which then
    bids on this lot only, until the maximum ends or is cancelled). It replaces the bidder's
    earlier maximum on the lot (and counts as set now), and bids at once if they are not
    leading."""
    found = uow.auctions.lock_share(share_id, lot_id)
    share = None if found is None else found[0]
    view = uow.auctions.lock_lot(lot_id, share_id)
    now = clock.now()
    if view is None:
        raise LotUnknown()
    if share is None or share.signup_id != signup_id:
        raise VinNotYours()
    check_open(view, now)
    check_share(view, share)
    leading = view.leader_signup_id == signup_id
    minimum = view.price_fen + view.step if leading and view.price_fen else view.minimum
    if max_fen < minimum:
        raise MaximumTooLow(minimum=minimum)
    proxies = [p for p in uow.auctions.active_maxima(lot_id) if p.signup_id != signup_id]
    replaced = view.maxima - len(proxies)
    if replaced:
        uow.auctions.end_maxima(lot_id, signup_id=signup_id, state="replaced", now=now)
    proxy = uow.auctions.add_maximum(
        lot_id=lot_id, signup_id=signup_id, share_id=share_id, max_fen=max_fen, now=now
    )
    proxies.append(proxy)
    decision = _Decision(replace(view, maxima=len(proxies)), now)
    decision.step(now)
    decision.run_maxima(proxies)
    decision.tell_outbid()
    return decision.finish(uow, lot_changed=True)


def cancel_maximum(uow: UnitOfWork, *, clock: Clock, signup_id: int, lot_id: int) -> None:
    """The bidder's maximum on the lot ends; its VIN may bid elsewhere (unless it leads here)."""
    view = uow.auctions.lock_lot(lot_id, None)
    if view is None:
        raise LotUnknown()
    if not uow.auctions.end_maxima(lot_id, signup_id=signup_id, state="cancelled", now=clock.now()):
        raise NoMaximum()
    uow.auctions.count_maxima(lot_id, view.maxima - 1)


# -- closing -----------------------------------------------------------------------------------


def close_due_lots(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: each open lot whose deadline has passed closes, once (claimed with a row lock
    other runners skip, re-checked under it): sold to the leader at the current price, or
    unsold. A period whose last lot closed closes too; its VINs that won nothing are free."""
    due = uow.auctions.claim_due_lots(now, limit)
    periods: set[int] = set()
    for lot in due:
        if lot.state is not LotState.OPEN or lot.deadline > now or lot.id is None:
            continue  # pragma: no cover - the claim only returns open lots past their deadline
        sold = lot.leader_signup_id is not None
        lot.state = LotState.SOLD if sold else LotState.UNSOLD
        lot.closed_at = lot.deadline
        uow.auctions.save_lot(lot)
        if lot.maxima:
            uow.auctions.end_maxima(lot.id, signup_id=None, state="ended", now=now)
            uow.auctions.count_maxima(lot.id, 0)
        uow.record(
            LotClosed(
                lot_id=lot.id,
                period_id=lot.period_id,
                sold=sold,
                price_fen=lot.price_fen if sold else None,
                winner_signup_id=lot.leader_signup_id,
                winner_share_id=lot.leader_share_id,
                closed_at=lot.deadline,
            )
        )
        periods.add(lot.period_id)
    for period_id in sorted(periods):
        _close_period(uow, period_id, now)
    return len(due)


def close_periods_without_lots(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: a period that has started with no lot to bid on (none was added, or every
    one was withdrawn) closes, so that its deposits are refunded and it is not shown as under
    way for ever."""
    found = uow.auctions.started_without_open_lots(now, limit)
    for period_id in found:
        _close_period(uow, period_id, now)
    return len(found)


def _close_period(uow: UnitOfWork, period_id: int, now: datetime) -> None:
    """Close the period if it is still published, has started and has no open lot (checked
    under its row lock: another runner may have closed it): its VINs that won nothing are
    free, and ``PeriodClosed`` refunds the deposits of shares that won nothing."""
    period = uow.auctions.period(period_id, lock=True)
    if period is None or period.state is not PeriodState.PUBLISHED:
        return
    if not period.started(now) or uow.auctions.open_lots(period_id) > 0:
        return
    period.state, period.closed_at = PeriodState.CLOSED, now
    uow.auctions.save_period(period)
    uow.auctions.release_losing_shares(period_id)
    uow.record(PeriodClosed(period_id=period_id, closed_at=now))


def wire(wiring: Wiring) -> None:
    # A lane of its own: a lot closes on time whatever else is due (expiries, lapses).
    wiring.timer(TimerStep("close auction lots", close_due_lots), lane=AUCTION_LANE)
    wiring.timer(
        TimerStep("close auction periods without lots", close_periods_without_lots),
        lane=AUCTION_LANE,
    )

"""Settlement of an auction period (SPEC §7, issue 14 item 8): what follows a lot's close and a
period's close or cancellation, in handlers of their events and of the orders' events.

- **A sold lot** (``LotClosed``): the winner's deposit share counts towards the price; a balance
  order (``auction_balance``, ``lot:<id>``) of the price less one share's deposit is due by the
  end (China time) of the period's balance deadline in working days after the close, weekends
  and the lot's office's holidays skipped. The winner gets one message (urgent): won, at what
  price, what to pay by when, and the pay link. The link is the payment provider's to make,
  which event handlers are not given: ``tell_winners``, a timer step the composition root builds
  with the provider, writes it within a round of its lane (the room tells everyone else at the
  close, ``core.auction_room``).
- **Balance paid** (``OrderPaid``, through a gateway or at the counter): the deposit share is
  counted towards the price (kept by the office, no longer refundable), the number is issued to
  the winning VIN (pool state ``issued``, as a confirmed pre-selection's is) and the winner told,
  with the balance received.
- **Balance unpaid** at its deadline (``OrderExpired``) or cancelled by the winner
  (``OrderCancelled``): the deposit share is forfeited (a part of the deposit order), the number
  goes back to staff (held back, ready for another period's lot) and the winner told.
- **Shares that won nothing** (``PeriodClosed``) and **every paid deposit of a cancelled period**
  (``PeriodCancelled``) are to be refunded: a refund row per signup and cause, kept unique by
  the database, so a handler or timer run twice refunds once. The refunds themselves go through
  the payment provider (``refund_due_deposits``, a timer step the composition root builds with
  the provider); a deposit paid at the counter is handed back there (the row says so, staff
  refund it with a receipt number, and the row is done: ``handed_back``). The bidders of a
  cancelled period are told at once, paid deposits to be refunded with it; the shares that won
  nothing when their refund is made, or are due at the counter. Either notice tells a bidder
  who paid at the counter to collect the money there.

A balance of nothing (a price at or below one share's deposit) is settled at once: the price is
counted from the deposit and the number issued (the winner's one message says so); what is left of
that share's deposit is refunded with the shares that won nothing when the period closes.

Each of these events is one message to the user, which says everything (what happened, the
amount, the plate or the period): the orders' moves made here (a refund, a forfeited share, a
cancelled deposit order) are not told again as order notices (``told``), nor is a balance
order paid or ended unpaid (``core.order_notices.TOLD_BY_HOLDER``).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.numbers import format_decimal

from core.accounts import Language
from core.auction_signup import signup_of_reference
from core.auctions import (
    LIVE_SIGNUP_STATES,
    LotWithdrawn,
    PeriodAmended,
    PeriodCancelled,
    PeriodState,
    SignupState,
    name_for,
    stored_id,
)
from core.bidding import LotClosed, PeriodClosed
from core.clock import as_utc, format_deadline, format_local
from core.errors import DomainError
from core.notices import NoticeKind, notify
from core.offices import holiday_window, validity_deadline
from core.orders import (
    COUNTER,
    Cause,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderPaid,
    OrderRefunded,
    OrderState,
    Purpose,
)
from core.payments import (
    PaymentProvider,
    apply_to_price,
    cancel_order,
    forfeit_order,
    place_order,
    refund_order,
)
from core.plates import PlateKind, plate_in
from core.pools import NumberState
from core.ports import UnitOfWork
from core.reservations import ReservationState
from core.timers import TimerStep
from core.wiring import Wiring

log = logging.getLogger(__name__)

# The composition root runs ``tell_winners`` and ``refund_due_deposits`` there (the provider's)
REFUND_LANE = "timers:auction-refunds"


class SettlementState(enum.StrEnum):
    AWAITING_BALANCE = "awaiting_balance"
    ISSUED = "issued"
    FORFEITED = "forfeited"


class RefundReason(enum.StrEnum):
    LOST = "lost"  # shares that won nothing, when the period closed
    CANCELLED = "cancelled"  # the period was cancelled before it started


class RefundState(enum.StrEnum):
    DUE = "due"
    DONE = "done"
    AT_COUNTER = "at_counter"  # paid at the counter: handed back there, with a receipt
    FAILED = "failed"  # the provider that took the money is gone: staff look at it


@dataclass(eq=False)
class Settlement:
    """What a sold lot still asks of its winner, and how it ended."""

    lot_id: int
    period_id: int
    signup_id: int
    share_id: int
    account_id: int
    vin: str
    office_id: int
    plate_kind: str
    serial: str
    plate: str  # as shown: 粤D·88888
    price_fen: int
    deposit_fen: int  # one share's deposit, counted towards the price
    balance_fen: int
    due_at: datetime
    created_at: datetime
    deposit_order_id: int | None = None
    balance_order_id: int | None = None
    state: SettlementState = SettlementState.AWAITING_BALANCE
    settled_at: datetime | None = None
    winner_told_at: datetime | None = None  # the winner's message written (``tell_winners``)
    id: int | None = None


@dataclass(eq=False)
class DepositRefund:
    signup_id: int
    account_id: int
    order_id: int
    amount_fen: int
    reason: RefundReason
    created_at: datetime
    state: RefundState = RefundState.DUE
    done_at: datetime | None = None
    reference: str | None = None
    id: int | None = None


def yuan(fen: int) -> str:
    """``¥12,000`` (``¥12,000.50``): a notice's money, the same in both languages."""
    return "¥" + format_decimal(Decimal(fen) / 100, format="#,##0.##", locale="en")


def balance_deadline(
    uow: UnitOfWork, *, office_id: int, closed_at: datetime, days: int
) -> datetime:
    """The end (midnight, China time) of the ``days``-th working day after the close, weekends
    and the office's holidays skipped."""
    first, last = holiday_window(closed_at, days)
    holidays = uow.offices.holidays(office_id, first, last)
    return validity_deadline(closed_at, days, holidays)


# -- a sold lot ---------------------------------------------------------------------------------


def settle_sold_lot(uow: UnitOfWork, event: LotClosed) -> None:
    """The winner's balance order, due by the balance deadline; the winner told."""
    if not event.sold or event.winner_signup_id is None or event.winner_share_id is None:
        return
    if uow.settlements.of_lot(event.lot_id) is not None:
        return  # settled before (the close is recorded once; this is a safeguard)
    lot = uow.auctions.lot(event.lot_id)
    period = uow.auctions.period(event.period_id)
    signup = uow.auctions.signup(event.winner_signup_id)
    if lot is None or period is None or signup is None:
        raise RuntimeError(f"lot {event.lot_id} closed without its period or winner")
    office = uow.offices.get(lot.office_id)
    share = next(
        s for s in uow.auctions.shares(stored_id(signup.id)) if s.id == event.winner_share_id
    )
    price = event.price_fen or 0
    per_share = signup.deposit_fen // signup.shares
    now = event.closed_at
    settlement = Settlement(
        lot_id=event.lot_id,
        period_id=event.period_id,
        signup_id=stored_id(signup.id),
        share_id=event.winner_share_id,
        account_id=signup.account_id,
        vin=share.vin,
        office_id=lot.office_id,
        plate_kind=lot.plate_kind.value,
        serial=lot.serial,
        plate=office.plate(lot.serial) if office is not None else lot.serial,
        price_fen=price,
        deposit_fen=min(per_share, price),
        balance_fen=max(price - per_share, 0),
        due_at=balance_deadline(
            uow, office_id=lot.office_id, closed_at=now, days=period.balance_working_days
        ),
        created_at=now,
        deposit_order_id=uow.settlements.deposit_order(stored_id(signup.id)),
    )
    if not uow.settlements.add(settlement):
        return
    if settlement.balance_fen == 0:  # the deposit share covers the price; the rest is refunded
        _issue(uow, settlement, now, paid=None)  # with the shares that won nothing, later
        return
    order = place_order(
        uow,
        account_id=signup.account_id,
        purpose=Purpose.AUCTION_BALANCE,
        reference=f"lot:{event.lot_id}",
        subject=settlement.plate,
        amount=settlement.balance_fen,
        now=now,
        deadline=settlement.due_at,
    )
    settlement.balance_order_id = order.id
    uow.settlements.save(settlement)  # the winner is told by ``tell_winners``, with the pay link


def tell_winners(provider: PaymentProvider) -> TimerStep:
    """The timer step that tells each winner whose balance is due, once: won at what price, the
    balance, its deadline and the pay link ``provider`` makes for the balance order."""

    def run(uow: UnitOfWork, now: datetime, limit: int) -> int:
        untold = uow.settlements.claim_untold(limit)
        for settlement in untold:
            _tell_winner(uow, provider, settlement, now)
        return len(untold)

    return TimerStep("tell auction winners", run)


def _tell_winner(
    uow: UnitOfWork, provider: PaymentProvider, settlement: Settlement, now: datetime
) -> None:
    settlement.winner_told_at = now
    uow.settlements.save(settlement)
    order_id = settlement.balance_order_id
    order = uow.orders.get(order_id) if order_id is not None else None
    if order is None or order.state is not OrderState.PENDING:
        return  # paid (or given up) before this step came round: that notice says it
    notify(
        uow,
        account_id=settlement.account_id,
        kind=NoticeKind.URGENT,
        key="settlement.won",
        params={
            "plate": settlement.plate,
            "price": yuan(settlement.price_fen),
            "deposit": yuan(settlement.deposit_fen),
            "amount": yuan(settlement.balance_fen),
            "deadline": format_deadline(settlement.due_at),
            "order": stored_id(order.id),
            "url": provider.pay_url(order),
        },
        dedupe_key=f"settlement:{settlement.lot_id}:due",
        now=now,
    )


def _balance_settlement(uow: UnitOfWork, event: OrderEvent) -> Settlement | None:
    if event.purpose is not Purpose.AUCTION_BALANCE:
        return None
    settlement = uow.settlements.of_balance_order(event.order_id, lock=True)
    if settlement is None or settlement.state is not SettlementState.AWAITING_BALANCE:
        return None
    return settlement


def balance_paid(uow: UnitOfWork, event: OrderPaid) -> None:
    settlement = _balance_settlement(uow, event)
    if settlement is not None:
        _issue(uow, settlement, event.at, paid=event.amount)


def _issue(uow: UnitOfWork, settlement: Settlement, now: datetime, *, paid: int | None) -> None:
    """The deposit share counts towards the price; the number is issued to the winning VIN, and
    the winner told in one message. ``paid``: the balance received, which the message says with
    the plate issued (the order's own notice is not sent); ``None``: at the close (a price the
    deposit share covers): the message says they won at that price and the plate is theirs."""
    if settlement.deposit_order_id is not None and settlement.deposit_fen > 0:
        apply_to_price(
            uow,
            order_id=settlement.deposit_order_id,
            amount=settlement.deposit_fen,
            now=now,
            reference=f"lot:{settlement.lot_id}",
        )
    kind = _kind(settlement)
    known = uow.pool.states(settlement.office_id, kind, [settlement.serial], lock=True)
    if settlement.serial not in known:  # a held-back number the pool never had: it has now
        uow.pool.add(settlement.office_id, kind, [settlement.serial])
    uow.pool.set_state(settlement.office_id, kind, settlement.serial, NumberState.ISSUED)
    settlement.state, settlement.settled_at = SettlementState.ISSUED, now
    if paid is None:  # won at the close: this is the winner's one message
        settlement.winner_told_at = now
    uow.settlements.save(settlement)
    params = {"plate": settlement.plate, "vin": settlement.vin}
    if paid is None:
        params |= {"price": yuan(settlement.price_fen)}
    else:
        params |= {"amount": yuan(paid)}
    notify(
        uow,
        account_id=settlement.account_id,
        kind=NoticeKind.URGENT,
        key="settlement.won_issued" if paid is None else "settlement.balance_issued",
        params=params,
        dedupe_key=f"settlement:{settlement.lot_id}:issued",
        now=now,
    )
    log.info("auction lot %s settled: number issued", settlement.lot_id)


def _kind(settlement: Settlement) -> PlateKind:
    return PlateKind(settlement.plate_kind)


def balance_unpaid(uow: UnitOfWork, event: OrderExpired | OrderCancelled) -> None:
    """Unpaid at the deadline (or given up): the deposit share is forfeited, the number goes
    back to staff, the winner is told."""
    settlement = _balance_settlement(uow, event)
    if settlement is None:
        return
    now = event.at
    if settlement.deposit_order_id is not None and settlement.deposit_fen > 0:
        forfeit_order(
            uow,
            order_id=settlement.deposit_order_id,
            now=now,
            cause=Cause.TIMER,
            amount=settlement.deposit_fen,
            reference=f"lot:{settlement.lot_id}",
            told=True,  # the notice below says it, with the plate
        )
    settlement.state, settlement.settled_at = SettlementState.FORFEITED, now
    uow.settlements.save(settlement)
    uow.settlements.release_share(settlement.share_id)
    notify(
        uow,
        account_id=settlement.account_id,
        kind=NoticeKind.URGENT,
        # Given up (the winner cancelled the balance order) or not paid by the deadline.
        key="settlement.given_up" if isinstance(event, OrderCancelled) else "settlement.forfeited",
        params={"plate": settlement.plate, "deposit": yuan(settlement.deposit_fen)},
        dedupe_key=f"settlement:{settlement.lot_id}:forfeited",
        now=now,
    )
    log.info("auction lot %s: balance unpaid, deposit share forfeited", settlement.lot_id)


# -- refunds ------------------------------------------------------------------------------------


def refund_losing_shares(uow: UnitOfWork, event: PeriodClosed) -> None:
    """Every active signup's shares that won nothing, and what a won share's deposit left over
    (a price below one share's deposit): to be refunded, one row per signup, written at once."""
    held: dict[int, int] = {}  # signup: the deposit its won shares keep for their prices
    for settlement in uow.settlements.of_period(event.period_id):
        held[settlement.signup_id] = held.get(settlement.signup_id, 0) + settlement.deposit_fen
    active = uow.auctions.signups(event.period_id, states=(SignupState.ACTIVE,))
    paid = uow.settlements.paid_deposit_orders([stored_id(signup.id) for signup in active])
    refunds = [
        DepositRefund(
            signup_id=stored_id(signup.id),
            account_id=signup.account_id,
            order_id=paid[stored_id(signup.id)],
            amount_fen=signup.deposit_fen - held.get(stored_id(signup.id), 0),
            reason=RefundReason.LOST,
            created_at=event.closed_at,
        )
        for signup in active
        # an active signup without a paid order (activated by staff) holds nothing
        if stored_id(signup.id) in paid
    ]
    uow.settlements.add_refunds([refund for refund in refunds if refund.amount_fen > 0])


def period_cancelled(uow: UnitOfWork, event: PeriodCancelled) -> None:
    """Paid deposits are to be refunded whole, pending deposit orders cancelled; every bidder
    (paid or not) is told, and one who paid at the counter where to collect it."""
    period = uow.auctions.period(event.period_id)
    signups = [
        signup
        for signup_id in event.paid_signup_ids + event.unpaid_signup_ids
        if (signup := uow.auctions.signup(signup_id)) is not None
    ]
    accounts = uow.accounts.views([signup.account_id for signup in signups])  # one query
    for signup in signups:
        signup_id = stored_id(signup.id)
        order_id = uow.settlements.deposit_order(signup_id)
        key = "settlement.period_cancelled_unpaid"
        if order_id is not None:
            refund = DepositRefund(
                signup_id=signup_id,
                account_id=signup.account_id,
                order_id=order_id,
                amount_fen=signup.deposit_fen,
                reason=RefundReason.CANCELLED,
                created_at=event.cancelled_at,
            )
            uow.settlements.add_refunds([refund])
            order = uow.orders.get(order_id)
            at_counter = order is not None and order.paid_via == COUNTER
            key = (
                "settlement.period_cancelled_counter"
                if at_counter
                else "settlement.period_cancelled"
            )
        for pending in uow.settlements.pending_deposit_orders(signup_id):
            # the notice below says it, with the period (``TOLD_BY_HOLDER``): one message
            cancel_order(uow, order_id=pending, now=event.cancelled_at, cause=Cause.STAFF)
        account = accounts.get(signup.account_id)
        language = account.language if account is not None else Language.ZH
        notify(
            uow,
            account_id=signup.account_id,
            kind=NoticeKind.URGENT,
            key=key,
            params={
                "period": period.name_in(language) if period else str(event.period_id),
                "deposit": yuan(signup.deposit_fen),
            },
            dedupe_key=f"period:{event.period_id}:cancelled:{signup_id}",
            now=event.cancelled_at,
        )


def period_rescheduled(uow: UnitOfWork, event: PeriodAmended) -> None:
    """The close of signup or the start moved: everyone who plans around them is told once, in
    their language, by the period's name as they knew it: the period's bidders (paid or not)
    and the reservers whose plate is a lot of it. What is told of signup is what they can do
    now: when it opens (not yet open), until when (open), or nothing (closed)."""
    period = uow.auctions.period(event.period_id)
    if not event.rescheduled or period is None:
        return
    bidders = [
        s.account_id for s in uow.auctions.signups(event.period_id, states=LIVE_SIGNUP_STATES)
    ]
    placed = uow.reservations.in_state(ReservationState.PLACED, period_id=event.period_id)
    everyone = list(dict.fromkeys([*bidders, *(r.account_id for r in placed)]))
    accounts = uow.accounts.views(everyone)  # one query
    signup_closes = min(as_utc(period.signup_closes), as_utc(period.starts_at))
    key = "settlement.rescheduled"
    if as_utc(event.amended_at) < as_utc(period.signup_opens):
        key = "settlement.rescheduled_before_signup"
    elif signup_closes <= as_utc(event.amended_at):
        key = "settlement.rescheduled_signup_closed"
    elif signup_closes == as_utc(period.starts_at):
        key = "settlement.rescheduled_at_start"  # one time to tell, as it mostly is
    for account_id in everyone:
        account = accounts.get(account_id)
        english = account is not None and account.language is Language.EN
        notify(
            uow,
            account_id=account_id,
            kind=NoticeKind.URGENT,
            key=key,
            params={
                "period": event.name_en_before if english else event.name_before,
                "starts": format_local(period.starts_at),
                "signup_opens": format_local(period.signup_opens),
                "signup_closes": format_local(signup_closes),
            },
            dedupe_key=f"period:{event.period_id}:rescheduled:{event.amended_at.isoformat()}"
            f":{account_id}",
            now=event.amended_at,
        )


def lot_withdrawn(uow: UnitOfWork, event: LotWithdrawn) -> None:
    """Every bidder of the period (paid or not) is told a lot was withdrawn; when it was the
    last one, also that the period ends at its start and paid deposits come back then
    (``close_periods_without_lots``). Withdrawn with the whole period, the cancellation's own
    notice says it (the period is no longer published)."""
    period = uow.auctions.period(event.period_id)
    lot = uow.auctions.lot(event.lot_id)
    if period is None or period.state is not PeriodState.PUBLISHED or lot is None:
        return
    office = uow.offices.get(lot.office_id)
    if office is None:
        return
    last = uow.auctions.open_lots(event.period_id) == 0
    signups = list(uow.auctions.signups(event.period_id, states=LIVE_SIGNUP_STATES))
    accounts = uow.accounts.views([signup.account_id for signup in signups])  # one query
    for signup in signups:
        account = accounts.get(signup.account_id)
        if account is None:
            continue
        plate = plate_in(office.province, office.letter, lot.serial, account.language)
        notify(
            uow,
            account_id=signup.account_id,
            kind=NoticeKind.URGENT,
            key="settlement.lot_withdrawn_last" if last else "settlement.lot_withdrawn",
            params={"period": period.name_in(account.language), "plate": plate},
            dedupe_key=f"lot:{event.lot_id}:withdrawn:{stored_id(signup.id)}",
            now=event.withdrawn_at,
        )


def refund_due_deposits(provider: PaymentProvider) -> TimerStep:
    """The timer step that makes the refunds due, through ``provider``."""

    def run(uow: UnitOfWork, now: datetime, limit: int) -> int:
        due = uow.settlements.claim_due_refunds(limit)
        for refund in due:
            _refund(uow, provider, refund, now)
        return len(due)

    return TimerStep("refund auction deposits", run)


def _refund(
    uow: UnitOfWork, provider: PaymentProvider, refund: DepositRefund, now: datetime
) -> None:
    order = uow.orders.get(refund.order_id, lock=True)
    if order is not None and order.paid_via == COUNTER and order.refunded >= refund.amount_fen:
        refund.state, refund.done_at = RefundState.DONE, now  # staff handed it back already
        uow.settlements.save_refund(refund, now)
        return
    if order is None or order.state is not OrderState.PAID:
        refund.state = RefundState.FAILED
        uow.settlements.save_refund(refund, now)
        log.warning("auction deposit refund %s: order not paid, staff to look", refund.id)
        return
    amount = min(refund.amount_fen, order.refundable)
    if order.paid_via == COUNTER:
        refund.state = RefundState.AT_COUNTER
        uow.settlements.save_refund(refund, now)
        if refund.reason is RefundReason.LOST:  # a cancellation's notice said where already
            _tell_refund(uow, refund, "settlement.refund.lost_counter", amount, now)
        return
    try:
        refund_order(
            uow,
            provider,
            order_id=refund.order_id,
            now=now,
            cause=Cause.TIMER,
            amount=amount,
            told=True,  # this module's notice says it, with the period: one message
        )
    except DomainError as error:
        refund.state = RefundState.FAILED
        uow.settlements.save_refund(refund, now)
        log.warning("auction deposit refund %s failed: %s", refund.id, error.code)
        return
    refund.state, refund.done_at = RefundState.DONE, now
    uow.settlements.save_refund(refund, now)
    if refund.reason is RefundReason.CANCELLED:
        return  # the cancellation's notice told the bidder it is refunded: one message
    _tell_refund(uow, refund, f"settlement.refund.{refund.reason.value}", amount, now)


def _tell_refund(
    uow: UnitOfWork, refund: DepositRefund, key: str, amount: int, now: datetime
) -> None:
    notify(
        uow,
        account_id=refund.account_id,
        kind=NoticeKind.PERSONAL,
        key=key,
        params={
            "amount": yuan(amount),
            "period": _period_of_signup(uow, refund.signup_id, refund.account_id),
        },
        dedupe_key=f"auction-refund:{refund.id}",
        now=now,
    )


def handed_back(uow: UnitOfWork, event: OrderRefunded) -> None:
    """Staff handed a counter-paid deposit back at the counter (a refund with a receipt): its
    refund row, waiting ``at_counter``, is done once what the order refunded in all covers it."""
    if event.purpose is not Purpose.AUCTION_DEPOSIT or event.cause is not Cause.STAFF:
        return
    signup_id = signup_of_reference(event.reference)
    if signup_id is None:
        return
    for refund in uow.settlements.refunds_of(signup_id):
        waiting = refund.state is RefundState.AT_COUNTER and refund.order_id == event.order_id
        if waiting and event.refunded_total >= refund.amount_fen:
            refund.state, refund.done_at = RefundState.DONE, event.at
            uow.settlements.save_refund(refund, event.at)


def _period_of_signup(uow: UnitOfWork, signup_id: int, account_id: int) -> str:
    """The name of the signup's period as the account's language shows it."""
    signup = uow.auctions.signup(signup_id)
    period = uow.auctions.period(signup.period_id) if signup is not None else None
    return name_for(uow, period, account_id) if period is not None else ""


def wire(wiring: Wiring) -> None:
    bus = wiring.bus
    bus.subscribe(LotClosed, settle_sold_lot)
    bus.subscribe(PeriodClosed, refund_losing_shares)
    bus.subscribe(PeriodCancelled, period_cancelled)
    bus.subscribe(PeriodAmended, period_rescheduled)
    bus.subscribe(LotWithdrawn, lot_withdrawn)
    bus.subscribe(OrderPaid, balance_paid)
    bus.subscribe(OrderExpired, balance_unpaid)
    bus.subscribe(OrderCancelled, balance_unpaid)
    bus.subscribe(OrderRefunded, handed_back)

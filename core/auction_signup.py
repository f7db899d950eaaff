"""Signing up for an auction with its deposit (SPEC §7, issue 14 item 2): the signup and its
deposit order are made in one step; the order's events move the signup on.

- ``sign_up_with_deposit``: the signup (``core.auctions.sign_up``) and a pending order of
  n × the deposit (``Purpose.AUCTION_DEPOSIT``, reference ``signup:<id>``) in one transaction;
- the order paid (through a gateway or at the counter): the signup is active (``deposit_paid``),
  and the bidder is told the deposit received, their bidder number and verification code by SMS
  (and in their Telegram chat, when they have one); a new code staff issue
  (``reissue_room_code``) is told the same way;
- the order expired or cancelled: the signup is cancelled, its VINs are free again, and the
  bidder is told why, with the deposit's amount.

Each is one message (every SMS costs the office money): the order's own notice (paid, expired,
cancelled) is not sent as well (``core.order_notices.TOLD_BY_HOLDER``). The bidder number's
notice stays a code: by SMS at the codes' priority, its params wiped once sent, its copy in a
Telegram chat never sent by SMS as well.

The verification code is never written down here either: the notices carry the signup's nonce,
and the code is derived from it under the server's key when the message is sent
(``core.otp.reveal``), as one-time codes are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import otp
from core.accounts import Language
from core.auctions import (
    AuctionPeriod,
    PeriodAmended,
    RoomCodeReissued,
    Signup,
    SignupActivated,
    SignupState,
    cancel_signup,
    deposit_paid,
    name_for,
    sign_up,
    stored_id,
)
from core.clock import Clock, as_utc
from core.money import format_yuan
from core.notices import NoticeKind, notify
from core.orders import (
    Cause,
    Order,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderPaid,
    OrderState,
    Purpose,
)
from core.outbox import Channel
from core.payments import extend_order, place_order
from core.ports import UnitOfWork
from core.wiring import Wiring

REFERENCE = "signup:"


def reference_of(signup_id: int) -> str:
    return f"{REFERENCE}{signup_id}"


def signup_of_reference(reference: str) -> int | None:
    head, _, number = reference.partition(":")
    if f"{head}:" != REFERENCE or not number.isdigit():
        return None
    return int(number)


def sign_up_with_deposit(
    uow: UnitOfWork,
    *,
    clock: Clock,
    account_id: int,
    period_id: int,
    vins: Sequence[str],
    minutes: int,
    deposit_fen: int | None = None,
) -> tuple[Signup, Order]:
    """The signup (every rule of ``sign_up``) and its deposit order, due in ``minutes`` but never
    after the signup window closes (bidding starts): a deposit paid later would buy nothing."""
    signup = sign_up(
        uow,
        clock=clock,
        account_id=account_id,
        period_id=period_id,
        vins=vins,
        deposit_fen=deposit_fen,
    )
    period = uow.auctions.period(period_id)
    account = uow.accounts.view(account_id)
    language = account.language if account is not None else Language.ZH
    name = period.name_in(language) if period is not None else str(period_id)
    times = "x" if language is Language.EN else "×"  # "×" is not GSM-7: English SMS stay cheap
    now = clock.now()
    deadline = now + timedelta(minutes=minutes)
    if period is not None:
        deadline = min(deadline, period.signup_closes, period.starts_at)
    order = place_order(
        uow,
        account_id=account_id,
        purpose=Purpose.AUCTION_DEPOSIT,
        reference=reference_of(stored_id(signup.id)),
        subject=f"{name} {times}{signup.shares}",
        amount=signup.deposit_fen,
        now=now,
        minutes=minutes,
        deadline=deadline,
    )
    return signup, order


@dataclass(frozen=True)
class _At:
    """The clock of a handler: the moment of the event it handles."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def _signup_id(event: OrderEvent) -> int | None:
    if event.purpose is not Purpose.AUCTION_DEPOSIT:
        return None
    return signup_of_reference(event.reference)


def on_deposit_paid(uow: UnitOfWork, event: OrderPaid) -> None:
    signup_id = _signup_id(event)
    if signup_id is not None:
        deposit_paid(uow, clock=_At(event.at), signup_id=signup_id)


def on_deposit_unpaid(uow: UnitOfWork, event: OrderExpired | OrderCancelled) -> None:
    """The signup is cancelled, and the bidder told why in one message (the order's own notice
    is not sent): the deposit not paid in time, or its order cancelled by the office. A bidder
    who cancelled it themselves (on the pay page or in My orders) is not told what they just
    did. A period cancelled with its signups cancels their orders after them: that notice says
    it (``core.settlement``)."""
    signup_id = _signup_id(event)
    if signup_id is None:
        return
    signup = uow.auctions.signup(signup_id)
    if signup is None or signup.state is not SignupState.AWAITING_DEPOSIT:
        return
    cancel_signup(uow, clock=_At(event.at), signup_id=signup_id)
    if isinstance(event, OrderCancelled) and event.cause is Cause.USER:
        return  # they cancelled it themselves, and were told first what it gives up
    cancelled = isinstance(event, OrderCancelled)
    period = uow.auctions.period(signup.period_id)
    notify(
        uow,
        kind=NoticeKind.PERSONAL,
        account_id=signup.account_id,
        key="auction.notice.deposit_cancelled" if cancelled else "auction.notice.deposit_expired",
        params={
            "period": name_for(uow, period, signup.account_id) if period is not None else "",
            "amount": format_yuan(signup.deposit_fen),
        },
        dedupe_key=f"auction:signup-cancelled:{signup_id}",
        now=event.at,
    )


def signup_extended(uow: UnitOfWork, event: PeriodAmended) -> None:
    """Staff moved the close of signup (or the start) later: a deposit order the old close cut
    short runs on, to its own time (the deposit minutes from when it was placed) within the new
    close; one placed long before, or paid or ended meanwhile, stays as it is. So a bidder told
    that signup now closes later is not cancelled at the old close."""
    old_close = event.signup_closed_before
    period = uow.auctions.period(event.period_id)
    if not event.rescheduled or old_close is None or period is None:
        return
    new_close = min(as_utc(period.signup_closes), as_utc(period.starts_at))
    if new_close <= as_utc(old_close):
        return
    for signup in uow.auctions.signups(event.period_id, states=(SignupState.AWAITING_DEPOSIT,)):
        for order_id in uow.settlements.pending_deposit_orders(stored_id(signup.id)):
            order = uow.orders.get(order_id, lock=True)  # a payment may have come meanwhile
            if order is None or order.state is not OrderState.PENDING:
                continue
            if as_utc(order.deadline) < as_utc(old_close) or order.past_deadline(event.amended_at):
                continue  # not cut short by the close, or over already (the timer ends it)
            own = as_utc(order.created_at) + timedelta(minutes=event.deposit_minutes)
            deadline = min(new_close, own)
            if deadline > as_utc(order.deadline):
                extend_order(
                    uow,
                    order_id=order_id,
                    deadline=deadline,
                    now=event.amended_at,
                    reference=f"period:{event.period_id}",
                )


def tell_bidder_number(uow: UnitOfWork, event: SignupActivated) -> None:
    """By SMS (the code proves the number, as one-time codes do), and in the Telegram chat too
    when the account has one the bot can reach; the deposit that activated the signup is told
    in it, so that the payment is one message."""
    _tell_code(
        uow,
        signup_id=event.signup_id,
        key="auction.notice.deposit_paid",
        dedupe_key=f"auction:activated:{event.signup_id}",
        now=event.activated_at,
        paid=True,
    )


def tell_new_room_code(uow: UnitOfWork, event: RoomCodeReissued) -> None:
    """Staff issued a new code (``reissue_room_code``): it goes the way the first one went."""
    _tell_code(
        uow,
        signup_id=event.signup_id,
        key="auction.notice.code_reissued",
        dedupe_key=f"auction:code:{event.signup_id}:{event.reissued_at.isoformat()}",
        now=event.reissued_at,
    )


def _tell_code(
    uow: UnitOfWork,
    *,
    signup_id: int,
    key: str,
    dedupe_key: str,
    now: datetime,
    paid: bool = False,
) -> None:
    """The signup's bidder number and current code, to its account: by SMS, and by Telegram
    when the account has a chat the bot can reach. ``paid``: with the deposit received (the
    signup's deposit is its deposit order's amount)."""
    signup = uow.auctions.signup(signup_id)
    if signup is None or signup.code_nonce is None or signup.bidder_number is None:
        return
    period = uow.auctions.period(signup.period_id)
    if period is None:
        return
    params: dict[str, str | int] = {
        otp.NONCE_PARAM: signup.code_nonce,
        "bidder": signup.bidder_number,
        "period": name_for(uow, period, signup.account_id),
    }
    if paid:
        params["amount"] = format_yuan(signup.deposit_fen)
    routes = [(NoticeKind.CODE, "sms")]
    points = uow.contacts.of_account(signup.account_id)
    if any(p.channel is Channel.TELEGRAM and p.reachable for p in points):
        routes.append((NoticeKind.URGENT, "chat"))
    for kind, where in routes:
        notify(
            uow,
            kind=kind,
            account_id=signup.account_id,
            key=key,
            params=dict(params),
            dedupe_key=f"{dedupe_key}:{where}",
            now=now,
        )


# -- what the user's screens read ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MySignup:
    signup: Signup
    period: AuctionPeriod
    vins: tuple[str, ...]
    order: Order | None  # the deposit order


def my_signups(uow: UnitOfWork, account_id: int) -> list[MySignup]:
    """The account's live signups (awaiting the deposit or active), the latest period first."""
    found: list[MySignup] = []
    deposits = {
        order.reference: order
        for order in uow.orders.listed(account_id=account_id)
        if order.purpose is Purpose.AUCTION_DEPOSIT
    }
    for period in reversed(list(uow.auctions.periods())):
        signup = uow.auctions.signup_of(account_id, stored_id(period.id))
        if signup is None:
            continue
        vins = tuple(share.vin for share in uow.auctions.shares(stored_id(signup.id)))
        order = deposits.get(reference_of(stored_id(signup.id)))
        found.append(MySignup(signup, period, vins, order))
    return found


def running_signups(uow: UnitOfWork, account_id: int, now: datetime) -> list[Signup]:
    """The account's active signups of periods under way (started, not closed): what a room
    command typed from anywhere acts for. Read on every such command: one statement."""
    return list(uow.room.running_signups(account_id, now))


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(OrderPaid, on_deposit_paid)
    wiring.bus.subscribe(OrderExpired, on_deposit_unpaid)
    wiring.bus.subscribe(OrderCancelled, on_deposit_unpaid)
    wiring.bus.subscribe(SignupActivated, tell_bidder_number)
    wiring.bus.subscribe(RoomCodeReissued, tell_new_room_code)
    wiring.bus.subscribe(PeriodAmended, signup_extended)

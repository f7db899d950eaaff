"""Staff work on auctions (SPEC §7, §10): publish a period, add and withdraw lots, cancel a
period before it starts (paid deposits refunded through the payment provider, every bidder
told), list periods and lots with their state, issue a bidder a new room code. Shared by the
CLI, the HTTP API and the web console; each method is one transaction around a core use case,
returning plain data, refused by the actor's role (a supervisor's work, a new code a clerk's too;
a lot only of their office) and, when it changes something, recorded in the audit in the same
transaction (``platebot.staff_acting``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from core import auctions, pools
from core.auction_errors import LotUnknown, PeriodUnknown, SignupUnknown
from core.auction_room import clock_time
from core.auctions import AuctionPeriod, Lot, LotState, PeriodState
from core.clock import Clock, as_utc, format_deadline, format_local
from core.masking import mask_bidder, mask_phone
from core.orders import DEFAULT_MINUTES
from core.payments import PaymentProvider
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.settlement import DepositRefund, Settlement, refund_due_deposits
from core.staff import Actor, Audit, Permission
from core.timers import Timers
from dialogs.money import format_yuan
from platebot.staff_acting import Acting

# A changed setting as the audit writes it: the period view's field that shows it.
_SHOWN = {"deposit_fen": "deposit"}


def phase(period: AuctionPeriod, now: datetime) -> str:
    """Where a published period is by the clock: ``upcoming`` (signup not open yet),
    ``signup``, ``signup_closed`` (before the start), ``bidding``; else its state (``closed``,
    ``cancelled``)."""
    if period.state is not PeriodState.PUBLISHED:
        return period.state.value
    if period.started(now):
        return "bidding"
    if period.signup_open(now):
        return "signup"
    return "upcoming" if now < as_utc(period.signup_opens) else "signup_closed"


def period_view(period: AuctionPeriod, now: datetime, lots: int) -> dict[str, Any]:
    return {
        "id": period.id,
        "name": period.name,
        "name_en": period.name_en,
        "state": phase(period, now),
        "signup_opens": format_local(period.signup_opens),
        "signup_closes": format_local(period.signup_closes),
        "starts_at": format_local(period.starts_at),
        "deposit_fen": period.deposit_fen,
        "deposit": format_yuan(period.deposit_fen),
        "increments_fen": list(period.increments_fen),
        "opening_countdown_s": period.opening_countdown_s,
        "bid_countdown_s": period.bid_countdown_s,
        "balance_working_days": period.balance_working_days,
        "lots": lots,
    }


def lot_view(
    lot: Lot, plate: str, settlement: Settlement | None, number: str | None = None
) -> dict[str, Any]:
    """``number``: where the lot's number is now (``core.pools.where_are``)."""
    return {
        "id": lot.id,
        "period_id": lot.period_id,
        "position": lot.position,
        "plate": plate,
        "plate_kind": lot.plate_kind.value,
        "starting_price_fen": lot.starting_price_fen,
        "starting_price": format_yuan(lot.starting_price_fen),
        "state": lot.state.value,
        "price_fen": lot.price_fen if lot.state is LotState.SOLD else None,
        "deadline": format_local(lot.deadline) if lot.state is LotState.OPEN else None,
        "settlement": settlement.state.value if settlement is not None else None,
        "balance_due": format_deadline(settlement.due_at) if settlement is not None else None,
        "number": number,
    }


def refund_view(refund: DepositRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "signup_id": refund.signup_id,
        "order_id": refund.order_id,
        "amount_fen": refund.amount_fen,
        "amount": format_yuan(refund.amount_fen),
        "reason": refund.reason.value,
        "state": refund.state.value,
        "done_at": format_local(refund.done_at) if refund.done_at else None,
    }


class StaffAuctions(Acting):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        provider: PaymentProvider,
        actor: Actor | None = None,
        deposit_minutes: int = DEFAULT_MINUTES,
    ) -> None:
        """``deposit_minutes``: how long a deposit order runs (``PLATEBOT_ORDER_MINUTES``):
        one that a close of signup cut short runs on to it when staff move the close later."""
        super().__init__(uow_factory, clock, actor)
        self.provider = provider
        self.deposit_minutes = deposit_minutes

    def _period(self, uow: UnitOfWork, period: AuctionPeriod) -> dict[str, Any]:
        count = len(uow.auctions.lots(auctions.stored_id(period.id)))
        return period_view(period, self.clock.now(), count)

    def _lot(self, uow: UnitOfWork, lot: Lot) -> dict[str, Any]:
        return self._lots(uow, [lot])[0]

    def _lots(self, uow: UnitOfWork, lots: Sequence[Lot]) -> list[dict[str, Any]]:
        """The lots as staff see them, with where each one's number is now (read together for
        the lots of one office and kind)."""
        numbers: dict[tuple[int, PlateKind, str], str] = {}
        groups: dict[tuple[int, PlateKind], list[str]] = {}
        for lot in lots:
            groups.setdefault((lot.office_id, lot.plate_kind), []).append(lot.serial)
        for (office_id, kind), serials in groups.items():
            office = uow.offices.get(office_id)
            if office is not None:
                found = pools.where_are(uow, office, kind, serials)
                numbers.update({(office_id, kind, s): where for s, where in found.items()})
        views = []
        for lot in lots:
            office = uow.offices.get(lot.office_id)
            plate = office.plate(lot.serial) if office is not None else lot.serial
            settlement = uow.settlements.of_lot(auctions.stored_id(lot.id))
            number = numbers.get((lot.office_id, lot.plate_kind, lot.serial))
            views.append(lot_view(lot, plate, settlement, number))
        return views

    def publish_period(
        self,
        *,
        name: str,
        signup_opens: datetime,
        signup_closes: datetime,
        starts_at: datetime,
        **settings: Any,
    ) -> dict[str, Any]:
        """``settings``: any of ``name_en`` (what English users read), ``deposit_fen``,
        ``increments_fen``, ``opening_countdown_s``, ``bid_countdown_s``,
        ``balance_working_days`` (unset: SPEC's defaults; no ``name_en``: a name made from the
        start, see ``AuctionPeriod.name_in``)."""
        self.require(Permission.OFFICE)
        given = {key: value for key, value in settings.items() if value is not None}

        def run(uow: UnitOfWork) -> dict[str, Any]:
            period = auctions.publish_period(
                uow,
                clock=self.clock,
                name=name,
                signup_opens=signup_opens,
                signup_closes=signup_closes,
                starts_at=starts_at,
                **given,
            )
            return self._period(uow, period)

        return self._do(
            run, lambda v: Audit("auction.publish", f"period #{v['id']}", None, v["name"])
        )

    def amend_period(self, period_id: int, **changes: Any) -> dict[str, Any]:
        """``changes``: any of ``name``, ``signup_opens``, ``signup_closes``, ``starts_at`` and
        the ``settings`` of ``publish_period``; None leaves one as it is, ``name_en=""`` removes
        the English name. What may change when: ``core.auctions.amend_period``. The period as
        it now is, with ``changed``: the names of the settings that changed."""
        self.require(Permission.OFFICE)
        wanted = auctions.PeriodChanges(**changes)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            period, changed = auctions.amend_period(
                uow,
                clock=self.clock,
                period_id=period_id,
                changes=wanted,
                deposit_minutes=self.deposit_minutes,
            )
            return {**self._period(uow, period), "changed": list(changed)}

        return self._do(
            run,
            lambda v: Audit(
                "auction.amend",
                f"period #{period_id}",
                None,
                ", ".join(f"{_SHOWN.get(n, n)}={v[_SHOWN.get(n, n)]}" for n in v["changed"]),
            ),
        )

    def periods(self) -> list[dict[str, Any]]:
        with self.uow_factory() as uow:
            return [self._period(uow, period) for period in uow.auctions.periods()]

    def period(self, period_id: int) -> dict[str, Any]:
        with self.uow_factory() as uow:
            period = uow.auctions.period(period_id)
            if period is None:
                raise PeriodUnknown()
            return self._period(uow, period)

    def cancel_period(self, period_id: int) -> dict[str, Any]:
        """Before the start: lots withdrawn, signups cancelled, bidders told; then the paid
        deposits are refunded at once (what the refund lane would do a moment later)."""
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            period = auctions.cancel_period(uow, clock=self.clock, period_id=period_id)
            return self._period(uow, period)

        cancelled = self._do(run, lambda v: Audit("auction.cancel", f"period #{period_id}"))
        Timers(self.uow_factory, self.clock, [refund_due_deposits(self.provider)]).run_once()
        return cancelled

    def add_lot(
        self, period_id: int, *, office: str, kind: PlateKind, serial: str, starting_price_fen: int
    ) -> dict[str, Any]:
        self.require(Permission.OFFICE, office)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            lot = auctions.add_lot(
                uow,
                clock=self.clock,
                period_id=period_id,
                office_code=office,
                kind=kind,
                serial=serial,
                starting_price_fen=starting_price_fen,
            )
            return self._lot(uow, lot)

        return self._do(
            run,
            lambda v: Audit(
                "auction.add_lot",
                v["plate"],
                office,
                f"period #{period_id}, from {v['starting_price_fen']} fen",
            ),
        )

    def withdraw_lot(self, lot_id: int) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            found = uow.auctions.lot(lot_id)
            office = uow.offices.get(found.office_id) if found is not None else None
            if office is not None:
                self.require(Permission.OFFICE, office.code)
            return self._lot(uow, auctions.withdraw_lot(uow, clock=self.clock, lot_id=lot_id))

        return self._do(
            run, lambda v: Audit("auction.withdraw_lot", v["plate"], detail=f"lot #{lot_id}")
        )

    def reissue_code(self, period_id: int, bidder_number: str) -> dict[str, Any]:
        """A new verification code for a bidder of the period (counter work: the bidder used up
        their wrong codes, or lost the code): the old one stops working, and the new one goes to
        the bidder by SMS (and their Telegram chat) as the first did; staff never see it."""
        self.require(Permission.COUNTER)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            period = uow.auctions.period(period_id)
            if period is None:
                raise PeriodUnknown()
            found = uow.auctions.signup_by_bidder(period_id, bidder_number.strip())
            if found is None:
                raise SignupUnknown()
            signup = auctions.reissue_room_code(
                uow, clock=self.clock, signup_id=auctions.stored_id(found.id)
            )
            account = uow.accounts.view(signup.account_id)
            return {
                "signup_id": signup.id,
                "period_id": period_id,
                "period": period.name,
                "bidder_number": signup.bidder_number,
                "sent_to": mask_phone(account.phone) if account is not None else None,
                "reissued_at": format_local(self.clock.now()),
            }

        return self._do(
            run,
            lambda v: Audit(
                "auction.reissue_code",
                f"signup #{v['signup_id']}",
                None,
                f"period #{period_id}, bidder {mask_bidder(v['bidder_number'] or '')}",
            ),
        )

    def refunds(self, period_id: int) -> list[dict[str, Any]]:
        """The period's deposit refunds: made (``done``), to hand back at the counter
        (``at_counter``: refund the order with a receipt), ``due``, or ``failed`` (look at the
        order)."""
        with self.uow_factory() as uow:
            if uow.auctions.period(period_id) is None:
                raise PeriodUnknown()
            return [refund_view(r) for r in uow.settlements.refunds_of_period(period_id)]

    def lots(self, period_id: int) -> list[dict[str, Any]]:
        with self.uow_factory() as uow:
            if uow.auctions.period(period_id) is None:
                raise PeriodUnknown()
            found: Sequence[Lot] = uow.auctions.lots(period_id)
            return self._lots(uow, found)

    def live_lot(self, lot_id: int, recent: int = 5) -> dict[str, Any]:
        """A lot as the room sees it now, for the console's live view: its price (the starting
        one before a bid), the leading bidder number masked, the deadline and the seconds left,
        the bids so far and the latest ``recent`` of them (time, masked bidder, amount)."""
        with self.uow_factory() as uow:
            lot = uow.auctions.lot(lot_id)
            if lot is None:
                raise LotUnknown()
            now = self.clock.now()
            bids = uow.room.recent_bids(auctions.stored_id(lot.id), recent)
            leader = bids[0].bidder_number if bids and lot.leader_signup_id is not None else None
            is_open = lot.state is LotState.OPEN
            started = is_open and lot.opens_at <= now
            left = int((as_utc(lot.deadline) - as_utc(now)).total_seconds()) if started else None
            return {
                **self._lot(uow, lot),
                "price": format_yuan(lot.price_fen or lot.starting_price_fen),
                "leader": mask_bidder(leader) if leader else "—",
                "deadline": clock_time(lot.deadline) if is_open else "—",
                "seconds_left": max(left, 0) if left is not None else "—",
                "bids": lot.bids,
                "recent": "\n".join(
                    f"{clock_time(b.placed_at)}  {mask_bidder(b.bidder_number)}  "
                    f"{format_yuan(b.amount_fen)}"
                    for b in bids
                )
                or "—",
                "at": clock_time(now),
            }

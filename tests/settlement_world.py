"""An auction world whose units of work run every core handler (settlement's too), with deposits
paid as the user journey pays them: a deposit order (``auction_deposit``, ``signup:<id>``)
placed, paid through the sandbox gateway's callback, and the signup activated."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing.synchronize import Barrier

import sqlalchemy as sa

from core import auctions
from core.accounts import Language
from core.bidding import AUCTION_LANE, LotClosed
from core.clock import ManualClock
from core.events import Event
from core.info import Guide
from core.orders import Order, Purpose
from core.payments import PaymentNotice, pay_at_counter, place_order, receive_payment
from core.ports import UnitOfWork
from core.settlement import DepositRefund, Settlement, refund_due_deposits, tell_winners
from core.timers import Timers
from core.wiring import wire_core
from dialogs.catalog import render_text
from dialogs.replies import Text
from store.db import create_engine
from store.tables import outbox
from store.uow import UnitOfWorkFactory
from tests.auction_world import AuctionWorld, Bidder
from web.sandbox import SandboxGateway

GATEWAY = SandboxGateway(b"test-secret", "http://test")


@dataclass
class PaidBidder(Bidder):
    deposit_order_id: int


class SettlementWorld(AuctionWorld):
    def __post_init__(self) -> None:
        super().__post_init__()
        wiring = wire_core.__wrapped__()  # every module's handlers, on a bus of our own
        wiring.bus.subscribe(Event, lambda _uow, event: self.events.append(event))
        self.wiring = wiring
        self.uow = UnitOfWorkFactory(self.engine, bus=wiring.bus)

    def later_period(self) -> int:
        """Another period, starting a day from now (the clock may be past the first's start)."""
        now = self.clock.now()
        day = timedelta(days=1)
        return self.period(
            name="2026年第13期", signup_opens=now, signup_closes=now + day, starts_at=now + day
        )

    def paid_bidder(
        self, period_id: int, shares: int = 1, *, receipt: str | None = None
    ) -> PaidBidder:
        """Signed up, the deposit order paid through the gateway (or at the counter, with the
        ``receipt`` number), the signup active."""
        vins = self.new_vins(shares)
        account_id = self.account()
        signup_id = self.signup(period_id, vins, account_id)
        order = self.deposit_order(account_id, signup_id)
        if receipt is None:
            self.pay(order)
        else:
            with self.uow() as uow:
                now = self.clock.now()
                pay_at_counter(uow, order_id=order.id or 0, receipt=receipt, staff="王芳", now=now)
                uow.commit()
        with self.uow() as uow:
            active = auctions.deposit_paid(uow, clock=self.clock, signup_id=signup_id)
            share_ids = [share.id or 0 for share in uow.auctions.shares(signup_id)]
            uow.commit()
        assert active.bidder_number is not None and order.id is not None
        return PaidBidder(account_id, signup_id, active.bidder_number, share_ids, vins, order.id)

    def deposit_order(self, account_id: int, signup_id: int) -> Order:
        """The signup's deposit order, placed now, pending (as the signup dialog places it)."""
        with self.uow() as uow:
            signup = uow.auctions.signup(signup_id)
            assert signup is not None
            order = place_order(
                uow,
                account_id=account_id,
                purpose=Purpose.AUCTION_DEPOSIT,
                reference=f"signup:{signup_id}",
                subject="竞价保证金",
                amount=signup.deposit_fen,
                now=self.clock.now(),
            )
            uow.commit()
        return order

    def pay(self, order: Order) -> None:
        """The gateway's callback for the whole amount, now."""
        assert order.id is not None
        notice = PaymentNotice(
            event_id=f"evt-{secrets.token_hex(6)}",
            order_id=order.id,
            amount=order.amount,
            currency="CNY",
            paid_at=self.clock.now(),
            transaction=f"tx-{order.id}",
            digest=secrets.token_hex(8),
        )
        with self.uow() as uow:
            receive_payment(uow, GATEWAY, notice, self.clock.now())
            uow.commit()

    def run_timers(self) -> int:
        """Every timer lane once, the winners' messages and the deposit refunds, as the server
        does."""
        steps = [*self.wiring.timers, tell_winners(GATEWAY), refund_due_deposits(GATEWAY)]
        return Timers(self.uow, self.clock, steps).run_once()

    def close_and_settle(self) -> None:
        """Past every lot's deadline, the close and whatever follows it."""
        self.clock.advance(timedelta(hours=2))
        self.run_timers()

    def order(self, order_id: int) -> Order:
        with self.uow() as uow:
            order = uow.orders.get(order_id)
            assert order is not None
            return order

    def settlement(self, lot_id: int) -> Settlement:
        with self.uow() as uow:
            settlement = uow.settlements.of_lot(lot_id)
        assert settlement is not None
        return settlement

    def refunds(self, signup_id: int) -> list[DepositRefund]:
        with self.uow() as uow:
            return list(uow.settlements.refunds_of(signup_id))

    def pool_state(self, serial: str) -> str | None:
        from core.plates import PlateKind  # noqa: PLC0415

        with self.uow() as uow:
            office = uow.offices.by_code("粤D")
            assert office is not None and office.id is not None
            found = uow.pool.states(office.id, PlateKind.SMALL, [serial], lock=False)
        return found[serial][0].value if serial in found else None

    def told(self, account_id: int, language: Language = Language.ZH) -> list[str]:
        """What the account was told (rendered as it reads), oldest first, once per notice."""
        query = (
            sa.select(outbox.c.key, outbox.c.params, outbox.c.dedupe_key)
            .where(outbox.c.account_id == account_id)
            .order_by(outbox.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        seen: set[str] = set()
        told = []
        for key, params, dedupe in rows:
            if dedupe not in seen and key.startswith("settlement."):
                seen.add(dedupe)
                told.append(render_text(Text(key, params), language))
        return told


def note_close(uow: UnitOfWork, event: LotClosed) -> None:
    """One guide row per close handled, written in the closing transaction (as the settlement's
    own rows are), so a lot closed twice shows twice."""
    time.sleep(0.005)  # widens the window in which another process could take the same lot
    uow.info.add(
        Guide(title=f"closed {event.lot_id}", body=str(os.getpid()), created_at=event.closed_at)
    )


def close_in_process(url: str, now: datetime, start: Barrier, rounds: int) -> None:
    """Run in another process: the auctions' timer lane (closing, settlement, refunds) at the
    parent's time ``now``, in small batches, as a second server process runs it."""
    engine = create_engine(url)
    wiring = wire_core.__wrapped__()
    wiring.bus.subscribe(LotClosed, note_close)
    steps = [*wiring.lanes[AUCTION_LANE], refund_due_deposits(GATEWAY)]
    timers = Timers(UnitOfWorkFactory(engine, bus=wiring.bus), ManualClock(now), steps, batch=2)
    start.wait(timeout=60)
    for _ in range(rounds):
        timers.run_once()
    engine.dispose()

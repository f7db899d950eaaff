"""A small auction world built with the use cases: office 粤D, a period whose signup is open
now and whose auction starts an hour later, lots of held-back numbers, and bidders whose
deposits are paid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from core import auctions, bidding, office_admin
from core.accounts import Account, Category, Language, PersonDetails
from core.auctions import YUAN
from core.bidding import BidRecord, BidResult
from core.clock import ManualClock
from core.errors import DomainError
from core.events import Event, EventBus
from core.plates import PlateKind
from core.registry import vin_check_digit
from store.uow import UnitOfWorkFactory

OFFICE = "粤D"
KEY = b"test-key"
START_PRICE = 10_000 * YUAN


def vin(n: int) -> str:
    body = f"LGBH52E00NY{n:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


@dataclass
class Bidder:
    account_id: int
    signup_id: int
    bidder_number: str
    share_ids: list[int]
    vins: list[str]


@dataclass
class AuctionWorld:
    engine: Engine
    clock: ManualClock = field(default_factory=ManualClock)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        bus = EventBus()
        bus.subscribe(Event, lambda _uow, event: self.events.append(event))
        self.uow = UnitOfWorkFactory(self.engine, bus=bus)
        self.opened_at = self.clock.now()
        self.starts_at = self.opened_at + timedelta(hours=1)
        self._accounts = 0
        self._vins = 0
        with self.uow() as uow:
            office_admin.create_office(
                uow, code=OFFICE, name="汕头市车辆管理所", region_code="4405"
            )
            uow.commit()

    def period(self, **settings: Any) -> int:
        values: dict[str, Any] = {
            "name": "2026年第12期",
            "signup_opens": self.opened_at,
            "signup_closes": self.starts_at,
            "starts_at": self.starts_at,
            **settings,
        }
        with self.uow() as uow:
            period = auctions.publish_period(uow, clock=self.clock, **values)
            uow.commit()
        assert period.id is not None
        return period.id

    def lot(self, period_id: int, serial: str, price: int = START_PRICE) -> int:
        with self.uow() as uow:
            lot = auctions.add_lot(
                uow,
                clock=self.clock,
                period_id=period_id,
                office_code=OFFICE,
                kind=PlateKind.SMALL,
                serial=serial,
                starting_price_fen=price,
            )
            uow.commit()
        assert lot.id is not None
        return lot.id

    def account(self) -> int:
        self._accounts += 1
        details = PersonDetails(
            real_name="张三",
            id_number="440304199001011233",
            region_code="4405",
            address="广东省汕头市龙湖区长平路1号",
            category=Category.NEW_CAR_OWNER,
        )
        account = Account.for_person(
            phone=f"+86138{self._accounts:08d}",
            details=details,
            language=Language.ZH,
            now=self.clock.now(),
        )
        with self.uow() as uow:
            uow.accounts.add(account)
            uow.commit()
        assert account.id is not None
        return account.id

    def new_vins(self, count: int) -> list[str]:
        self._vins += count
        return [vin(n) for n in range(self._vins - count + 1, self._vins + 1)]

    def signup(self, period_id: int, vins: Sequence[str], account_id: int | None = None) -> int:
        account_id = account_id if account_id is not None else self.account()
        with self.uow() as uow:
            signup = auctions.sign_up(
                uow, clock=self.clock, account_id=account_id, period_id=period_id, vins=vins
            )
            uow.commit()
        assert signup.id is not None
        return signup.id

    def bidder(self, period_id: int, shares: int = 1) -> Bidder:
        """Signed up (inside the window, so call this before the start) and deposit paid."""
        vins = self.new_vins(shares)
        account_id = self.account()
        signup_id = self.signup(period_id, vins, account_id)
        with self.uow() as uow:
            signup = auctions.deposit_paid(uow, clock=self.clock, signup_id=signup_id)
            share_ids = [share.id or 0 for share in uow.auctions.shares(signup_id)]
            uow.commit()
        assert signup.bidder_number is not None
        return Bidder(account_id, signup_id, signup.bidder_number, share_ids, vins)

    def start(self) -> None:
        self.clock.set(self.starts_at)

    def bid(
        self,
        bidder: Bidder,
        lot_id: int,
        *,
        amount: int | None = None,
        increment: int | None = None,
        share: int | None = 0,
    ) -> BidResult | DomainError:
        """A manual bid with the bidder's first VIN (``share=None``: let the use case pick);
        the refusal is returned, and committed as the dialog engine commits it."""
        share_id = bidder.share_ids[share] if share is not None else None
        with self.uow() as uow:
            try:
                result = bidding.place_bid(
                    uow,
                    clock=self.clock,
                    signup_id=bidder.signup_id,
                    lot_id=lot_id,
                    share_id=share_id,
                    amount_fen=amount,
                    increment_fen=increment,
                )
            except DomainError as error:
                uow.commit()
                return error
            uow.commit()
        return result

    def maximum(self, bidder: Bidder, lot_id: int, max_fen: int, share: int = 0) -> None:
        with self.uow() as uow:
            bidding.set_maximum(
                uow,
                clock=self.clock,
                signup_id=bidder.signup_id,
                lot_id=lot_id,
                share_id=bidder.share_ids[share],
                max_fen=max_fen,
            )
            uow.commit()

    def close_due(self) -> int:
        with self.uow() as uow:
            closed = bidding.close_due_lots(uow, self.clock.now(), 100)
            uow.commit()
        return closed

    def lot_now(self, lot_id: int) -> auctions.Lot:
        with self.uow() as uow:
            lot = uow.auctions.lot(lot_id)
        assert lot is not None
        return lot

    def trail(self, lot_id: int) -> list[BidRecord]:
        with self.uow() as uow:
            return list(uow.auctions.bids(lot_id))

    def of_type(self, kind: type[Event]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]

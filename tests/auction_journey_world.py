"""A world for the auction journey through the app: office 粤D, a period whose signup is open
now and whose bidding starts an hour later, lots of held-back numbers, registered users who talk
to the app by SMS, and rival bidders who act through core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from core import auctions, bidding
from core.auctions import YUAN
from core.clock import ManualClock
from core.payments import receive_payment
from core.plates import PlateKind
from core.timers import Timers
from platebot.bootstrap import App
from tests.auction_world import vin
from tests.preselect_world import add_accounts, add_office, person
from tests.support import Renderer, Transcript

PHONE = "+8613800138000"
START_PRICE = 10_000 * YUAN
PERIOD_NAME = "2026年第12期"


@dataclass
class Rival:
    account_id: int
    signup_id: int
    bidder_number: str
    phone: str = PHONE


class JourneyWorld:
    def __init__(self, app: App) -> None:
        self.app = app
        assert isinstance(app.clock, ManualClock)
        self.clock: ManualClock = app.clock
        add_office(app)
        self.account_id = add_accounts(app, person(phone=PHONE))[0]
        self.opened_at = self.clock.now()
        self.starts_at = self.opened_at + timedelta(hours=1)
        self._rivals = 0

    def period(
        self, *, lots: int = 1, opens_in: timedelta = timedelta(0), **settings: object
    ) -> int:
        with self.app.uow() as uow:
            period = auctions.publish_period(
                uow,
                clock=self.clock,
                name=str(settings.pop("name", PERIOD_NAME)),
                signup_opens=self.opened_at + opens_in,
                signup_closes=self.starts_at,
                starts_at=self.starts_at,
                **settings,  # type: ignore[arg-type]
            )
            uow.commit()
        assert period.id is not None
        self.lot_ids = [self.lot(period.id, f"8888{n}") for n in range(8, 8 - lots, -1)]
        return period.id

    def lot(self, period_id: int, serial: str, price: int = START_PRICE) -> int:
        with self.app.uow() as uow:
            lot = auctions.add_lot(
                uow,
                clock=self.clock,
                period_id=period_id,
                office_code="粤D",
                kind=PlateKind.SMALL,
                serial=serial,
                starting_price_fen=price,
            )
            uow.commit()
        assert lot.id is not None
        return lot.id

    def chat(self, renderer: Renderer, lang: str, phone: str = PHONE) -> Transcript:
        chat = Transcript(
            self.app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone
        )
        chat.say("EN" if lang == "en" else "中文")
        return chat

    def pay_deposit(self, reply_text: str) -> None:
        """The user pays on the sandbox pay page the reply links to: the gateway's callback."""
        token = re.search(r"/pay/([A-Za-z0-9_-]+)", reply_text)
        assert token, reply_text
        with self.app.uow() as uow:
            order = uow.orders.by_token(token.group(1))
            assert order is not None
        body, headers = self.app.payments.callback_for(order, self.clock.now())  # type: ignore[attr-defined]
        notice = self.app.payments.verify_callback(body, headers, self.clock.now())
        with self.app.uow() as uow:
            receive_payment(uow, self.app.payments, notice, self.clock.now())
            uow.commit()
        self.app.dispatcher.run_once()

    def signed_up(self, period_id: int, vins: list[str]) -> tuple[Rival, str, list[int]]:
        """The world's user signed up and paid through core: the signup, its code, its shares."""
        with self.app.uow() as uow:
            signup = auctions.sign_up(
                uow, clock=self.clock, account_id=self.account_id, period_id=period_id, vins=vins
            )
            uow.commit()
        with self.app.uow() as uow:
            active = auctions.deposit_paid(uow, clock=self.clock, signup_id=signup.id or 0)
            shares = [share.id or 0 for share in uow.auctions.shares(active.id or 0)]
            uow.commit()
        code = auctions.room_code(self.app.dialogs.services.code_key, active)
        mine = Rival(self.account_id, active.id or 0, active.bidder_number or "")
        return mine, code, shares

    def rival(self, period_id: int, shares: int = 1) -> Rival:
        """Another bidder, signed up and paid through core."""
        self._rivals += 1
        phone = f"+86139{self._rivals:08d}"
        account_id = add_accounts(self.app, person(phone=phone, id_number="440304199001011233"))[0]
        with self.app.uow() as uow:
            signup = auctions.sign_up(
                uow,
                clock=self.clock,
                account_id=account_id,
                period_id=period_id,
                vins=[vin(900 + self._rivals * 10 + n) for n in range(shares)],
            )
            uow.commit()
        with self.app.uow() as uow:
            active = auctions.deposit_paid(uow, clock=self.clock, signup_id=signup.id or 0)
            uow.commit()
        assert active.bidder_number is not None
        return Rival(account_id, active.id or 0, active.bidder_number, phone)

    def rival_bids(
        self,
        rival: Rival,
        lot_id: int,
        increment: int = 1_000 * YUAN,
        share_id: int | None = None,
    ) -> None:
        with self.app.uow() as uow:
            bidding.place_bid(
                uow,
                clock=self.clock,
                signup_id=rival.signup_id,
                lot_id=lot_id,
                share_id=share_id,
                increment_fen=increment,
            )
            uow.commit()

    def start(self) -> None:
        self.clock.set(self.starts_at)

    def run_timers(self) -> None:
        Timers(self.app.uow, self.clock).run_once()
        self.app.dispatcher.run_once()


def closed_period(world: JourneyWorld, lots: int = 7) -> tuple[int, list[Rival]]:
    """A period of ``lots`` lots whose bidding is over: lots 1 and 3 sold (¥11,000 and
    ¥12,000), the rest unsold."""
    period_id = world.period(lots=lots)
    first, second = world.rival(period_id), world.rival(period_id)
    world.start()
    world.rival_bids(first, world.lot_ids[0])
    world.rival_bids(second, world.lot_ids[2], increment=2_000 * YUAN)
    world.clock.advance(timedelta(minutes=10))
    world.run_timers()
    return period_id, [first, second]


def masked(number: str) -> str:
    return f"{number[:2]}****{number[-2:]}"

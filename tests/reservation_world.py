"""A world for reservation tests: office 粤D with a small pool, a person who reserves (and two
more accounts), the staff's review as the CLI and the HTTP API do it, auction periods published
with the use cases, payments through the sandbox gateway's signed callback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from core import auctions, bidding
from core.auctions import YUAN
from core.orders import Order
from core.payments import receive_payment
from core.plates import PlateKind
from core.reservations import Reservation, reserve
from core.timers import Timers
from platebot.bootstrap import App
from platebot.staff_reservations import StaffReservations
from store.reservation_tables import reservations
from tests.preselect_world import (
    OFFICE,
    OTHER_ID,
    PERSON_PHONE,
    add_accounts,
    add_numbers,
    add_office,
    person,
    vin,
)
from tests.support import Renderer, Transcript

POOL = [f"{10000 + i}" for i in range(10)]
RIVAL_PHONE = "+8613700137000"
THIRD_PHONE = "+8613600136000"
DEPOSIT = 5_000 * YUAN
START_PRICE = 10_000 * YUAN


def reservation_world(app: App) -> dict[str, int]:
    """粤D with ``POOL``; the reserver (``PERSON_PHONE``), a rival and a third account."""
    add_office(app)
    add_numbers(app, POOL)
    ids = add_accounts(
        app,
        person(),
        person(phone=RIVAL_PHONE, id_number=OTHER_ID),
        person(phone=THIRD_PHONE, id_number=OTHER_ID),
    )
    return {"me": ids[0], "rival": ids[1], "third": ids[2]}


def start(app: App, renderer: Renderer, lang: str, phone: str = PERSON_PHONE) -> Transcript:
    """An SMS user of ``phone`` (known to the channel), in ``lang``, at the main menu, rendered
    as ``renderer`` shows it."""
    chat = Transcript(app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone)
    chat.say("EN" if lang == "en" else "中文")
    return chat


def staff(app: App) -> StaffReservations:
    return StaffReservations(app.uow, app.clock, app.payments, app.settings.order_minutes)


def the_reservations(app: App) -> list[dict[str, Any]]:
    with app.db.connect() as conn:
        rows = conn.execute(sa.select(reservations).order_by(reservations.c.id))
        return [dict(row) for row in rows.mappings()]


def reservation(app: App, reservation_id: int) -> Reservation:
    with app.uow() as uow:
        found = uow.reservations.get(reservation_id)
        assert found is not None
        return found


def order(app: App, order_id: int) -> Order:
    with app.uow() as uow:
        found = uow.orders.get(order_id)
        assert found is not None
        return found


def pay_by_gateway(app: App, order_id: int) -> None:
    """The user pays on the sandbox's page: its signed callback, checked as ``/pay/callback``
    checks it."""
    gateway: Any = app.payments
    now = app.clock.now()
    body, headers = gateway.callback_for(order(app, order_id), now)
    notice = app.payments.verify_callback(body, headers, now)
    with app.uow() as uow:
        receive_payment(uow, app.payments, notice, now)
        uow.commit()
    app.dispatcher.run_once()


def publish_period(app: App, name: str = "2026年第12期", hours: int = 24) -> int:
    """A period whose signup is open now and whose auction starts ``hours`` from now."""
    now = app.clock.now()
    with app.uow() as uow:
        period = auctions.publish_period(
            uow,
            clock=app.clock,
            name=name,
            signup_opens=now,
            signup_closes=now + timedelta(hours=hours),
            starts_at=now + timedelta(hours=hours),
        )
        uow.commit()
    app.dispatcher.run_once()
    assert period.id is not None
    return period.id


def add_lot(app: App, period_id: int, serial: str) -> int:
    with app.uow() as uow:
        lot = auctions.add_lot(
            uow,
            clock=app.clock,
            period_id=period_id,
            office_code=OFFICE,
            kind=PlateKind.SMALL,
            serial=serial,
            starting_price_fen=START_PRICE,
        )
        uow.commit()
    assert lot.id is not None
    return lot.id


def bidder(app: App, period_id: int, account_id: int, vin: str) -> tuple[int, int]:
    """Signed up for the period with one VIN, deposit paid: (signup id, share id)."""
    with app.uow() as uow:
        signup = auctions.sign_up(
            uow, clock=app.clock, account_id=account_id, period_id=period_id, vins=[vin]
        )
        uow.commit()
    assert signup.id is not None
    with app.uow() as uow:
        auctions.deposit_paid(uow, clock=app.clock, signup_id=signup.id)
        share = uow.auctions.shares(signup.id)[0]
        uow.commit()
    assert share.id is not None
    return signup.id, share.id


def bid(app: App, signup_id: int, share_id: int, lot_id: int, amount: int) -> None:
    with app.uow() as uow:
        bidding.place_bid(
            uow,
            clock=app.clock,
            signup_id=signup_id,
            lot_id=lot_id,
            share_id=share_id,
            amount_fen=amount,
        )
        uow.commit()


def run_jobs(app: App) -> None:
    """What the server's background lanes do: timers, the reservation refunds, the outbox."""
    Timers(app.uow, app.clock).run_once()
    for name, job in app.jobs:
        if name == "timers:reservation-refunds":
            job()
    app.dispatcher.run_once()


def sms_to(sms: Any, phone: str = PERSON_PHONE) -> list[str]:
    return [text for recipient, text in sms.sent if recipient == phone]


def pending_reservation(app: App, account_id: int, serial: str = "A8888", n: int = 1) -> int:
    """A reservation the user made (as the dialog makes it), waiting for review."""
    with app.uow() as uow:
        account = uow.accounts.view(account_id)
        assert account is not None
        made = reserve(
            uow, now=app.clock.now(), account=account, office_code=OFFICE, serial=serial, vin=vin(n)
        )
        uow.commit()
    assert made.id is not None
    return made.id

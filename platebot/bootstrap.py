"""The composition root: builds the store, clock, senders, dialog engine and dispatcher.
Tests build the same thing with a manual clock and their own senders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.engine import make_url

from bot.channel import TelegramChannel, api_base, token_of
from bot.sender import TelegramSender, bot_for
from core.bid_desk import BidDesk
from core.clock import Clock, SystemClock
from core.outbox import Channel
from core.payments import PaymentProvider
from core.ports import Sender
from core.reservation_lots import ReservationRefunds
from core.settlement import REFUND_LANE, refund_due_deposits, tell_winners
from core.timers import Timers
from core.wiring import wire_core
from dialogs.engine import Engine
from dialogs.flow import Flow, Services
from dialogs.flows.account import AccountFlow
from dialogs.flows.auction import AuctionFlow
from dialogs.flows.info import InfoFlow
from dialogs.flows.menu import MenuFlow
from dialogs.flows.orders import OrdersFlow
from dialogs.flows.practice_auction import PracticeAuctionFlow
from dialogs.flows.preselect import PracticeFlow, PreselectFlow
from dialogs.flows.register import RegisterFlow
from dialogs.flows.reserve import ReserveFlow
from dialogs.flows.sale import SaleFlow
from platebot.dispatcher import Dispatcher, LogSender
from platebot.settings import Settings
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.threads import ThreadLane
from sms.channel import STATUS_PATH
from sms.render import broadcast_segments
from sms.sender import SegmentPacer, TwilioSender, guard_opt_outs, twilio_client
from store import migrate
from store.db import create_engine, normalise_url
from store.housekeeping import Housekeeping
from store.telegram_tables import TelegramChats
from store.uow import UnitOfWorkFactory
from web.sandbox import SandboxGateway, derive_secret


@cache
def all_flows() -> tuple[Flow, ...]:
    """Every flow, each with its machine built once per process."""
    return (
        MenuFlow(),
        RegisterFlow(),
        AccountFlow(),
        PreselectFlow(),
        PracticeFlow(),
        InfoFlow(),
        SaleFlow(),
        OrdersFlow(),
        AuctionFlow(),
        PracticeAuctionFlow(),
        ReserveFlow(),
    )


@dataclass
class App:
    """Everything a channel or command needs, wired once.

    ``jobs`` are the background jobs the server runs (dispatcher, timers, housekeeping): each
    does what is due and returns how much it did. ``on_start``/``on_stop`` are async hooks of
    the server's lifespan (e.g. registering a webhook). ``telegram`` is the Telegram bot when a
    token is set. ``turns``: the threads webhooks run dialog turns in.
    """

    settings: Settings
    db: SqlEngine
    uow: UnitOfWorkFactory
    clock: Clock
    dialogs: Engine
    dispatcher: Dispatcher
    senders: Mapping[Channel, Sender]
    turns: ThreadLane
    payments: PaymentProvider
    jobs: list[tuple[str, Callable[[], int]]] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    telegram: TelegramChannel | None = None


def default_senders(
    settings: Settings, db: SqlEngine | None = None, clock: Clock | None = None
) -> dict[Channel, Sender]:
    """The senders the settings call for; with no SMS provider configured, SMS goes to the log.
    With a Telegram token, Telegram messages go out through the Bot API (paced per chat in
    ``db``, so that needs the database and the clock)."""
    senders: dict[Channel, Sender] = {Channel.SMS: twilio_sender_from(settings) or LogSender()}
    if settings.telegram_token is not None and db is not None and clock is not None:
        bot = bot_for(token_of(settings), api_base(settings))
        senders[Channel.TELEGRAM] = TelegramSender(
            bot,
            chats=TelegramChats(db),
            clock=clock,
            rate=settings.telegram_messages_per_second,
        )
    return senders


def payment_provider(settings: Settings, key: bytes) -> PaymentProvider:
    """The gateway the settings choose (today the sandbox, the only one built in)."""
    secret = (
        settings.payment_secret.get_secret_value().encode()
        if settings.payment_secret is not None
        else derive_secret(key)
    )
    return SandboxGateway(secret, str(settings.public_url))


def timer_lanes(
    uow: UnitOfWorkFactory, clock: Clock, payments: PaymentProvider
) -> list[tuple[str, Callable[[], int]]]:
    """One job per timer lane (``core.wiring``), so that a lot's close never waits behind an
    expiry; the steps that need the payment provider (the auction winners' messages with their
    pay links, then the deposits' refunds, a call each) in a lane of their own too, so that a
    long batch of them never holds up a close."""
    lanes = {name: list(steps) for name, steps in wire_core().lanes.items()}
    lanes[REFUND_LANE] = [tell_winners(payments), refund_due_deposits(payments)]
    return [(name, Timers(uow, clock, steps).run_once) for name, steps in lanes.items()]


def twilio_sender_from(settings: Settings) -> TwilioSender | None:
    """The Twilio sender ``PLATEBOT_TWILIO_*`` call for; None when they are not all set."""
    sid, token, origin = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_from,
    )
    if not (sid and token and origin):
        return None
    base = str(settings.twilio_api_base) if settings.twilio_api_base else None
    return TwilioSender(
        twilio_client(sid, token.get_secret_value(), base),
        sender=origin,
        pacer=SegmentPacer(settings.sms_segments_per_second),
        status_callback=str(settings.public_url).rstrip("/") + STATUS_PATH,
    )


TURN_THREADS = 16  # the threads running dialog turns on PostgreSQL
JOB_CONNECTIONS = 8  # the background jobs' lanes (outbox channels, timer lanes, housekeeping)


def server_engine(url: str) -> SqlEngine:
    """The server's engine. On PostgreSQL a turn that bids holds its own connection while the
    bid desk's batch (``core.bid_desk``), which a turn may run, takes another: the pool has room
    for both for every turn thread, and the background jobs, so none waits for a connection
    that a turn waiting on it holds: 2 × 16 + 8 = 40 connections at most (two server processes
    stay within PostgreSQL's default of 100), 10 of them kept open."""
    if make_url(normalise_url(url)).get_backend_name() == "postgresql":
        most = 2 * TURN_THREADS + JOB_CONNECTIONS
        return create_engine(url, pool_size=10, max_overflow=most - 10)
    return create_engine(url)


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    senders: Mapping[Channel, Sender] | None = None,
    db: SqlEngine | None = None,
    upgrade: bool = True,
    telegram_polling: bool = False,
    keep_turn_connection: bool = False,
) -> App:
    """Wire everything. ``upgrade`` migrates the database first (an empty SQLite file too).
    ``telegram_polling``: the bot polls Telegram for updates instead of taking the webhook.
    ``keep_turn_connection``: the dialog turns keep one connection open between them (a process
    whose turns come one after the other: the turn process)."""
    db = db or server_engine(settings.database_url)
    if upgrade:
        migrate.upgrade(db)
    clock = clock or SystemClock()
    senders = senders if senders is not None else default_senders(settings, db, clock)
    # Notices go only where a server sends: Telegram with a token (or a sender given for it);
    # a process without one on a server's database (the console) leaves Telegram to the server.
    channels = settings.channels | frozenset(senders)
    uow = UnitOfWorkFactory(db, channels=channels)
    key = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key is not None
        else migrate.secret_key(db)
    )
    payments = payment_provider(settings, key)
    services = Services(
        clock=clock,
        code_key=key,
        idle_minutes=settings.idle_minutes,
        default_language=settings.default_language,
        payments=payments,
        order_minutes=settings.order_minutes,
        # PostgreSQL: the bids of a lot decided together, beside the turns' transactions
        bids=BidDesk(uow, clock) if db.dialect.name == "postgresql" else None,
    )
    turn_uow = (
        UnitOfWorkFactory(db, keep_connection=True, channels=channels)
        if keep_turn_connection
        else uow
    )
    dialogs = Engine(turn_uow, services, all_flows())
    senders = guard_opt_outs(senders, db, clock)  # nothing goes to a number that sent STOP
    lane_lease = timedelta(seconds=settings.lane_lease_seconds)
    dispatcher = Dispatcher(uow, clock, senders, code_key=key, lane_lease=lane_lease)
    app = App(
        settings=settings,
        db=db,
        uow=uow,
        clock=clock,
        dialogs=dialogs,
        dispatcher=dispatcher,
        senders=senders,
        payments=payments,
        jobs=[
            *dispatcher.lanes(),  # one lane per channel: "outbox:sms", "outbox:telegram"
            *timer_lanes(uow, clock, payments),  # "timers", "timers:auctions", …
            ("housekeeping", Housekeeping(db, clock).run_once),
            ("timers:reservation-refunds", ReservationRefunds(uow, clock, payments).run_once),
        ],
        # Dialog turns of every webhook (SMS, Telegram) run in these threads, never on the event
        # loop. SQLite takes one writer at a time: one thread, and turns queue in order rather
        # than sleeping in SQLite's busy handler.
        turns=ThreadLane(1 if db.dialect.name == "sqlite" else TURN_THREADS, name="turns"),
    )
    app.on_stop.append(app.turns.stop)
    app.on_stop.append(dispatcher.aclose)  # its broadcast senders' threads
    if settings.telegram_token is not None:
        install_telegram(app, polling=telegram_polling)
    return app


def install_telegram(app: App, *, polling: bool = False) -> TelegramChannel:
    """Telegram on: the bot in ``app.telegram``, started and stopped with the server, and the
    outbox's Telegram sender closed at stop."""
    channel = TelegramChannel(
        app.settings,
        dialogs=app.dialogs,
        chats=TelegramChats(app.db),
        clock=app.clock,
        turns=app.turns,
        polling=polling,
        staff=StaffBroadcasts(
            app.uow, app.clock, broadcast_segments
        ),  # /broadcast, /broadcasts, /stats
    )
    app.telegram = channel
    app.on_start.append(channel.start)
    app.on_stop.append(channel.stop)
    app.on_stop.extend(s.aclose for s in app.senders.values() if isinstance(s, TelegramSender))
    return channel

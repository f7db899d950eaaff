"""The HTTP app, composed: webhooks (SMS, Telegram), the staff API, health.

The composition root of the server: the adapters (``sms.webhook``, ``bot.webhook``,
``web.staff``) get what they need from here and never import it. ``platebot serve`` runs the app
under uvicorn; ``create_from_env`` is the factory uvicorn imports, so several worker processes
each build their own app against the same database.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.webhook import mount as mount_telegram
from core.masking import describe_error
from platebot.bootstrap import App, build_app
from platebot.settings import Settings, load_settings
from platebot.staff_accounts import StaffAccounts
from platebot.staff_auctions import StaffAuctions
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.staff_orders import StaffOrders
from platebot.staff_reservations import StaffReservations
from platebot.staff_sale import StaffSale
from platebot.staff_service import StaffService
from platebot.turn_process import InThreads, ServiceLane, TurnProcess
from sms.channel import SmsChannel
from sms.render import broadcast_segments
from sms.webhook import SmsService
from sms.webhook import mount as mount_sms
from store import health, migrate
from web.health import add_health_check, health_checks
from web.pay import PayDesk
from web.pay import mount as mount_pay
from web.staff import mount as mount_staff
from web.staff_auction_results import router as staff_auction_results_router
from web.staff_auctions import router as staff_auctions_router
from web.staff_broadcasts import router as staff_broadcasts_router
from web.staff_business_pages import NAV as BUSINESS_NAV
from web.staff_business_pages import routes as business_routes
from web.staff_console import Business, Console, derive_cookie_key
from web.staff_orders import router as staff_orders_router
from web.staff_pages import mount as mount_staff_pages
from web.staff_reservations import router as staff_reservations_router
from web.staff_sale import router as staff_sale_router
from web.workers import JobThread, Workers

log = logging.getLogger(__name__)


def turn_process_service(settings: Settings) -> SmsService:
    """What a turn process builds for itself: the app as the server builds it, with the system
    clock, the dialog turns on one connection kept open from one turn to the next (they come
    one after the other), and the background jobs started in lanes of their own."""
    app = build_app(settings, upgrade=False, keep_turn_connection=True)
    jobs = JobThread(app.jobs, interrupt=app.dispatcher.interrupt)
    jobs.start()
    return SmsService(
        _sms_channel(app),
        jobs,
        health_wait=settings.health_wait,
        after_jobs=app.dispatcher.close,  # its lanes are let go: the next process sends at once
    )


def _sms_channel(app: App) -> SmsChannel:
    settings = app.settings
    return SmsChannel(
        app.dialogs,
        app.db,
        app.clock,
        budget=settings.sms_segment_budget,
        default_language=settings.default_language,
        idle_minutes=settings.idle_minutes,
    )


def sms_lane(app: App) -> ServiceLane[SmsService]:
    """Where the SMS turns run: a process of their own when the settings ask for it (SQLite),
    else the app's turn threads."""
    if app.settings.turn_process:
        return TurnProcess(turn_process_service, app.settings, name="platebot-sms-turns")
    service = SmsService(_sms_channel(app), health_wait=app.settings.health_wait)
    return InThreads(service, app.turns)


def _mount_sms(api: FastAPI, app: App) -> None:
    """POST /sms/twilio, POST /sms/twilio/status"""
    turns = sms_lane(app)
    app.on_start.append(turns.start)  # a turn process is up before the first request
    app.on_stop.append(turns.stop)
    token = app.settings.twilio_auth_token
    mount_sms(
        api,
        turns,
        auth_token=token.get_secret_value() if token is not None else None,
        public_url=str(app.settings.public_url),
        turn_deadline=app.settings.sms_turn_deadline,
        answer_within=app.settings.sms_answer_within,
    )


def _mount_staff(api: FastAPI, app: App) -> None:
    """/staff/api/… (with PLATEBOT_STAFF_TOKEN): the staff service's routes and those of orders,
    the sale, auctions and their results, reservations and broadcasts (web/staff_*.py)."""
    token = app.settings.staff_token
    mount_staff(
        api,
        StaffService(app.uow, app.clock),
        token.get_secret_value() if token is not None else None,
        more=[
            functools.partial(staff_orders_router, StaffOrders(app.uow, app.clock, app.payments)),
            functools.partial(staff_sale_router, StaffSale(app.uow, app.clock)),
            functools.partial(
                staff_auctions_router,
                StaffAuctions(
                    app.uow, app.clock, app.payments, deposit_minutes=app.settings.order_minutes
                ),
            ),
            functools.partial(staff_auction_results_router, app.uow),
            functools.partial(
                staff_reservations_router,
                StaffReservations(app.uow, app.clock, app.payments, app.settings.order_minutes),
            ),
            functools.partial(
                staff_broadcasts_router, StaffBroadcasts(app.uow, app.clock, broadcast_segments)
            ),
        ],
    )


def _mount_staff_console(api: FastAPI, app: App) -> None:
    """/staff/…: the staff web console (web/staff_pages.py), signed in as a staff member"""
    key = (
        app.settings.secret_key.get_secret_value().encode()
        if app.settings.secret_key is not None
        else migrate.secret_key(app.db)
    )
    console = Console(
        staff=StaffService(app.uow, app.clock),
        orders=StaffOrders(app.uow, app.clock, app.payments),
        accounts=StaffAccounts(app.uow, app.clock),
        business=Business(
            sale=StaffSale(app.uow, app.clock),
            auctions=StaffAuctions(
                app.uow, app.clock, app.payments, deposit_minutes=app.settings.order_minutes
            ),
            reservations=StaffReservations(
                app.uow, app.clock, app.payments, app.settings.order_minutes
            ),
            broadcasts=StaffBroadcasts(app.uow, app.clock, broadcast_segments),
        ),
        cookie_key=derive_cookie_key(key),
        secure_cookie=str(app.settings.public_url).startswith("https://"),
    )
    mount_staff_pages(api, console, [(BUSINESS_NAV, business_routes)])


def _mount_pay(api: FastAPI, app: App) -> None:
    """GET /pay/{token}, POST /pay/{token}/pay|cancel, POST /pay/callback"""
    desk = PayDesk(
        uow=app.uow,
        clock=app.clock,
        payments=app.payments,
        public_url=str(app.settings.public_url),
        default_language=app.settings.default_language,
    )
    mount_pay(api, desk)


# Each channel or area mounts its routes here: (name, function(api, app)).
Mount = Callable[[FastAPI, App], None]
MOUNTS: list[tuple[str, Mount]] = [
    ("sms", _mount_sms),
    ("telegram", lambda api, app: mount_telegram(api, app.telegram)),  # POST /telegram/webhook
    ("pay", _mount_pay),
    ("staff", _mount_staff),
    ("staff console", _mount_staff_console),
]


def create_web_app(app: App, *, run_workers: bool = True) -> FastAPI:
    # With a turn process (SQLite) the background jobs run there, beside the turns.
    jobs = [] if app.settings.turn_process else app.jobs
    workers = Workers(jobs, interrupt=app.dispatcher.interrupt)
    if app.settings.secret_key is None:
        log.warning(
            "PLATEBOT_SECRET_KEY is not set: one-time codes are keyed with a key kept in the "
            "database, so a copy of the database could reveal a pending code; set it in production"
        )

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        for hook in app.on_start:
            await hook()
        if run_workers:
            await workers.start()
        try:
            yield
        finally:
            if run_workers:
                await workers.stop()
            for hook in app.on_stop:
                await hook()

    api = FastAPI(title="platebot", version="0.1.0", lifespan=lifespan)
    api.state.platebot = app
    api.state.health_checks = []
    health_wait = app.settings.health_wait

    async def database_takes_a_write() -> None:
        probe = functools.partial(health.probe, app.db, app.clock.now(), health_wait)
        await anyio.to_thread.run_sync(probe)

    add_health_check(api, "database", database_takes_a_write)

    @api.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """200 when this server can run turns: the database takes a committed write (a full
        disk refuses it; SQLite's write lock must come free within a few seconds) and every lane
        of dialog turns answers and can write too (on SQLite the SMS turns' own process); 503
        naming the first that cannot."""
        for name, check in health_checks(api):
            try:
                await asyncio.wait_for(check(), health_wait + 1)
            except Exception as error:
                log.warning("health check %s failed: %s", name, describe_error(error))
                return JSONResponse({"status": f"{name} unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    for _name, mount in MOUNTS:
        mount(api, app)
    return api


def create_from_env() -> FastAPI:
    """The uvicorn factory: settings from the environment, database migrated, workers on. On
    SQLite the SMS turns get a process of their own unless ``PLATEBOT_TURN_PROCESS=false``."""
    settings = load_settings()
    if settings.turn_process is None:
        settings = settings.model_copy(update={"turn_process": settings.sqlite_file})
    return create_web_app(build_app(settings))

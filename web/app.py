"""The HTTP app: webhooks (SMS, Telegram), pay pages, the staff API, health.

``platebot serve`` runs it under uvicorn; ``create_from_env`` is the factory uvicorn imports, so
several worker processes each build their own app against the same database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.webhook import mount as mount_telegram
from platebot.bootstrap import App, build_app
from platebot.settings import load_settings
from sms.webhook import mount as mount_sms
from web.staff import mount as mount_staff
from web.workers import Workers

log = logging.getLogger(__name__)

# Each channel or area mounts its routes here: (name, function(api, app)).
Mount = Callable[[FastAPI, App], None]
MOUNTS: list[tuple[str, Mount]] = []
MOUNTS.append(("sms", mount_sms))  # POST /sms/twilio, POST /sms/twilio/status
MOUNTS.append(("telegram", mount_telegram))  # POST /telegram/webhook
MOUNTS.append(("staff", mount_staff))  # /staff/api/… (with PLATEBOT_STAFF_TOKEN)


def create_web_app(app: App, *, run_workers: bool = True) -> FastAPI:
    # With a turn process (SQLite) the background jobs run there, beside the turns.
    workers = Workers([] if app.settings.turn_process else app.jobs)
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

    @api.get("/healthz", tags=["health"])
    def healthz(request: Request) -> JSONResponse:
        """Up, and the database answers (a plain query outside any transaction, so it never
        queues behind a write)."""
        try:
            raw = app.db.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("SELECT 1")
                cursor.close()
            finally:
                raw.close()
        except (sa.exc.SQLAlchemyError, app.db.dialect.loaded_dbapi.Error):
            return JSONResponse({"status": "database unavailable"}, status_code=503)
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

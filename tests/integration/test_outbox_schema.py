"""The outbox's tables as the migration makes them, and what it makes of rows written before:
every account's number and every signed-in Telegram chat become contact points, and waiting
messages keep going (codes first)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from platebot.dispatcher import Dispatcher
from store import migrate
from store.db import create_engine
from store.tables import contact_points, dispatch_lanes, metadata, outbox
from store.uow import UnitOfWorkFactory
from tests.support import CapturingSender


def test_the_migration_makes_the_tables_the_code_uses(db: Engine) -> None:
    ours = {outbox.name, contact_points.name, dispatch_lanes.name}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if any(f"'{name}'" in repr(d) for name in ours)] == []


def test_rows_written_before_the_migration_reach_their_people(tmp_path: Path) -> None:
    db = create_engine(f"sqlite:///{tmp_path}/old.db")
    script = ScriptDirectory.from_config(migrate.alembic_config(db))
    before = script.get_revision("0010_outbox_to_people").down_revision
    assert isinstance(before, str)
    migrate.upgrade(db, before)  # the schema just before this migration
    at = datetime(2026, 11, 20, tzinfo=UTC).isoformat(sep=" ")
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (id, phone, kind, category, name, id_number, region_code, "
                "address, language, window_user, created_at) VALUES (1, '+8613800138000', "
                "'person', 'new_car_owner', '张三', '440304199001011233', '4405', '汕头', 'zh', "
                "0, :at)"
            ),
            {"at": at},
        )
        for user_key, account in (("4242", 1), ("4343", None)):
            conn.execute(
                sa.text(
                    "INSERT INTO conversations (channel, user_key, flow, state, language, data, "
                    "history, returns, choices, account_id, updated_at, expires_at, version) "
                    "VALUES ('telegram', :k, 'menu', 'MAIN', 'zh', '{}', '[]', '[]', '[]', :a, "
                    ":at, :at, 1)"
                ),
                {"k": user_key, "a": account, "at": at},
            )
        for recipient, sensitive in (("+8613900139000", 0), ("+8613800138000", 1)):
            conn.execute(
                sa.text(
                    "INSERT INTO outbox (channel, recipient, key, params, language, sensitive, "
                    "status, attempts, created_at, due_at, meta) VALUES ('sms', :r, 'raw', "
                    ":params, 'zh', :s, 'pending', 0, :at, :at, '{}')"
                ),
                {"r": recipient, "s": sensitive, "at": at, "params": '{"text": "old"}'},
            )
    migrate.upgrade(db)
    with db.connect() as conn:
        points = conn.execute(
            sa.select(
                contact_points.c.channel, contact_points.c.address, contact_points.c.account_id
            )
        ).all()
        keys = conn.execute(sa.select(outbox.c.dedupe_key, outbox.c.priority)).all()
    assert sorted(tuple(p) for p in points) == [
        (Channel.SMS, "+8613800138000", 1),
        (Channel.TELEGRAM, "4242", 1),
    ]
    assert sorted(tuple(k) for k in keys) == [("outbox:1", 20), ("outbox:2", 0)]
    sms = CapturingSender()
    clock = ManualClock()
    Dispatcher(UnitOfWorkFactory(db), clock, {Channel.SMS: sms}).run_once()
    assert [phone for phone, _ in sms.sent] == ["+8613800138000", "+8613900139000"]
    db.dispose()

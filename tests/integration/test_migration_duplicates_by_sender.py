"""Migration 0005 on a database in use: replies kept before it keep recognising a Telegram update
delivered again (their chat is filled in from the answered updates)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import migrate
from store.db import create_engine, scratch_database

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ.get("PLATEBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PLATEBOT_TEST_DATABASE_URL is not set")
    with scratch_database(url, "platebot_migration") as engine:
        yield engine


def test_replies_kept_before_the_upgrade_get_their_sender(empty: Engine) -> None:
    migrate.upgrade(empty, "0003_housekeeping")
    with empty.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO inbound_messages (channel, message_id, reply, received_at) "
                "VALUES ('telegram', 'u77', '{}', :at), ('sms', 'SM1', '{}', :at)"
            ),
            {"at": WHEN},
        )
        conn.execute(
            sa.text(
                "INSERT INTO telegram_updates (update_id, chat_id, answered_at) "
                "VALUES (77, '4242', :at)"
            ),
            {"at": WHEN},
        )
    migrate.upgrade(empty)
    with empty.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT channel, user_key, message_id FROM inbound_messages ORDER BY channel")
        ).all()
    assert [tuple(row) for row in rows] == [("sms", "", "SM1"), ("telegram", "4242", "u77")]

"""The Telegram tables the migration makes are the ones the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.tables import metadata
from store.telegram_tables import telegram_chats, telegram_updates


def test_migration_0002_telegram_matches_the_tables(db: Engine) -> None:
    ours = {telegram_chats.name, telegram_updates.name}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    def touches_ours(difference: object) -> bool:
        return any(name in repr(difference) for name in ours)

    assert [d for d in differences if touches_ours(d)] == []

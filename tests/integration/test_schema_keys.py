"""The tables the migrations make are the ones the code uses, down to their primary keys: a
message is recognised as delivered twice by its sender and its id."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.health import health_probes
from store.sms_tables import sms_inbound
from store.tables import inbound_messages, metadata
from store.telegram_tables import telegram_updates

OURS = [inbound_messages, sms_inbound, telegram_updates, health_probes]


def test_migrated_tables_match_the_code_with_their_primary_keys(db: Engine) -> None:
    names = {table.name for table in OURS}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if any(name in repr(d) for name in names)] == []
    inspector = sa.inspect(db)
    for table in OURS:
        migrated = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert migrated == [column.name for column in table.primary_key.columns], table.name

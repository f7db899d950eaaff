"""The reservation table the migration makes is the one the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.reservation_tables import LIVE_WHERE, reservations
from store.tables import metadata


def test_migration_0017_reservations_matches_the_table(db: Engine) -> None:
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if f"'{reservations.name}'" in repr(d)] == []


def test_the_migration_and_the_table_name_the_same_live_states() -> None:
    assert LIVE_WHERE == "state IN ('approved', 'paid', 'pending', 'placed')"

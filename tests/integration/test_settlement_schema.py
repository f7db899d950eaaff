"""The settlement tables (and the orders' ``kept`` column) the migration makes are the ones the
code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.order_tables import orders
from store.settlement_tables import auction_refunds, auction_settlements
from store.tables import metadata


def _differences(db: Engine) -> list[object]:
    ours = {orders.name, auction_settlements.name, auction_refunds.name}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    return [d for d in differences if any(f"'{name}'" in repr(d) for name in ours)]


def test_migration_0013_settlement_matches_the_tables(db: Engine) -> None:
    assert _differences(db) == []

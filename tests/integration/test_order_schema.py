"""The order tables the migration makes are the ones the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.order_tables import order_moves, orders, payment_callbacks
from store.tables import metadata


def test_the_order_migrations_match_the_tables(db: Engine) -> None:
    ours = {orders.name, order_moves.name, payment_callbacks.name}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    def touches_ours(difference: object) -> bool:
        return any(f"'{name}'" in repr(difference) for name in ours)

    assert [d for d in differences if touches_ours(d)] == []

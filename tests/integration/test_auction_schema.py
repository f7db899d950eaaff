"""The auction tables the migration makes are the ones the code uses, and the lots' close is one
of the timer steps every server process runs."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from core.bidding import close_due_lots
from core.wiring import wire_core
from store.auction_tables import (
    auction_bids,
    auction_lots,
    auction_maxima,
    auction_periods,
    auction_shares,
    auction_signups,
)
from store.tables import metadata

OURS = {
    table.name
    for table in (
        auction_periods,
        auction_lots,
        auction_signups,
        auction_shares,
        auction_maxima,
        auction_bids,
    )
}


def test_migration_0009_auctions_matches_the_tables(db: Engine) -> None:
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if any(name in repr(d) for name in OURS)] == []


def test_the_timers_close_auction_lots() -> None:
    assert close_due_lots in [step.run for step in wire_core().timers]

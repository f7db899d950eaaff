"""The staff tables the migration makes are the ones the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from store.staff_tables import staff_audit, staff_members, staff_sign_ins
from store.tables import metadata


def test_migration_0018_staff_accounts_matches_the_tables(db: Engine) -> None:
    ours = {staff_members.name, staff_sign_ins.name, staff_audit.name}
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    def touches_ours(difference: object) -> bool:
        return any(f"'{name}'" in repr(difference) for name in ours)

    assert [d for d in differences if touches_ours(d)] == []

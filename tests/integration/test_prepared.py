"""Prepared statements (the dialog turn's hot path) store and read exactly what SQLAlchemy would,
inside the unit of work's transaction, and fail the way SQLAlchemy fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine

from core.outbox import Channel, OutboxStatus
from store.prepared import Prepared
from store.tables import inbound_messages, outbox

_KEYS = [c.name for c in outbox.columns if c.name != "id"]
_INSERT = Prepared(sa.insert(outbox).returning(outbox.c.id), column_keys=_KEYS)
_READ = Prepared(
    sa.select(outbox, sa.literal(7).label("seven")).where(outbox.c.id == sa.bindparam("id"))
)
_BY_RECIPIENT = Prepared(
    sa.select(outbox.c.id)
    .where(outbox.c.recipient == sa.bindparam("who"), outbox.c.key == sa.bindparam("who"))
    .order_by(outbox.c.id)
    .limit(5)
)
_RECORD = Prepared(sa.insert(inbound_messages))

CHINA = timezone(timedelta(hours=8))


def _row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "channel": Channel.SMS,
        "recipient": "+8613800138000",
        "key": "sms.code",
        "params": {"code": "123456", "名": ["粤B", 1, None], "x\udc80": True},
        "language": "zh",
        "sensitive": True,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "created_at": datetime(2026, 11, 21, 8, 0, 0, 123456, tzinfo=CHINA),
        "due_at": datetime(2026, 11, 21, 0, 0, tzinfo=UTC),
        "sent_at": None,
        "last_error": None,
        "provider_id": None,
        "account_id": None,
        "choices": [],
        "dedupe_key": "code:1",
        "priority": 0,
        "live_key": None,
        "coalesce_key": None,
        "sending_since": None,
        "in_doubt": False,
        "broadcast_id": None,
    }
    row.update(changes)
    return row


def test_a_row_written_and_read_back_as_sqlalchemy_would(db: SqlEngine) -> None:
    with db.connect() as connection:
        new_id = _INSERT.run(connection, _row()).scalar()
        connection.commit()
        prepared = _READ.run(connection, {"id": new_id}).first()
        orm_like = connection.execute(sa.select(outbox).where(outbox.c.id == new_id)).one()

    assert prepared is not None
    assert {k: v for k, v in prepared.items() if k != "seven"} == dict(orm_like._mapping)
    assert prepared["seven"] == 7
    assert prepared["created_at"] == datetime(2026, 11, 21, 0, 0, 0, 123456, tzinfo=UTC)
    assert prepared["created_at"].tzinfo is UTC
    assert prepared["status"] is OutboxStatus.PENDING
    assert prepared["params"]["名"] == ["粤B", 1, None]


def test_a_parameter_used_twice_and_a_limit_in_the_statement(db: SqlEngine) -> None:
    with db.connect() as connection:
        ids = [
            _INSERT.run(connection, _row(recipient="k", key="k", dedupe_key=f"k{n}")).scalar()
            for n in range(7)
        ]
        _INSERT.run(connection, _row(recipient="k", key="other")).scalar()
        found = list(_BY_RECIPIENT.run(connection, {"who": "k"}).scalars())
    assert found == ids[:5]


def test_it_runs_inside_the_transaction_and_a_rollback_undoes_it(db: SqlEngine) -> None:
    with db.connect() as connection:
        _INSERT.run(connection, _row())
        assert connection.in_transaction()
        connection.rollback()
    with db.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_a_constraint_violation_is_sqlalchemys_integrity_error(db: SqlEngine) -> None:
    values = {
        "channel": "sms",
        "user_key": "+8613800138000",
        "message_id": "SM1",
        "reply": {},
        "received_at": datetime.now(UTC),
    }
    with db.connect() as connection:
        assert _RECORD.write(connection, values) == 1
        with pytest.raises(sa.exc.IntegrityError) as raised:
            _RECORD.write(connection, values)
    assert "SM1" not in str(raised.value).split("[SQL:")[-1]  # parameters are not shown


def test_a_naive_datetime_is_refused(db: SqlEngine) -> None:
    with db.connect() as connection, pytest.raises(ValueError, match="naive"):
        _INSERT.run(connection, _row(created_at=datetime(2026, 11, 21)))  # noqa: DTZ001 - naive on purpose


def test_a_value_left_out_is_refused_by_name_and_nothing_is_written(db: SqlEngine) -> None:
    """As SQLAlchemy refuses it: a column left out is never stored as whatever the driver makes
    of a placeholder (PostgreSQL read one as an out-of-range integer)."""
    row = _row()
    del row["broadcast_id"], row["priority"]
    with db.connect() as connection:
        with pytest.raises(sa.exc.InvalidRequestError, match="broadcast_id', 'priority"):
            _INSERT.run(connection, row)
        connection.rollback()
        assert connection.scalar(sa.select(sa.func.count()).select_from(outbox)) == 0


def test_a_lost_connection_is_not_given_back_to_the_pool(db: SqlEngine) -> None:
    """PostgreSQL: a server that dropped the connection (a restart, say) costs one failed
    statement; the pool hands out a working connection next."""
    if db.dialect.name != "postgresql":
        pytest.skip("a server to drop the connection is PostgreSQL's")
    with db.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        connection.commit()
        with db.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa.exc.DBAPIError) as raised:
            _INSERT.run(connection, _row())
        assert raised.value.connection_invalidated and connection.invalidated
    with db.connect() as connection:
        assert _INSERT.run(connection, _row()).scalar() is not None

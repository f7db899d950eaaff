"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from store.pool_repository import SqlPoolRepository
from store.preselection_repositories import (
    SqlBlacklistRepository,
    SqlInfoRepository,
    SqlOfficeRepository,
    SqlPreselectionRepository,
    SqlRegistryRepository,
    SqlSessionRepository,
)
from store.repositories import (
    SqlAccountRepository,
    SqlCodeRepository,
    SqlConversationRepository,
    SqlInboundLog,
    SqlOutboxRepository,
)
from store.tables import map_entities


class SqlUnitOfWork:
    accounts: SqlAccountRepository
    codes: SqlCodeRepository
    outbox: SqlOutboxRepository
    conversations: SqlConversationRepository
    inbound: SqlInboundLog
    offices: SqlOfficeRepository
    pool: SqlPoolRepository
    registry: SqlRegistryRepository
    preselections: SqlPreselectionRepository
    sessions: SqlSessionRepository
    blacklist: SqlBlacklistRepository
    info: SqlInfoRepository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.connection: Connection | None = None
        self.session: Session | None = None

    def __enter__(self) -> Self:
        # The transaction belongs to a Core connection and starts with the first statement
        # (BEGIN IMMEDIATE on SQLite); the ORM session joins it when an entity is needed. Plain
        # SQL on the hot path (a dialog turn) so pays nothing for the ORM's bookkeeping.
        connection = self.connection = self._engine.connect()
        session = self.session = Session(
            bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False
        )
        self.accounts = SqlAccountRepository(session)
        self.codes = SqlCodeRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.conversations = SqlConversationRepository(session)
        self.inbound = SqlInboundLog(session)
        self.offices = SqlOfficeRepository(session)
        self.pool = SqlPoolRepository(session)
        self.registry = SqlRegistryRepository(session)
        self.preselections = SqlPreselectionRepository(session)
        self.sessions = SqlSessionRepository(session)
        self.blacklist = SqlBlacklistRepository(session)
        self.info = SqlInfoRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, session = self.connection, self.session
        self.connection = self.session = None
        if connection is None or session is None:
            return
        try:
            session.close()
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        """Make the transaction's work permanent (one unit of work, one commit)."""
        session, connection = self._open()
        session.flush()
        if connection.in_transaction():
            connection.commit()

    def rollback(self) -> None:
        session, connection = self._open()
        session.expunge_all()
        if connection.in_transaction():
            connection.rollback()

    def _open(self) -> tuple[Session, Connection]:
        if self.session is None or self.connection is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self.session, self.connection


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use; holds the engine's session factory."""

    def __init__(self, engine: Engine) -> None:
        map_entities()
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

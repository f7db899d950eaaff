"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from store.preselection_repositories import (
    SqlBlacklistRepository,
    SqlInfoRepository,
    SqlOfficeRepository,
    SqlPoolRepository,
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

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session | None = None

    def __enter__(self) -> Self:
        session = self.session = self._factory()
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
        session = self._session()
        try:
            session.rollback()
        finally:
            session.close()
            self.session = None

    def commit(self) -> None:
        self._session().commit()

    def rollback(self) -> None:
        self._session().rollback()

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self.session


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use; holds the engine's session factory."""

    def __init__(self, engine: Engine) -> None:
        map_entities()
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

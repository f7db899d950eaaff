"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import Self

from sqlalchemy.engine import Connection, Engine

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
    Scope,
    SqlAccountRepository,
    SqlCodeRepository,
    SqlConversationRepository,
    SqlInboundLog,
    SqlOutboxRepository,
)
from store.tables import map_entities


class SqlUnitOfWork:
    """One transaction on one Core connection; it starts with the first statement (``BEGIN
    IMMEDIATE`` on SQLite). Repositories are made when first used, and the ORM session only when
    a repository needs an entity: a dialog turn runs plain prebuilt SQL and pays nothing for the
    ORM's bookkeeping."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._scope: Scope | None = None

    def __enter__(self) -> Self:
        if self._scope is not None:
            raise RuntimeError("this unit of work is open already")
        self._scope = Scope(self._engine.connect())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope, self._scope = self._scope, None
        for name in _REPOSITORIES:  # made for that transaction: a new one gets new ones
            self.__dict__.pop(name, None)
        if scope is not None:
            scope.close()

    @property
    def connection(self) -> Connection:
        return self._open().connection

    def commit(self) -> None:
        """Make the transaction's work permanent (one unit of work, one commit)."""
        self._open().commit()

    def rollback(self) -> None:
        self._open().rollback()

    def _open(self) -> Scope:
        if self._scope is None:
            raise RuntimeError("the unit of work is used outside its 'with' block")
        return self._scope

    # -- repositories, made on first use -------------------------------------------------

    @cached_property
    def accounts(self) -> SqlAccountRepository:
        return SqlAccountRepository(self._open())

    @cached_property
    def codes(self) -> SqlCodeRepository:
        return SqlCodeRepository(self._open())

    @cached_property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self._open())

    @cached_property
    def conversations(self) -> SqlConversationRepository:
        return SqlConversationRepository(self._open().connection)

    @cached_property
    def inbound(self) -> SqlInboundLog:
        return SqlInboundLog(self._open().connection)

    @cached_property
    def offices(self) -> SqlOfficeRepository:
        return SqlOfficeRepository(self._open().session)

    @cached_property
    def pool(self) -> SqlPoolRepository:
        return SqlPoolRepository(self._open().session)

    @cached_property
    def registry(self) -> SqlRegistryRepository:
        return SqlRegistryRepository(self._open().session)

    @cached_property
    def preselections(self) -> SqlPreselectionRepository:
        return SqlPreselectionRepository(self._open().session)

    @cached_property
    def sessions(self) -> SqlSessionRepository:
        return SqlSessionRepository(self._open().session)

    @cached_property
    def blacklist(self) -> SqlBlacklistRepository:
        return SqlBlacklistRepository(self._open().session)

    @cached_property
    def info(self) -> SqlInfoRepository:
        return SqlInfoRepository(self._open().session)


_REPOSITORIES = tuple(
    name for name, value in vars(SqlUnitOfWork).items() if isinstance(value, cached_property)
)


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use."""

    def __init__(self, engine: Engine) -> None:
        map_entities()
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

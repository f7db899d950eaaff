"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar, cast, overload

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

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the unit of work's open transaction, made when first used and gone with
    the transaction (it is kept in the transaction's ``Scope``)."""

    def __init__(self, make: Callable[[Scope], R]) -> None:
        self.make = make
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...
    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type) -> R: ...
    def __get__(self, uow: SqlUnitOfWork | None, owner: type) -> Self | R:
        if uow is None:
            return self
        scope = uow._open()
        if self.name not in scope.repositories:
            scope.repositories[self.name] = self.make(scope)
        return cast(R, scope.repositories[self.name])


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

    # -- repositories of the open transaction, made on first use ----------------------------

    accounts = _Repository(SqlAccountRepository)
    codes = _Repository(SqlCodeRepository)
    outbox = _Repository(SqlOutboxRepository)
    conversations = _Repository(lambda scope: SqlConversationRepository(scope.connection))
    inbound = _Repository(lambda scope: SqlInboundLog(scope.connection))
    offices = _Repository(lambda scope: SqlOfficeRepository(scope.session))
    pool = _Repository(lambda scope: SqlPoolRepository(scope.session))
    registry = _Repository(lambda scope: SqlRegistryRepository(scope.session))
    preselections = _Repository(lambda scope: SqlPreselectionRepository(scope.session))
    sessions = _Repository(lambda scope: SqlSessionRepository(scope.session))
    blacklist = _Repository(lambda scope: SqlBlacklistRepository(scope.session))
    info = _Repository(lambda scope: SqlInfoRepository(scope.session))


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use."""

    def __init__(self, engine: Engine) -> None:
        map_entities()
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Generic, Self, TypeVar, cast, overload

from sqlalchemy.engine import Connection, Engine

from core.events import Event, EventBus
from core.outbox import Channel
from core.wiring import wire_core
from store.auction_repository import SqlAuctionRepository
from store.broadcast_repository import SqlBroadcastRepository
from store.order_repositories import SqlOrderRepository, SqlPaymentCallbackRepository
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
    ALL_CHANNELS,
    Scope,
    SqlAccountRepository,
    SqlCodeRepository,
    SqlContactRepository,
    SqlConversationRepository,
    SqlInboundLog,
    SqlOutboxRepository,
)
from store.reservation_repository import SqlReservationRepository
from store.room_repository import SqlRoomRepository
from store.sale_repository import SqlSaleRepository
from store.settlement_repository import SqlSettlementRepository
from store.staff_repository import SqlStaffRepository
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

    def __init__(
        self,
        engine: Engine,
        kept: KeptConnection | None = None,
        bus: EventBus | None = None,
        channels: Collection[Channel] = ALL_CHANNELS,
    ) -> None:
        self._engine = engine
        self._kept = kept
        self._bus = bus if bus is not None else wire_core().bus
        self._channels = channels
        self._scope: Scope | None = None
        self._borrowed: Connection | None = None
        self._events: list[Event] = []

    def __enter__(self) -> Self:
        if self._scope is not None:
            raise RuntimeError("this unit of work is open already")
        self._borrowed = self._kept.borrow() if self._kept is not None else None
        self._scope = Scope(self._borrowed or self._engine.connect(), self._channels)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope, self._scope = self._scope, None
        borrowed, self._borrowed = self._borrowed, None
        self._events.clear()  # recorded and not committed: gone with the transaction
        if scope is None:
            return
        if borrowed is None:
            scope.close()
            return
        try:
            if exc_type is None:
                scope.end()  # the connection stays open for the next unit of work
            if exc_type is not None or scope.connection.get_transaction() is not None:
                # A unit of work that failed may leave its connection inside a transaction
                # SQLAlchemy no longer ends: a commit the database refused (a full disk) leaves
                # the driver's transaction open and SQLAlchemy's marked inactive, so every later
                # unit of work would fail to begin. Closed, it goes back to the pool, which rolls
                # the driver back (``store.db``); the next unit of work takes one afresh.
                scope.close()
        except BaseException:
            scope.connection.close()  # in doubt, the next unit of work gets a new one
            raise
        finally:
            if self._kept is not None:
                self._kept.give_back()

    @property
    def connection(self) -> Connection:
        return self._open().connection

    def record(self, event: Event) -> None:
        self._open()
        self._events.append(event)

    def commit(self) -> None:
        """Run the handlers of the recorded events in this transaction, then make the
        transaction's work permanent (one unit of work, one commit). A handler that raises
        leaves nothing committed."""
        scope = self._open()
        self._bus.run(self, self._take_events)
        scope.commit()

    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

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
    contacts = _Repository(SqlContactRepository)
    conversations = _Repository(lambda scope: SqlConversationRepository(scope.connection))
    inbound = _Repository(lambda scope: SqlInboundLog(scope.connection))
    offices = _Repository(lambda scope: SqlOfficeRepository(scope.session))
    pool = _Repository(lambda scope: SqlPoolRepository(scope.session))
    registry = _Repository(lambda scope: SqlRegistryRepository(scope.session))
    preselections = _Repository(lambda scope: SqlPreselectionRepository(scope.session))
    sessions = _Repository(lambda scope: SqlSessionRepository(scope.session))
    blacklist = _Repository(lambda scope: SqlBlacklistRepository(scope.session))
    info = _Repository(lambda scope: SqlInfoRepository(scope.session))
    auctions = _Repository(SqlAuctionRepository)
    settlements = _Repository(SqlSettlementRepository)
    room = _Repository(SqlRoomRepository)
    orders = _Repository(lambda scope: SqlOrderRepository(scope.session))
    payments = _Repository(lambda scope: SqlPaymentCallbackRepository(scope.session))
    sales = _Repository(lambda scope: SqlSaleRepository(scope.session))
    reservations = _Repository(lambda scope: SqlReservationRepository(scope.session))
    broadcasts = _Repository(SqlBroadcastRepository)
    staff = _Repository(SqlStaffRepository)


class KeptConnection:
    """One connection kept open from one unit of work to the next. Taking a connection from the
    pool and giving it back costs a dialog turn about a fifth of its CPU on SQLite (SQLAlchemy's
    checkout, its reset on return); a process that runs turns one after the other (the turn
    process) keeps one instead. A unit of work that finds it in use (opened inside another)
    takes one from the pool as usual."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def borrow(self) -> Connection | None:
        if not self._lock.acquire(blocking=False):
            return None
        try:
            connection = self._connection
            if connection is None or connection.closed or connection.invalidated:
                connection = self._connection = self.engine.connect()
        except BaseException:
            self._lock.release()
            raise
        return connection

    def give_back(self) -> None:
        self._lock.release()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per use. ``keep_connection``: its units of work run on one
    connection kept open between them (``KeptConnection``), for a process whose turns come one
    after the other. ``channels``: the channels the server sends on (``Settings.channels``);
    notices and broadcasts are routed as if a contact point on any other could not be reached
    (a chat linked before, while Telegram is off: its notices go by SMS)."""

    def __init__(
        self,
        engine: Engine,
        *,
        keep_connection: bool = False,
        bus: EventBus | None = None,
        channels: Collection[Channel] = ALL_CHANNELS,
    ) -> None:
        map_entities()
        self.engine = engine
        self.kept = KeptConnection(engine) if keep_connection else None
        self.bus = bus if bus is not None else wire_core().bus
        self.channels = frozenset(channels)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.kept, self.bus, self.channels)

"""What core needs from the outside world, as protocols. ``store/`` implements them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from core.accounts import Account, Language
from core.auction_ports import AuctionRepository
from core.broadcast_ports import BroadcastRepository
from core.events import Event
from core.notices import ContactPoint
from core.order_ports import OrderRepository, PaymentCallbackRepository
from core.otp import OneTimeCode, Sent
from core.outbox import Channel, Due, OutboxMessage, OutboxStatus, Outcome, Outgoing
from core.plate_ports import (
    BlacklistRepository,
    InfoRepository,
    OfficeRepository,
    PoolRepository,
    PreselectionRepository,
    RegistryRepository,
    SessionRepository,
)
from core.reservation_ports import ReservationRepository
from core.room_ports import RoomRepository
from core.sale_ports import SaleRepository
from core.settlement_ports import SettlementRepository
from core.staff import StaffRepository


class StoreBusy(Exception):
    """The store could not begin the transaction in time: another writer holds the database
    (SQLite's one write lock). Nothing was done; the caller may tell the user to try again."""


class AccountRepository(Protocol):
    def add(self, account: Account) -> None:
        """Store a new account; it gets its id. Load it with ``get`` to change it later."""
        ...

    def get(self, account_id: int) -> Account | None: ...
    def view(self, account_id: int) -> Account | None:
        """The account as stored, to read: changes to it are not saved (``get`` for that)."""
        ...

    def views(self, account_ids: Collection[int]) -> dict[int, Account]:
        """``view`` of many accounts at once, by id (those that exist): one query for a notice
        to many bidders, not one per account."""
        ...

    def set_language(self, account_id: int, language: Language) -> None: ...
    def by_phone(self, phone: str) -> Account | None: ...
    def id_by_phone(self, phone: str) -> int | None: ...


class CodeRepository(Protocol):
    def lock_phone(self, phone: str) -> None:
        """Hold off other transactions working on this number's codes until this one ends."""
        ...

    def add(self, code: OneTimeCode) -> None: ...
    def latest(self, phone: str, purpose: str, requester: str) -> OneTimeCode | None: ...
    def save(self, code: OneTimeCode) -> None:
        """Write back what checking ``code`` changed (wrong entries, used)."""
        ...

    def sent_since(self, phone: str, requester: str, since: datetime) -> list[Sent]:
        """Codes sent to ``phone`` or asked for by ``requester`` since ``since``."""
        ...

    def verified_since(self, phone: str, requester: str, since: datetime) -> bool:
        """Whether ``requester`` entered a right code for ``phone`` since ``since``."""
        ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> bool:
        """Insert ``message`` unless a row with its ``dedupe_key`` is there already (then
        nothing is written: False). A message that updates a live message replaces the pending
        updates of it (they are settled as skipped): only the latest is sent. A message with a
        ``coalesce_key`` takes the place of the pending message with that key, in its row (True),
        unless its own ``dedupe_key`` is taken, or the pending one was written after it (two
        server processes telling one bidder's changes at once): then nothing is written
        (False)."""
        ...

    def withdraw(self, coalesce_key: str, *, written_by: datetime, reason: str) -> int:
        """The pending messages under ``coalesce_key`` written by ``written_by`` are
        not sent (settled as skipped, for ``reason``); how many."""
        ...

    def lead(
        self,
        channel: Channel,
        holder: str,
        now: datetime,
        until: datetime,
        *,
        ask_until: datetime | None = None,
    ) -> bool:
        """Whether ``holder`` is the one dispatcher of ``channel`` (of all server processes)
        until ``until``: it was, or the last one's lease ran out. With ``ask_until``, a
        dispatcher that finds it held by another while it holds no lane asks for it until then;
        a holder of two lanes hands an asked-for one over (and is told False)."""
        ...

    def let_go(self, holder: str, now: datetime) -> None:
        """``holder`` stops: the lanes it holds are free from ``now``, and it asks for none."""
        ...

    def lane_free(self, channel: Channel, since: datetime) -> bool:
        """Whether no dispatcher has held ``channel``'s lane since ``since``: it never was, or
        its last lease ran out by then (nobody sends on the channel)."""
        ...

    def claim_due(self, channel: Channel, now: datetime, limit: int) -> Sequence[Due]:
        """The channel's due messages (pending, or claimed under a lease that ran out), most
        urgent first (priority, then due time), locked until the transaction ends; other
        dispatchers skip them meanwhile."""
        ...

    def update_all(self, changes: Sequence[tuple[OutboxMessage, OutboxStatus, int]]) -> set[int]:
        """Write back what the messages' methods changed, each only if its row still has the
        status and the attempts given with it (the ones it was read or claimed with); returns
        the ids of the rows written. A row that has moved on (claimed again by another
        dispatcher after this one's lease ran out) is left as it is."""
        ...

    def opted_out(self, channel: Channel, recipients: Collection[str]) -> set[str]:
        """Which of the recipients asked for no more messages on the channel (SMS: STOP)."""
        ...


class ContactRepository(Protocol):
    """Where an account can be reached: its SMS number and linked Telegram chats, each with
    whether it is reachable now (not opted out, not blocked, and on a channel the server sends
    on: no chat is while it runs without Telegram)."""

    def of_account(self, account_id: int) -> list[ContactPoint]: ...
    def link(self, *, channel: str, address: str, account_id: int, now: datetime) -> None:
        """``address`` on ``channel`` reaches ``account_id`` from now on (a chat signed in).
        An account's SMS number is its own phone, written with the account: a conversation by
        SMS, or on a channel the outbox does not send on (the console), links nothing."""
        ...


class Sender(Protocol):
    """A channel's way out (Twilio, the Bot API, the log): ``bot/`` and ``sms/`` implement it."""

    def send(self, message: Outgoing) -> Outcome:
        """Deliver ``message``; never raises for a delivery problem, returns it (``Sent`` with
        the provider's id of the message)."""
        ...


@runtime_checkable
class Reconciling(Protocol):
    """A sender whose provider can say whether it already has a message (Twilio's Messages
    list): asked before a message in doubt (claimed, sent perhaps, never settled) goes again."""

    def find_sent(self, message: Outgoing) -> Outcome | None:
        """``Sent`` if the provider has it, None if it certainly does not, ``RetryLater`` if it
        cannot tell now."""
        ...


class UnitOfWork(Protocol):
    """One transaction. ``with uow: ...; uow.commit()``; leaving without commit rolls back.
    A unit of work is committed (or rolled back) once; more work needs a new one."""

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def codes(self) -> CodeRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def contacts(self) -> ContactRepository: ...
    # offices, pools, the vehicle registry, pre-selections, information (core.plate_ports)
    @property
    def offices(self) -> OfficeRepository: ...
    @property
    def pool(self) -> PoolRepository: ...
    @property
    def registry(self) -> RegistryRepository: ...
    @property
    def preselections(self) -> PreselectionRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def blacklist(self) -> BlacklistRepository: ...
    @property
    def info(self) -> InfoRepository: ...
    @property
    def auctions(self) -> AuctionRepository: ...
    @property
    def settlements(self) -> SettlementRepository: ...
    @property
    def room(self) -> RoomRepository: ...
    # orders, their ledger and the payment callbacks taken (core.order_ports)
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def payments(self) -> PaymentCallbackRepository: ...
    # plates for sale (core.sale_ports)
    @property
    def sales(self) -> SaleRepository: ...
    @property
    def reservations(self) -> ReservationRepository: ...
    @property
    def broadcasts(self) -> BroadcastRepository: ...
    @property
    def staff(self) -> StaffRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def record(self, event: Event) -> None:
        """Note that ``event`` happened; its handlers run in this transaction at ``commit``."""
        ...

    def commit(self) -> None:
        """Run the handlers of the recorded events, then make all of it permanent."""
        ...

    def rollback(self) -> None: ...

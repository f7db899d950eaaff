"""What staff broadcasts (``core.broadcasts``) keep and need from the store: the broadcast, its
audience, the recipients the store finds, the counts of its deliveries, and the repository."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from core.accounts import Language
from core.errors import DomainError
from core.outbox import Channel, OutboxMessage
from core.staff import NotAllowed

# Where a paused broadcast's waiting rows are due: never, until they are released.
HELD = datetime(9000, 1, 1, tzinfo=UTC)

# Why a recipient's row was settled without sending (``OutboxMessage.last_error``). The first is
# also the dispatcher's own reason for a number that sent STOP after the row was written.
OPTED_OUT = "the recipient opted out (STOP)"
BLOCKED = "the chat blocked the bot"
NO_CHAT = "no Telegram chat linked"  # Telegram only: the row's address is the account's number
# Telegram only, on a server without Telegram (no bot token): nobody can be reached, as NO_CHAT.
TELEGRAM_OFF = "Telegram is not configured on this server"
CANCELLED = "the broadcast was cancelled"


class BroadcastState(enum.StrEnum):
    DRAFT = "draft"  # composed, previewed, not sent
    SCHEDULED = "scheduled"  # to start at ``send_at``
    SENDING = "sending"  # its rows are in the outbox (finished when none is left)
    PAUSED = "paused"
    CANCELLED = "cancelled"


class AudienceKind(enum.StrEnum):
    EVERYONE = "everyone"
    REGION = "region"  # accounts of one region (``region_code``)
    BIDDERS = "bidders"  # active signups of one auction period (``period_id``)
    UNFINISHED_ORDERS = "unfinished_orders"  # accounts with a pending order
    NUMBERS = "numbers"  # a list of phone numbers (a CSV)


class Channels(enum.StrEnum):
    TELEGRAM_ELSE_SMS = "telegram_else_sms"
    SMS = "sms"
    TELEGRAM = "telegram"


# -- refusals -------------------------------------------------------------------------------


class BroadcastNotFound(DomainError):
    code = "broadcast.not_found"


class BroadcastTextInvalid(DomainError):
    """A text is empty or too long (``language``, ``maximum``)."""

    code = "broadcast.text_invalid"


class AudienceInvalid(DomainError):
    """The audience names no region or period, an unknown one, or a list without numbers."""

    code = "broadcast.audience_invalid"


class AudienceMismatch(DomainError):
    """A region, a period or numbers (``given_key``) for an audience that does not use them
    (``audience_key``)."""

    code = "broadcast.audience_mismatch"


class NumbersInvalid(DomainError):
    """Lines of the list of numbers that are not mobile numbers (``lines``: the first few)."""

    code = "broadcast.numbers_invalid"


class AnnouncementTooLong(DomainError):
    """An announcement's title and text in one language (``language_key``) are longer than a
    broadcast takes (``maximum``)."""

    code = "broadcast.announcement_too_long"


class RegionAmbiguous(DomainError):
    """A region's name that fits several (``query``; ``choices``: their codes and names)."""

    code = "broadcast.region_ambiguous"


class BroadcastStateRefused(DomainError):
    """Not possible in the broadcast's state (``state_key``: ``broadcast.state.<state>``, or
    ``…finished`` for one sending with nothing left), e.g. resuming one not paused."""

    code = "broadcast.wrong_state"


class SendTimePassed(DomainError):
    code = "broadcast.send_time_passed"


# What a supervisor may not send for their office (``office``), refused as their role is (the
# console answers 403): the broadcasts of all offices are an admin's.


class EveryoneNotForAnOffice(NotAllowed):
    """Everyone is every office's people; an office's own are its region (``region``)."""

    code = "broadcast.everyone_not_for_an_office"


class RegionNotYours(NotAllowed):
    """A region (``region``) that is not the one the office serves (``own``)."""

    code = "broadcast.region_not_yours"


class PeriodNotYours(NotAllowed):
    """An auction period (``period``) with lots of other offices, or none yet: its bidders are
    not the office's alone."""

    code = "broadcast.period_not_yours"


# -- what is kept ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    region_code: str | None = None
    period_id: int | None = None
    phones: tuple[str, ...] = ()
    # Unfinished orders: only the orders at this office (None: at every office). Staff never
    # give it: it is the office of the broadcast (``core.broadcasts.compose``).
    office_code: str | None = None

    def describe(self) -> str:
        """For staff, e.g. ``region 4405``, ``bidders of period 3``, ``12 numbers``,
        ``unfinished orders at 粤D``."""
        if self.kind is AudienceKind.REGION:
            return f"region {self.region_code}"
        if self.kind is AudienceKind.BIDDERS:
            return f"bidders of period {self.period_id}"
        if self.kind is AudienceKind.NUMBERS:
            count = len(self.phones)
            return f"{count} number" if count == 1 else f"{count} numbers"
        if self.kind is AudienceKind.UNFINISHED_ORDERS and self.office_code:
            return f"unfinished orders at {self.office_code}"
        return self.kind.value.replace("_", " ")


@dataclass(eq=False)
class Broadcast:
    text_zh: str
    text_en: str
    audience_kind: AudienceKind
    channels: Channels
    created_by: str
    created_at: datetime
    region_code: str | None = None
    period_id: int | None = None
    phones: list[str] = field(default_factory=list)
    # The office it belongs to (a supervisor's); None: every office's (an admin's). Only staff
    # of that office, and admins, see it and act on it.
    office_code: str | None = None
    state: BroadcastState = BroadcastState.DRAFT
    send_at: datetime | None = None
    started_at: datetime | None = None
    paused_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: int | None = None

    @property
    def audience(self) -> Audience:
        orders_at = (
            self.office_code if self.audience_kind is AudienceKind.UNFINISHED_ORDERS else None
        )
        return Audience(
            self.audience_kind, self.region_code, self.period_id, tuple(self.phones), orders_at
        )

    def text(self, language: Language) -> str:
        return self.text_en if language is Language.EN else self.text_zh

    def _refuse_unless(self, *states: BroadcastState) -> None:
        if self.state not in states:
            raise BroadcastStateRefused(state_key=f"broadcast.state.{self.state.value}")


class RouteCount(NamedTuple):
    """How many recipients of an audience go one way (the store routes them, ``routes``):
    ``skip`` why they are passed over (``OPTED_OUT``, ``BLOCKED``, ``NO_CHAT``: no chat linked,
    for Telegram only, ``TELEGRAM_OFF``), None for those who are sent it."""

    channel: Channel
    language: Language
    skip: str | None
    recipients: int


# -- the store's side --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """A broadcast's rows counted by outcome (``since``: sent from then on, for the rate)."""

    total: int = 0
    sent: int = 0
    delivered: int = 0  # SMS the provider reported delivered, Telegram messages the API took
    failed: int = 0  # settled as failed, or SMS the provider reported undelivered
    opted_out: int = 0  # SMS numbers that sent STOP
    blocked: int = 0  # chats that blocked the bot (Telegram only)
    unreachable: int = 0  # accounts without a chat (Telegram only)
    cancelled: int = 0
    left: int = 0  # still to send (pending, claimed, held)
    sent_recently: int = 0


@dataclass(frozen=True)
class Outcome:
    """One recipient's row in a report."""

    channel: Channel
    address: str
    account_id: int | None
    language: Language
    status: str  # the outbox row's status
    delivery: str | None  # what the provider's status callback said last (SMS)
    error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class DayCounts:
    """What happened in one day (staff's ``/stats``)."""

    registrations: int  # accounts opened
    preselections: int  # pre-selections started
    sales: int  # plates paid for: fixed-price purchases and auction balances
    bids: int  # accepted auction bids


class BroadcastRepository(Protocol):
    def add(self, broadcast: Broadcast) -> None: ...
    def get(self, broadcast_id: int, *, lock: bool = False) -> Broadcast | None:
        """The broadcast, tracked (changes are saved at commit); ``lock``: row-locked."""
        ...

    def recent(self, limit: int, office_code: str | None) -> Sequence[Broadcast]:
        """Newest first; ``office_code``: only that office's (None: every broadcast)."""
        ...

    def claim_due(self, now: datetime, limit: int) -> Sequence[Broadcast]:
        """Scheduled broadcasts whose time has come, locked (other processes skip them)."""
        ...

    def routes(self, audience: Audience, channels: Channels) -> list[RouteCount]:
        """The audience on ``channels``, counted by channel, language and why passed over.

        Each account in the audience once: Telegram goes to the chat it linked last that has
        not blocked the bot, else the one linked last; Telegram where linked falls back to SMS
        when that chat blocked the bot (or none is linked); an SMS number that sent STOP, and
        for Telegram only a chat that blocked the bot or an account without a chat
        (``NO_CHAT``), are passed over. On a server without Telegram nobody has a chat it can
        reach: Telegram where linked is SMS, and Telegram only passes everyone over
        (``TELEGRAM_OFF``). A listed number is its account (language, chat) if it
        has one, else a number in Chinese by SMS. Unfinished orders of one office
        (``audience.office_code``) are the pending orders of what that office sells: a plate for
        sale, a lot's balance, a reservation's deposit, and the deposit of a period whose lots
        are all that office's."""
        ...

    def period_exists(self, period_id: int) -> bool: ...
    def enqueue(
        self,
        template: OutboxMessage,
        audience: Audience,
        channels: Channels,
        params: Mapping[Language, dict[str, Any]],
    ) -> int:
        """Write one outbox row per recipient that ``routes`` finds a way to, in one
        statement: ``template`` (of ``template.broadcast_id``) with the recipient's channel,
        address, account, language and its ``params``, and the dedupe key
        ``broadcast:<id>:<channel>:<address>``; one passed over is settled as skipped at once,
        for its reason. A dedupe key taken fails the whole statement. Returns how many were
        written."""
        ...

    def hold(self, broadcast_id: int) -> int:
        """Its waiting rows are due at ``HELD``; how many."""
        ...

    def release(self, broadcast_id: int, now: datetime) -> int:
        """Its held rows are due ``now``; how many."""
        ...

    def drop_waiting(self, broadcast_id: int, reason: str) -> int:
        """Its waiting rows are settled as skipped for ``reason``; how many."""
        ...

    def tally(self, broadcast_id: int, since: datetime) -> Tally: ...
    def outcomes(self, broadcast_id: int) -> list[Outcome]: ...
    def day_counts(self, start: datetime, end: datetime) -> DayCounts:
        """What happened from ``start`` to before ``end``."""
        ...

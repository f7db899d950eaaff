"""What the live auction room (``core.auction_room``) needs from the store."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from core.accounts import Language

if TYPE_CHECKING:
    from core.auctions import Lot, Signup


@dataclass(frozen=True)
class Member:
    """A bidder in a period's room, with what notices to them need."""

    signup_id: int
    account_id: int
    bidder_number: str
    language: Language
    telegram: bool  # a Telegram chat is linked to the account


@dataclass(frozen=True)
class LotHeading:
    """What a notice about a lot names: its number in the period and its plate."""

    lot_id: int
    period_id: int
    position: int
    serial: str
    province: str
    letter: str
    step_fen: int  # the period's smallest increment


@dataclass(frozen=True)
class RecentBid:
    placed_at: datetime
    bidder_number: str
    amount_fen: int


@dataclass(frozen=True)
class Seat:
    """A signup with one lot of its period, and what showing that lot needs: read in one
    statement on every bid (``core.room_view.room_seat``). ``lot`` is None when the period has
    no such lot (withdrawn lots are none)."""

    signup: Signup
    lot: Lot | None
    province: str = ""  # the lot's office
    letter: str = ""
    increments_fen: tuple[int, ...] = ()  # the period's allowed increments
    leader_number: str | None = None  # the leading bidder's number, unmasked
    first_share_id: int | None = None  # the signup's first VIN (its only one, with one share)


class ChangeKind(enum.StrEnum):
    BID = "bid"  # the lot's first bid: the room message
    OUTBID = "outbid"  # the bidder was outbid: a notice, and the room message
    MAXIMUM = "maximum"  # the bidder's automatic maximum was passed: a notice


@dataclass(frozen=True)
class RoomChange:
    """Something that happened in a room and is still to be told (``core.auction_room``)."""

    kind: ChangeKind
    lot_id: int
    period_id: int
    signup_id: int
    at: datetime
    leader_signup_id: int | None = None
    price_fen: int | None = None
    max_fen: int | None = None
    id: int | None = None


class RoomRepository(Protocol):
    def join(self, signup_id: int) -> None:
        """The signup's bidder is in its period's room (again: nothing changes)."""
        ...

    def members(self, period_id: int) -> Sequence[Member]:
        """Everyone in the period's room."""
        ...

    def watchers(self, period_id: int) -> Sequence[Member]:
        """Those in the period's room with a Telegram chat: who gets the room message. Read from
        the Telegram side, so a room of SMS bidders costs one look-up that finds nobody."""
        ...

    def bidders(self, signup_ids: Sequence[int]) -> dict[int, Member]:
        """Signups' bidders, as notices to them need them (in the room or not)."""
        ...

    def heading(self, lot_id: int) -> LotHeading | None: ...

    def seat(self, signup_id: int, lot_id: int | None) -> Seat | None:
        """The signup (None: no such signup) with lot ``lot_id`` if it is a lot of the signup's
        period, not withdrawn; with ``lot_id`` None, the period's first open lot by position,
        else its first lot."""
        ...

    def running_signups(self, account_id: int, now: datetime) -> Sequence[Signup]:
        """The account's active signups of periods under way (published, started by ``now``),
        by period."""
        ...

    def note(self, change: RoomChange) -> None:
        """Keep ``change`` to be told (one prebuilt insert: it runs while the lot is locked)."""
        ...

    def note_all(self, changes: Sequence[RoomChange]) -> None:
        """Keep ``changes`` to be told, in one statement (a batch of bids' notes)."""
        ...

    def claim_changes(self, limit: int) -> Sequence[RoomChange]:
        """The oldest changes still to be told, locked; none while another transaction is
        telling (one runner at a time, of every server process)."""
        ...

    def drop_changes(self, ids: Sequence[int]) -> None: ...

    def recent_bids(self, lot_id: int, limit: int) -> Sequence[RecentBid]:
        """The lot's latest accepted bids, the latest first."""
        ...

    def latest_bid(self, lot_id: int, signup_id: int) -> int | None:
        """The signup's latest accepted bid on the lot (its highest: accepted bids rise)."""
        ...

    def best_bids(self, lot_id: int) -> dict[int, int]:
        """Each bidder's highest accepted bid on the lot, by signup."""
        ...

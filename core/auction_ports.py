"""The auctions' repository, as a protocol; ``store/auction_repository.py`` implements it and the
unit of work carries one (``uow.auctions``).

Entity types are imported for type checking only: the modules that define them use the unit of
work, so importing them here at run time would go round in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from core.auctions import AuctionPeriod, Lot, Share, Signup, SignupState
    from core.bidding import BidRecord, LotChange, LotView, Proxy, ShareView
    from core.plates import PlateKind


class AuctionRepository(Protocol):
    # -- periods and lots (staff) --------------------------------------------------------------
    def add_period(self, period: AuctionPeriod) -> None: ...
    def period(
        self, period_id: int, *, lock: bool | Literal["signup", "exclusive"] = False
    ) -> AuctionPeriod | None:
        """``lock``: True for a change of the period (FOR NO KEY UPDATE: beside signups);
        ``signup`` to sign up in it as it is (FOR KEY SHARE: beside other signups and such
        changes); ``exclusive`` for a change signups must not overlap (a cancellation, an
        amendment: FOR UPDATE waits for the signups under way, and later ones see it)."""

    def fix_terms(self, period_id: int) -> AuctionPeriod | None:
        """The period, its terms fixed now by this transaction (the first signup: the row stays
        locked until it ends); None when they were fixed before."""

    def periods(self) -> Sequence[AuctionPeriod]: ...
    def save_period(self, period: AuctionPeriod) -> None: ...
    def retime_open_lots(self, period_id: int, opens_at: datetime, deadline: datetime) -> bool:
        """Every open lot of the period opens at ``opens_at`` with ``deadline`` (a new start);
        False, and none of them changed, when one has taken a bid (bidding has begun)."""

    def add_lot(self, lot: Lot) -> None: ...
    def lot(self, lot_id: int) -> Lot | None: ...
    def lots(self, period_id: int) -> Sequence[Lot]: ...
    def save_lot(self, lot: Lot) -> None:
        """Write the lot's state, close and withdrawal (not its bidding: ``write_bids``)."""
        ...

    def open_lot_for(self, office_id: int, kind: PlateKind, serial: str) -> Lot | None: ...
    def open_lot_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        """The office's numbers of ``kind`` that are lots still open."""
        ...

    def open_lots(self, period_id: int) -> int:
        """How many lots of the period are still open (read afresh)."""
        ...

    # -- signups -------------------------------------------------------------------------------
    def add_signup(self, signup: Signup, vins: Sequence[str]) -> None:
        """The signup and one live share per VIN, in order."""
        ...

    def signup(self, signup_id: int, *, lock: bool = False) -> Signup | None: ...
    def signup_by_bidder(
        self, period_id: int, bidder_number: str, *, lock: bool = False
    ) -> Signup | None: ...
    def signup_of(self, account_id: int, period_id: int) -> Signup | None:
        """The account's live signup of the period, if any."""
        ...

    def signups(self, period_id: int, *, states: Sequence[SignupState]) -> Sequence[Signup]: ...
    def save_signup(self, signup: Signup) -> None: ...
    def shares(self, signup_id: int) -> Sequence[Share]: ...
    def live_vins(self, vins: Sequence[str]) -> set[str]:
        """Which of ``vins`` are in a live share."""
        ...

    def bidder_number_taken(self, period_id: int, bidder_number: str) -> bool: ...
    def release_shares(self, signup_ids: Sequence[int]) -> None:
        """The signups' VINs are no longer live."""
        ...

    def release_losing_shares(self, period_id: int) -> None:
        """VINs of the period that won nothing are no longer live."""
        ...

    def free_shares(self, signup_id: int) -> Sequence[Share]:
        """The signup's VINs that lead no open lot, won none and stand behind no maximum."""
        ...

    # -- bidding (the hot path) ----------------------------------------------------------------
    def lock_share(self, share_id: int, lot_id: int) -> tuple[ShareView, LotView] | None:
        """The share and its signup's state, the share's row locked; and the lot as it stands,
        not locked (none if either is unknown)."""
        ...

    def lock_shares(
        self, share_ids: Sequence[int], lot_id: int
    ) -> tuple[dict[int, ShareView], LotView | None]:
        """The shares found of ``share_ids`` with their signups' states, their rows locked in
        the order of their ids; and the lot as it stands, not locked (none if unknown)."""
        ...

    def shares_elsewhere(
        self, share_ids: Sequence[int], lot_id: int
    ) -> dict[int, tuple[int | None, int | None]]:
        """For each of the (locked) shares that leads or won another lot, or stands behind a
        maximum on another lot: (that lot, the maximum's lot)."""
        ...

    def lock_lot(self, lot_id: int, share_id: int | None) -> LotView | None:
        """The lot, locked, with its period's rules; read after ``lock_share``, with where that
        share leads or stands behind a maximum on another lot."""
        ...

    def active_maxima(self, lot_id: int) -> Sequence[Proxy]:
        """The lot's active maxima, earliest first (the lot is locked)."""
        ...

    def write_bids(
        self,
        records: Sequence[BidRecord],
        change: LotChange | None,
        *,
        ended: Sequence[int],
        now: datetime,
    ) -> None:
        """Append to the audit trail, write the lot's new price, leader and deadline (if any)
        and end the maxima ``ended`` (exceeded)."""
        ...

    def add_maximum(
        self, *, lot_id: int, signup_id: int, share_id: int, max_fen: int, now: datetime
    ) -> Proxy: ...
    def end_maxima(self, lot_id: int, *, signup_id: int | None, state: str, now: datetime) -> int:
        """End the lot's active maxima (of one signup, or all); how many ended."""
        ...

    def count_maxima(self, lot_id: int, count: int) -> None: ...
    def bids(self, lot_id: int) -> Sequence[BidRecord]:
        """The lot's audit trail, in the order the bids were decided."""
        ...

    # -- closing -------------------------------------------------------------------------------
    def claim_due_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        """Open lots whose deadline has passed, locked (other runners skip them)."""
        ...

    def started_without_open_lots(self, now: datetime, limit: int) -> Sequence[int]:
        """Published periods that have started (``starts_at`` passed) with no open lot: none
        was added, or every one was withdrawn."""
        ...

"""The settlement's repository, as a protocol; ``store/settlement_repository.py`` implements it and
the unit of work carries one (``uow.settlements``). Entity types for type checking only (their
module uses the unit of work)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.plates import PlateKind
    from core.settlement import DepositRefund, Settlement


class SettlementRepository(Protocol):
    def add(self, settlement: Settlement) -> bool:
        """Store the settlement of a sold lot; False (nothing written) when the lot has one."""
        ...

    def of_lot(self, lot_id: int, *, lock: bool = False) -> Settlement | None: ...
    def of_balance_order(self, order_id: int, *, lock: bool = False) -> Settlement | None: ...
    def of_period(self, period_id: int) -> Sequence[Settlement]: ...
    def save(self, settlement: Settlement) -> None: ...
    def awaiting(self, office_id: int, kind: PlateKind, serial: str) -> Settlement | None:
        """The settlement of a sold number that is not over (balance not yet paid), if any."""
        ...

    def claim_untold(self, limit: int) -> Sequence[Settlement]:
        """Settlements awaiting their balance whose winner is not told yet, locked (other runners
        skip them), oldest first."""
        ...

    def awaiting_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        """The office's numbers of ``kind`` sold at auction whose balance is not paid yet."""
        ...

    def release_share(self, share_id: int) -> None:
        """The VIN is free for another signup (its lot was settled)."""
        ...

    def deposit_order(self, signup_id: int) -> int | None:
        """The signup's paid deposit order (``auction_deposit``, ``signup:<id>``), if any."""
        ...

    def paid_deposit_orders(self, signup_ids: Sequence[int]) -> dict[int, int]:
        """Of these signups, each one's paid deposit order (signup id: order id), in one read."""
        ...

    def pending_deposit_orders(self, signup_id: int) -> Sequence[int]:
        """The signup's deposit orders still waiting for payment."""
        ...

    def add_refunds(self, refunds: Sequence[DepositRefund]) -> int:
        """Refunds to make, in one statement; one a signup has for that reason already is left
        out. How many were added."""
        ...

    def refunds_of(self, signup_id: int) -> Sequence[DepositRefund]: ...
    def held_deposit(self, order_id: int) -> int:
        """Of the deposit order, what won shares hold for prices still awaiting a balance."""

    def refunds_of_period(self, period_id: int) -> Sequence[DepositRefund]: ...
    def claim_due_refunds(self, limit: int) -> Sequence[DepositRefund]:
        """Refunds still to make, locked (other runners skip them)."""
        ...

    def save_refund(self, refund: DepositRefund, now: datetime) -> None: ...

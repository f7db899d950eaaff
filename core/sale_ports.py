"""The repository of plates for sale, as a protocol. ``store/sale_repository.py`` implements it;
the unit of work carries one (``uow.sales``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.plates import PlateKind
    from core.sale import Listing, ListingState


class SaleRepository(Protocol):
    def add(self, listing: Listing) -> None:
        """Store a new listing; it gets its id."""
        ...

    def get(self, listing_id: int, *, lock: bool = False) -> Listing | None:
        """``lock``: row-locked until the transaction ends, and read afresh."""
        ...

    def save(self, listing: Listing) -> None:
        """Write what changed now (a conditional update would otherwise wait for the commit)."""
        ...

    def live_for(self, office_id: int, kind: PlateKind, serial: str) -> Listing | None:
        """The number's listing that is on sale or held, if any."""
        ...

    def for_vin(self, vin: str) -> Listing | None:
        """The listing held for or sold to this vehicle, if any."""
        ...

    def listed(
        self, *, state: ListingState | None, office_id: int | None, limit: int
    ) -> Sequence[Listing]:
        """For staff: newest first."""
        ...

    def region_counts(self, shelf_region: str | None) -> list[tuple[str, int]]:
        """Regions with plates on sale (``shelf_region``'s, and any region's personalised ones;
        None: all), and how many each."""
        ...

    def count(
        self, shelf_region: str | None, region: str | None, *, low: int | None, high: int | None
    ) -> int:
        """How many plates on sale the shelf shows (of ``region``, priced from ``low`` up to
        below ``high``, where given)."""
        ...

    def on_sale(
        self,
        shelf_region: str | None,
        region: str | None,
        *,
        low: int | None,
        high: int | None,
        offset: int,
        limit: int,
    ) -> list[Listing]:
        """A page of the plates on sale the shelf shows, cheapest first."""
        ...

    def sold(self, since: datetime, until: datetime) -> Sequence[Listing]:
        """Listings sold from ``since`` (inclusive) until ``until`` (exclusive)."""
        ...

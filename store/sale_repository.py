"""The repository of plates for sale (protocol in ``core.sale_ports``). It never commits. A
locked read refreshes what the session loaded earlier, as the order repository's does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.plates import PlateKind
from core.sale import LIVE, Listing, ListingState
from store.sale_tables import sale_listings

C = sale_listings.c


def _shown(query: Any, shelf_region: str | None, region: str | None) -> Any:
    """Plates on sale the shelf shows: of the user's region or personalised (None: all)."""
    query = query.where(C.state == ListingState.LISTED)
    if shelf_region is not None:
        query = query.where(sa.or_(C.region_code == shelf_region, C.personalised == sa.true()))
    if region is not None:
        query = query.where(C.region_code == region)
    return query


def _priced(
    query: Any, shelf_region: str | None, region: str | None, low: int | None, high: int | None
) -> Any:
    query = _shown(query, shelf_region, region)
    if low is not None:
        query = query.where(C.price >= low)
    if high is not None:
        query = query.where(C.price < high)
    return query


class SqlSaleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, listing: Listing) -> None:
        self.session.add(listing)
        self.session.flush()

    def get(self, listing_id: int, *, lock: bool = False) -> Listing | None:
        if not lock:
            return self.session.get(Listing, listing_id)
        return self.session.get(Listing, listing_id, with_for_update=True, populate_existing=True)

    def save(self, listing: Listing) -> None:
        self.session.flush()

    def live_for(self, office_id: int, kind: PlateKind, serial: str) -> Listing | None:
        query = sa.select(Listing).where(
            C.office_id == office_id, C.plate_kind == kind, C.serial == serial, C.state.in_(LIVE)
        )
        return self.session.scalars(query).first()

    def for_vin(self, vin: str) -> Listing | None:
        taken = (ListingState.HELD, ListingState.SOLD)
        query = sa.select(Listing).where(C.vin == vin, C.state.in_(taken))
        return self.session.scalars(query).first()

    def listed(
        self, *, state: ListingState | None, office_id: int | None, limit: int
    ) -> Sequence[Listing]:
        query = sa.select(Listing).order_by(C.id.desc()).limit(limit)
        if state is not None:
            query = query.where(C.state == state)
        if office_id is not None:
            query = query.where(C.office_id == office_id)
        return list(self.session.scalars(query))

    def region_counts(self, shelf_region: str | None) -> list[tuple[str, int]]:
        query = _shown(sa.select(C.region_code, sa.func.count()), shelf_region, None)
        rows = self.session.execute(query.group_by(C.region_code).order_by(C.region_code))
        return [(str(code), int(n)) for code, n in rows]

    def count(
        self, shelf_region: str | None, region: str | None, *, low: int | None, high: int | None
    ) -> int:
        query = _priced(sa.select(sa.func.count()), shelf_region, region, low, high)
        return int(self.session.scalar(query) or 0)

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
        query = _priced(sa.select(Listing), shelf_region, region, low, high)
        return list(self.session.scalars(query.order_by(C.price, C.id).offset(offset).limit(limit)))

    def sold(self, since: datetime, until: datetime) -> Sequence[Listing]:
        query = sa.select(Listing).where(
            C.state == ListingState.SOLD, C.sold_at >= since, C.sold_at < until
        )
        return list(self.session.scalars(query.order_by(C.sold_at, C.id)))

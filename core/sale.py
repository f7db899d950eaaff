"""Fixed-price sale of plates (SPEC §6, manual 003 §4 "网上标卖").

Staff list held-back numbers for sale with a price, a region and an optional "personalised" flag
(one at a time or by CSV), change a price, withdraw one. Users browse by region and price tier;
a signed-in user sees the plates of their certificate location plus personalised plates. Buying
names the vehicle (VIN) the plate is for, places an order (``core.payments.place_order``) and
holds the plate in the same transaction; the order's events complete or release it:

    listed ──buy──► held ──OrderPaid──► sold (the VIN's; in no list again)
      ▲               └──OrderExpired / OrderCancelled──► listed
      └──(staff) price; withdraw ──► withdrawn

The number's pool state agrees: listed or held → ``for_sale``; sold → ``issued``; withdrawn →
back where it was (pooled, or unknown to the pool). Two buyers of one plate at once: the
listing's row is locked first, so exactly one order holds it.
"""

from __future__ import annotations

import csv
import enum
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from core.accounts import Account
from core.clock import OFFICE_TZ, as_utc
from core.errors import DomainError
from core.orders import Cause, Order, OrderCancelled, OrderEvent, OrderExpired, OrderPaid, Purpose
from core.payments import cancel_order, place_order
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind, parse_kind, parse_serial
from core.pools import NumberState, taken_elsewhere
from core.ports import UnitOfWork
from core.regions import get_region
from core.registry import RowError, find_vehicle, owner_id_of, validate_vin
from core.wiring import Wiring

YUAN = 100  # fen
PRICE_MAX = 10**12  # fen: ¥10,000,000,000, more than any plate fetches
REFERENCE = "listing:"  # an order's reference: ``listing:12``


class ListingState(enum.StrEnum):
    LISTED = "listed"  # on sale: in the users' lists
    HELD = "held"  # an order (pending) holds it
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


LIVE = (ListingState.LISTED, ListingState.HELD)


@dataclass(frozen=True, slots=True)
class Tier:
    """A price tier users browse by: ``low`` ≤ price < ``high`` (fen; None: no bound)."""

    id: str
    low: int | None
    high: int | None


TIERS = (
    Tier("t1", None, 10_000 * YUAN),
    Tier("t2", 10_000 * YUAN, 50_000 * YUAN),
    Tier("t3", 50_000 * YUAN, 100_000 * YUAN),
    Tier("t4", 100_000 * YUAN, None),
)


def tier(tier_id: str) -> Tier | None:
    return next((t for t in TIERS if t.id == tier_id), None)


# -- refusals ---------------------------------------------------------------------------------


class ListingUnknown(DomainError):
    code = "sale.unknown"


class PlateAlreadyListed(DomainError):
    code = "sale.already_listed"


class NumberNotHeldBack(DomainError):
    """The pool has the number in a state that is someone's or meant for something else."""

    code = "sale.number_taken"


class PriceInvalid(DomainError):
    code = "sale.price_invalid"


class ListingNotChangeable(DomainError):
    """Only a plate on sale (not held by an order, sold or withdrawn) may change."""

    code = "sale.not_listed"


class PlateTaken(DomainError):
    """Another buyer's order holds the plate, or it was sold or withdrawn meanwhile."""

    code = "sale.taken"


class SaleVinNotFound(DomainError):
    code = "sale.vin_not_found"


class SaleVinNotYours(DomainError):
    code = "sale.vin_not_yours"


class SaleVinRegistered(DomainError):
    code = "sale.vin_registered"


class SaleVinPreselected(DomainError):
    code = "sale.vin_preselected"


class SaleVinHasPlate(DomainError):
    """The vehicle bought a plate already, or an order of it holds one."""

    code = "sale.vin_has_plate"


class SaleKindMismatch(DomainError):
    """A plate of one kind for a vehicle of another (a large plate for a small car)."""

    code = "sale.kind_mismatch"


class SaleCsvField(DomainError):
    code = "sale.csv_field"


class SaleCsvColumns(DomainError):
    code = "sale.csv_columns"


# -- the listing ------------------------------------------------------------------------------


@dataclass(eq=False)
class Listing:
    office_id: int
    plate_kind: PlateKind
    serial: str
    plate: str  # as shown: 粤D·88888
    price: int  # fen
    region_code: str
    personalised: bool
    listed_at: datetime
    from_pool: bool = False  # pooled before it was listed: withdrawn, it goes back there
    state: ListingState = ListingState.LISTED
    order_id: int | None = None  # the order holding it, or that bought it
    account_id: int | None = None
    vin: str | None = None
    sold_at: datetime | None = None
    withdrawn_at: datetime | None = None
    id: int | None = None

    def hold(self, order: Order, vin: str) -> None:
        if self.state is not ListingState.LISTED:
            raise PlateTaken(plate=self.plate)
        self.state = ListingState.HELD
        self.order_id, self.account_id, self.vin = order.id, order.account_id, vin

    def release(self) -> None:
        self.state = ListingState.LISTED
        self.order_id = self.account_id = None
        self.vin = None

    def sell(self, at: datetime) -> None:
        self.state = ListingState.SOLD
        self.sold_at = at

    def check_changeable(self) -> None:
        if self.state is not ListingState.LISTED:
            raise ListingNotChangeable(plate=self.plate, state=self.state.value)


def check_price(price: int) -> int:
    if not 0 < price <= PRICE_MAX:
        raise PriceInvalid(price=price)
    return price


def price_from_yuan(text: str) -> int:
    """``12000`` or ``12000.50`` yuan (``¥12,000`` too) in fen."""
    cleaned = text.strip().lstrip("¥￥").replace(",", "")
    try:
        value = Decimal(cleaned) * YUAN
    except InvalidOperation as exc:
        raise PriceInvalid(price=text.strip()[:20]) from exc
    if not value.is_finite() or value != value.to_integral_value():
        raise PriceInvalid(price=text.strip()[:20])
    return check_price(int(value))


# -- staff ------------------------------------------------------------------------------------


def list_plate(
    uow: UnitOfWork,
    *,
    now: datetime,
    office_code: str,
    kind: PlateKind,
    serial: str,
    price: int,
    region_code: str | None = None,
    personalised: bool = False,
) -> Listing:
    """Put a number on sale. A number the pool has must be pooled (it leaves the pool) or kept
    for sale already; a number the pool does not have is added to it as for sale, so that a
    later pool load leaves it alone."""
    office = uow.offices.by_code(office_code)
    if office is None or office.id is None:
        raise OfficeUnknown(office=office_code[:8])
    uow.offices.lock(office.id)  # a reservation of the number waits, then sees it listed
    serial = parse_serial(kind, serial)
    check_price(price)
    region = get_region(region_code or office.region_code).code
    plate = office.plate(serial)
    if uow.sales.live_for(office.id, kind, serial) is not None:
        raise PlateAlreadyListed(plate=plate)
    known = uow.pool.states(office.id, kind, [serial], lock=True).get(serial)
    state = None if known is None else known[0]
    if state not in (None, NumberState.POOLED, NumberState.FOR_SALE):
        raise NumberNotHeldBack(plate=plate, state=str(state))
    taken = taken_elsewhere(uow, office, kind, [serial]).get(serial)
    if taken is not None:  # reserved by a user, a lot, or sold at auction: not the office's
        raise taken
    if state is None:
        uow.pool.add(office.id, kind, [serial])
    uow.pool.set_state(office.id, kind, serial, NumberState.FOR_SALE)
    listing = Listing(
        office_id=office.id,
        plate_kind=kind,
        serial=serial,
        plate=plate,
        price=price,
        region_code=region,
        personalised=personalised,
        listed_at=now,
        from_pool=state is NumberState.POOLED,
    )
    uow.sales.add(listing)
    return listing


def _changeable(uow: UnitOfWork, listing_id: int) -> Listing:
    listing = uow.sales.get(listing_id, lock=True)
    if listing is None:
        raise ListingUnknown(listing=listing_id)
    listing.check_changeable()
    return listing


def change_price(uow: UnitOfWork, *, listing_id: int, price: int) -> Listing:
    listing = _changeable(uow, listing_id)
    listing.price = check_price(price)
    uow.sales.save(listing)
    return listing


def withdraw(uow: UnitOfWork, *, listing_id: int, now: datetime) -> Listing:
    """Off sale; the number goes back where it was before (the pool, or nowhere)."""
    listing = _changeable(uow, listing_id)
    listing.state, listing.withdrawn_at = ListingState.WITHDRAWN, now
    uow.sales.save(listing)
    office, kind, serial = listing.office_id, listing.plate_kind, listing.serial
    if listing.from_pool:
        uow.pool.set_state(office, kind, serial, NumberState.POOLED)
    else:
        uow.pool.remove(office, kind, serial)
    return listing


@dataclass
class ImportReport:
    listed: list[Listing] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


_HEADERS = {
    "office": "office",
    "车管所": "office",
    "kind": "kind",
    "plate_kind": "kind",
    "号牌种类": "kind",
    "serial": "serial",
    "number": "serial",
    "号码": "serial",
    "price": "price",
    "价格": "price",
    "region": "region",
    "region_code": "region",
    "地区": "region",
    "personalised": "personalised",
    "personalized": "personalised",
    "个性": "personalised",
}
REQUIRED = ("office", "kind", "serial", "price")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}


def _flag(text: str) -> bool:
    word = text.strip().casefold()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise SaleCsvField(field="personalised", value=text.strip()[:10])


def import_listings_csv(uow: UnitOfWork, *, text: str, now: datetime) -> ImportReport:
    """List plates from CSV: ``office,kind,serial,price`` (price in yuan; optional ``region``,
    ``personalised``). Each row is checked whole before anything of it is written: bad rows are
    reported with their line numbers, good rows are listed."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name: _HEADERS.get(name.strip().casefold(), "") for name in reader.fieldnames or []}
    missing = [name for name in REQUIRED if name not in columns.values()]
    if missing:
        report.errors.append(RowError(1, SaleCsvColumns.code, {"columns": ", ".join(missing)}))
        return report
    for row in reader:
        values = {columns[k]: (v or "").strip() for k, v in row.items() if k and columns[k]}
        try:
            listing = list_plate(
                uow,
                now=now,
                office_code=values["office"],
                kind=parse_kind(values["kind"]),
                serial=values["serial"],
                price=price_from_yuan(values["price"]),
                region_code=values.get("region") or None,
                personalised=_flag(values.get("personalised", "")),
            )
        except DomainError as error:
            report.errors.append(RowError(reader.line_num, error.code, dict(error.params)))
            continue
        report.listed.append(listing)
    return report


# -- users ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shelf:
    """What a user may see: plates of ``region`` (their certificate location; None: all) and
    personalised plates of any region."""

    region: str | None

    @classmethod
    def of(cls, account: Account | None) -> Shelf:
        return cls(account.region_code if account is not None else None)


def regions_on_sale(uow: UnitOfWork, shelf: Shelf) -> list[tuple[str, int]]:
    """Regions with plates on sale the user may see, and how many each."""
    return uow.sales.region_counts(shelf.region)


def tiers_on_sale(uow: UnitOfWork, shelf: Shelf, region: str | None) -> list[tuple[Tier, int]]:
    counted = [(t, uow.sales.count(shelf.region, region, low=t.low, high=t.high)) for t in TIERS]
    return [(t, n) for t, n in counted if n]


@dataclass(frozen=True, slots=True)
class Page:
    listings: list[Listing]
    number: int  # from 0
    pages: int
    total: int


def on_sale(
    uow: UnitOfWork,
    shelf: Shelf,
    *,
    region: str | None,
    price_tier: Tier | None,
    page: int,
    size: int,
) -> Page:
    """Page ``page`` (after the last, the first again) of the plates on sale, cheapest first."""
    low = price_tier.low if price_tier else None
    high = price_tier.high if price_tier else None
    total = uow.sales.count(shelf.region, region, low=low, high=high)
    pages = max(1, -(-total // size))
    number = page % pages
    listings = uow.sales.on_sale(
        shelf.region, region, low=low, high=high, offset=number * size, limit=size
    )
    return Page(listings, number, pages, total)


def visible(listing: Listing, shelf: Shelf) -> bool:
    return listing.personalised or shelf.region in (None, listing.region_code)


def check_vehicle(uow: UnitOfWork, *, account: Account, vin: str, kind: PlateKind) -> str:
    """The VIN a plate is bought for: well formed (check digit), in the registry, the account's,
    not registered, without a pre-selection, a plate bought or an order holding one, and of the
    plate's kind. Returns the VIN cleaned."""
    vin = validate_vin(vin)
    try:
        record = find_vehicle(uow, vin)
    except DomainError as exc:
        raise SaleVinNotFound(vin=vin) from exc
    if record.owner_id != owner_id_of(account):
        raise SaleVinNotYours(vin=vin)
    if record.registered:
        raise SaleVinRegistered(vin=vin)
    if uow.preselections.open_for_vin(vin) is not None:
        raise SaleVinPreselected(vin=vin)
    if uow.sales.for_vin(vin) is not None:
        raise SaleVinHasPlate(vin=vin)
    if record.plate_kind is not kind:
        raise SaleKindMismatch(vin=vin, kind_key=f"plate.kind.{record.plate_kind.value}")
    return vin


def buy(
    uow: UnitOfWork,
    *,
    account: Account,
    listing_id: int,
    vin: str,
    now: datetime,
    minutes: int,
    shelf: Shelf | None = None,
) -> Order:
    """The plate for ``vin``: an order to pay by its deadline, holding the plate meanwhile. The
    listing's row is locked first: of two buyers at once, the second finds it held."""
    if account.id is None:  # pragma: no cover - flows require an account
        raise ListingUnknown(listing=listing_id)
    listing = uow.sales.get(listing_id, lock=True)
    if listing is None or not visible(listing, shelf or Shelf.of(account)):
        raise ListingUnknown(listing=listing_id)
    if listing.state is not ListingState.LISTED:
        raise PlateTaken(plate=listing.plate)
    vin = check_vehicle(uow, account=account, vin=vin, kind=listing.plate_kind)
    order = place_order(
        uow,
        account_id=account.id,
        purpose=Purpose.PLATE_PURCHASE,
        reference=f"{REFERENCE}{listing.id}",
        subject=listing.plate,
        amount=listing.price,
        now=now,
        minutes=minutes,
    )
    listing.hold(order, vin)
    uow.sales.save(listing)
    return order


def cancel_purchase(uow: UnitOfWork, *, account_id: int, order_id: int, now: datetime) -> Order:
    """The buyer gives up their order; its ``OrderCancelled`` puts the plate back on sale."""
    return cancel_order(uow, order_id=order_id, now=now, cause=Cause.USER, account_id=account_id)


def listing_of_order(uow: UnitOfWork, order: Order) -> Listing | None:
    if order.purpose is not Purpose.PLATE_PURCHASE or not order.reference.startswith(REFERENCE):
        return None
    return uow.sales.get(int(order.reference.removeprefix(REFERENCE)))


# -- what the orders' events do ----------------------------------------------------------------


def _held_by(uow: UnitOfWork, event: OrderEvent) -> Listing | None:
    """The listing ``event``'s order holds (locked), if it is a plate purchase that holds one."""
    if event.purpose is not Purpose.PLATE_PURCHASE or not event.reference.startswith(REFERENCE):
        return None
    listing = uow.sales.get(int(event.reference.removeprefix(REFERENCE)), lock=True)
    if listing is None or listing.state is not ListingState.HELD:
        return None
    return listing if listing.order_id == event.order_id else None


def complete_sale(uow: UnitOfWork, event: OrderPaid) -> None:
    """Paid: the plate is the VIN's; the number is issued and leaves every list."""
    listing = _held_by(uow, event)
    if listing is None:
        return
    listing.sell(event.at)
    uow.sales.save(listing)
    uow.pool.set_state(listing.office_id, listing.plate_kind, listing.serial, NumberState.ISSUED)


def release_plate(uow: UnitOfWork, event: OrderExpired | OrderCancelled) -> None:
    """Expired or cancelled: the plate is on sale again."""
    listing = _held_by(uow, event)
    if listing is None:
        return
    listing.release()
    uow.sales.save(listing)


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(OrderPaid, complete_sale)
    wiring.bus.subscribe(OrderExpired, release_plate)
    wiring.bus.subscribe(OrderCancelled, release_plate)


# -- the sales report ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SalesDay:
    office_id: int
    day: date
    count: int
    amount: int  # fen


def sales_report(uow: UnitOfWork, *, first: date, last: date) -> list[SalesDay]:
    """Plates sold per office and day (China time) from ``first`` to ``last``: count and money."""
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    since = datetime.combine(first, time(0), tzinfo=OFFICE_TZ)
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=OFFICE_TZ)
    for listing in uow.sales.sold(as_utc(since), as_utc(until)):
        if listing.sold_at is None:  # pragma: no cover - sold listings have the time
            continue
        day = as_utc(listing.sold_at).astimezone(OFFICE_TZ).date()
        if first <= day <= last:
            total = totals[(listing.office_id, day)]
            total[0] += 1
            total[1] += listing.price
    return [SalesDay(o, d, n, fen) for (o, d), (n, fen) in sorted(totals.items())]


__all__: Sequence[str] = [
    "TIERS",
    "Listing",
    "ListingState",
    "Shelf",
    "buy",
    "change_price",
    "import_listings_csv",
    "list_plate",
    "on_sale",
    "sales_report",
    "withdraw",
]

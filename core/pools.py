"""Number pools (SPEC §3): the numbers an office releases for selection, per plate kind.

A number is in exactly one state. Only pooled numbers can be drawn or self-chosen; a number
shown in a random batch is held for that selection session until the user picks one, draws
again or the session ends. Numbers staff keep back (for auction or sale) are never pooled, and
neither is a number taken outside the pool (``taken_elsewhere``): one a user has reserved, a lot
of an open auction, or one sold at auction whose winner may still pay.

Each number carries a random sort key: a random batch is the next few pooled numbers after a
random point of that key, read along an index, so drawing costs the same at any pool size.
"""

from __future__ import annotations

import csv
import enum
import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import DomainError
from core.offices import Office
from core.plate_errors import (
    InvalidPattern,
    OfficeUnknown,
    PlateAwaitingBalance,
    PlateInOpenLot,
    PlateReservedByUser,
)
from core.plates import (
    PlateKind,
    expand_pattern,
    expand_range,
    parse_serial,
    unique_in_order,
)
from core.ports import UnitOfWork
from core.registry import RowError

SORT_KEY_SPACE = 2**31 - 1
EXAMPLES = 3


class NumberState(enum.StrEnum):
    POOLED = "pooled"
    HELD = "held"
    PRESELECTED = "preselected"
    ISSUED = "issued"
    FOR_SALE = "for_sale"
    IN_AUCTION = "in_auction"
    RESERVED = "reserved"


def random_start() -> int:
    """Where a random batch starts along the sort key."""
    return random.randrange(SORT_KEY_SPACE)


@dataclass(frozen=True, slots=True)
class KindPublicity:
    kind: PlateKind
    available: int
    examples: tuple[str, ...]


def publicity(uow: UnitOfWork, office: Office) -> list[KindPublicity]:
    """Pool publicity: how many numbers of each kind are available, with a few examples."""
    office_id = office.id or 0
    counts = uow.pool.counts(office_id)
    shown = []
    for kind in PlateKind:
        available = counts.get(kind, 0)
        examples = (
            uow.pool.sample(office_id, kind, EXAMPLES, no_four=False, start=random_start())
            if available
            else []
        )
        shown.append(KindPublicity(kind, available, tuple(sorted(examples))))
    return shown


@dataclass(frozen=True, slots=True)
class Refusal:
    """A number left out of a load, and why (an error code of ``core.plate_errors``)."""

    serial: str
    code: str
    params: dict[str, str | int]


@dataclass(frozen=True, slots=True)
class LoadReport:
    added: int
    already: int
    excluded: int
    refused: tuple[Refusal, ...] = ()


def taken_elsewhere(
    uow: UnitOfWork, office: Office, kind: PlateKind, serials: Iterable[str]
) -> dict[str, DomainError]:
    """Of ``serials``, those taken outside the pool, each with its refusal: a live (pending,
    approved, paid or placed) reservation, a lot of an open auction, or a number sold at auction
    whose balance is still due. Three small reads, whatever the number of serials."""
    office_id = office.id or 0
    checks: list[tuple[set[str], type[DomainError]]] = [
        (uow.reservations.live_serials(office_id, kind), PlateReservedByUser),
        (uow.auctions.open_lot_serials(office_id, kind), PlateInOpenLot),
        (uow.settlements.awaiting_serials(office_id, kind), PlateAwaitingBalance),
    ]
    found: dict[str, DomainError] = {}
    for serial in serials:
        for taken, error in checks:
            if serial in taken:
                found[serial] = error(plate=office.plate(serial))
                break
    return found


HELD_BACK = "held_back"  # the office's: unknown to the pool and taken by nothing else
_TAKEN_AS = {
    PlateReservedByUser.code: "reserved",
    PlateInOpenLot.code: NumberState.IN_AUCTION.value,
    PlateAwaitingBalance.code: "awaiting_balance",
}


def where_are(
    uow: UnitOfWork, office: Office, kind: PlateKind, serials: Sequence[str]
) -> dict[str, str]:
    """Where each of the office's numbers is now, as staff see it: its pool state (``pooled``,
    ``held``, ``preselected``, ``issued``, ``for_sale``), taken outside the pool (``reserved``,
    ``in_auction``, ``awaiting_balance``), or ``held_back``: the office's again, to be a lot of
    another period, put on sale or pooled (a lot that closed unsold, was withdrawn or whose
    winner did not pay). Four reads, whatever the number of serials."""
    known = uow.pool.states(office.id or 0, kind, serials, lock=False)
    taken = taken_elsewhere(uow, office, kind, [s for s in serials if s not in known])
    return {
        serial: known[serial][0].value
        if serial in known
        else _TAKEN_AS[taken[serial].code]
        if serial in taken
        else HELD_BACK
        for serial in serials
    }


def serials_to_load(
    kind: PlateKind,
    *,
    ranges: Sequence[str] = (),
    patterns: Sequence[str] = (),
    serials: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> tuple[list[str], int]:
    """Every serial the given ranges (``10000-19999``), patterns (``LDDDD``) and single serials
    stand for, valid for ``kind``, minus the excluded ones; and how many were excluded."""
    wanted: list[str] = []
    for text in ranges:
        first, sep, last = text.replace("–", "-").partition("-")
        if not sep:
            raise InvalidPattern(pattern=text[:20])
        wanted.extend(expand_range(kind, first, last))
    for pattern in patterns:
        if not kind.ordinary:
            raise InvalidPattern(pattern=pattern[:20])
        wanted.extend(expand_pattern(pattern))
    wanted.extend(parse_serial(kind, text) for text in serials)
    unique = unique_in_order(parse_serial(kind, s) for s in wanted)
    held_back = {parse_serial(kind, text) for text in exclude}
    kept = [serial for serial in unique if serial not in held_back]
    return kept, len(unique) - len(kept)


def serials_from_csv(text: str) -> list[str]:
    """The first column of each CSV row (a header row ``serial`` is skipped)."""
    rows = csv.reader(io.StringIO(text))
    found = [row[0].strip() for row in rows if row and row[0].strip()]
    if found and found[0].casefold() in {"serial", "number", "号码"}:
        found = found[1:]
    return found


def checked_csv_serials(kind: PlateKind, text: str) -> tuple[dict[str, int], list[RowError]]:
    """The serials of a pool CSV file (first column; a header row ``serial`` is skipped) that
    are numbers of ``kind``, each with its (first) line number, and the others as line-numbered
    errors."""
    reader = csv.reader(io.StringIO(text))
    serials: dict[str, int] = {}
    errors: list[RowError] = []
    for row in reader:
        cell = row[0].strip() if row else ""
        if not cell or (reader.line_num == 1 and cell.casefold() in {"serial", "number", "号码"}):
            continue
        try:
            serials.setdefault(parse_serial(kind, cell), reader.line_num)
        except DomainError as error:
            errors.append(RowError(reader.line_num, error.code, dict(error.params)))
    return serials, errors


def load_pool(
    uow: UnitOfWork,
    *,
    office_code: str,
    kind: PlateKind,
    ranges: Sequence[str] = (),
    patterns: Sequence[str] = (),
    serials: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> LoadReport:
    """Staff release numbers into an office's pool; numbers already known are left alone, and
    numbers taken outside the pool (``taken_elsewhere``) are refused, each with its reason."""
    office = uow.offices.by_code(office_code)
    if office is None or office.id is None:
        raise OfficeUnknown(office=office_code)
    uow.offices.lock(office.id)  # a reservation of one of the numbers waits, then sees them
    kept, excluded = serials_to_load(
        kind, ranges=ranges, patterns=patterns, serials=serials, exclude=exclude
    )
    taken = taken_elsewhere(uow, office, kind, kept)
    loaded = [serial for serial in kept if serial not in taken]
    added = uow.pool.add(office.id, kind, loaded)
    refused = tuple(
        Refusal(serial, error.code, dict(error.params)) for serial, error in taken.items()
    )
    return LoadReport(added=added, already=len(loaded) - added, excluded=excluded, refused=refused)


def keys_for(serials: Iterable[str]) -> list[tuple[str, int]]:
    """Each serial with its random sort key, as the store writes them."""
    return [(serial, random.randrange(SORT_KEY_SPACE)) for serial in serials]

"""The vehicle certificate registry (SPEC §4 stage 1 step 2): which vehicles exist, their
certificate numbers and owners, imported by staff from CSV.

VINs follow ISO 3779 (GB 16735): 17 characters without I, O and Q, with a check digit in
position 9. python-stdnum has no VIN module, so the check digit is computed here.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from core.accounts import Account, AccountKind
from core.errors import DomainError
from core.identity import validate_resident_id, validate_unit_code
from core.plate_errors import (
    CertificateMismatch,
    InvalidCertificateNumber,
    InvalidRegistryField,
    InvalidVin,
    VehicleNotFound,
    VehicleNotYours,
    VehicleRegistered,
    VinChecksumWrong,
)
from core.plates import PlateKind, parse_kind
from core.ports import UnitOfWork

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s\-·.]")


def _clean(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(text: str) -> str:
    """17 characters, no I/O/Q, ISO 3779 check digit in position 9; forgiving about case,
    full-width characters and spaces."""
    vin = _clean(text)
    if len(vin) != 17 or any(ch not in _VIN_VALUES for ch in vin):
        raise InvalidVin()
    if vin_check_digit(vin) != vin[8]:
        raise VinChecksumWrong()
    return vin


def validate_certificate_number(text: str) -> str:
    """A vehicle certificate number or an import goods certificate number: 6–30 letters/digits."""
    number = _clean(text)
    if not 6 <= len(number) <= 30 or not number.isascii() or not number.isalnum():
        raise InvalidCertificateNumber()
    return number


def owner_id_of(account: Account) -> str:
    """Who owns a vehicle, as the registry says it: a unit's code or a person's ID number."""
    if account.kind is AccountKind.UNIT and account.unit_code:
        return account.unit_code
    return account.id_number


@dataclass(eq=False)
class VehicleRecord:
    """One new vehicle from its certificate: VIN, certificate number, owner, plate kind."""

    vin: str
    certificate_no: str
    owner_id: str
    plate_kind: PlateKind
    imported_at: datetime
    registered: bool = False
    model: str = ""

    def check_claim(self, *, certificate_no: str, account: Account) -> None:
        """Stage 1 step 2: the certificate matches, the owner is ``account``, not registered."""
        if self.certificate_no != certificate_no:
            raise CertificateMismatch()
        if self.owner_id != owner_id_of(account):
            raise VehicleNotYours()
        if self.registered:
            raise VehicleRegistered()


def find_vehicle(uow: UnitOfWork, vin: str) -> VehicleRecord:
    record = uow.registry.get(vin)
    if record is None:
        raise VehicleNotFound()
    return record


# -- CSV import (staff) ----------------------------------------------------------------------

_HEADERS = {
    "vin": "vin",
    "车辆识别代号": "vin",
    "certificate_no": "certificate_no",
    "certificate": "certificate_no",
    "合格证编号": "certificate_no",
    "owner_id": "owner_id",
    "owner": "owner_id",
    "所有人证件号码": "owner_id",
    "plate_kind": "plate_kind",
    "kind": "plate_kind",
    "号牌种类": "plate_kind",
    "registered": "registered",
    "已登记": "registered",
    "model": "model",
    "车型": "model",
}
REQUIRED = ("vin", "certificate_no", "owner_id", "plate_kind")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    code: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def _owner(text: str, today: date) -> str:
    value = _clean(text)
    if len(value) == 18 and value[:17].isascii() and value[:17].isdigit():
        return validate_resident_id(value, today=today)
    return validate_unit_code(value)


def _flag(text: str) -> bool:
    word = text.strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InvalidRegistryField(field="registered", value=text.strip()[:10])


def record_of(row: dict[str, str], *, now: datetime, today: date) -> VehicleRecord:
    """One CSV row as a record, every field checked; raises the first problem found."""
    return VehicleRecord(
        vin=validate_vin(row.get("vin", "")),
        certificate_no=validate_certificate_number(row.get("certificate_no", "")),
        owner_id=_owner(row.get("owner_id", ""), today),
        plate_kind=parse_kind(row.get("plate_kind", "")),
        registered=_flag(row.get("registered", "")),
        model=row.get("model", "").strip()[:60],
        imported_at=now,
    )


def import_registry_csv(uow: UnitOfWork, *, text: str, now: datetime, today: date) -> ImportReport:
    """Import (or update) vehicles from CSV. Each row is checked whole before anything of it is
    written: bad rows are reported with their line numbers, good rows are kept."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name: _HEADERS.get(name.strip().casefold(), "") for name in reader.fieldnames or []}
    missing = [name for name in REQUIRED if name not in columns.values()]
    if missing:
        report.errors.append(RowError(1, "registry.columns", {"columns": ", ".join(missing)}))
        return report
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        fields = {columns[k]: (v or "") for k, v in row.items() if k is not None and columns[k]}
        try:
            record = record_of(fields, now=now, today=today)
        except DomainError as error:
            report.errors.append(RowError(line, error.code, dict(error.params)))
            continue
        if record.vin in seen:
            report.errors.append(RowError(line, "registry.duplicate", {"first": seen[record.vin]}))
            continue
        seen[record.vin] = line
        existing = uow.registry.get(record.vin)
        if existing is None:
            uow.registry.add(record)
            report.added += 1
        else:
            existing.certificate_no = record.certificate_no
            existing.owner_id = record.owner_id
            existing.plate_kind = record.plate_kind
            existing.registered = record.registered or existing.registered
            existing.model = record.model or existing.model
            existing.imported_at = now
            report.updated += 1
    return report

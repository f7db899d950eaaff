"""Domain errors of plates, offices, the registry and pre-selection (SPEC §3, §4, §9).

Each has a stable ``code``; the catalogs hold ``error.<code>`` in both languages (what went wrong
and what to do next), and the staff API maps codes to HTTP statuses.
"""

from __future__ import annotations

from core.errors import DomainError


class InvalidPlateNumber(DomainError):
    """Params: ``typed``, ``format_key`` (the catalog text describing the kind's format)."""

    code = "plate.invalid"


class UnknownPlateKind(DomainError):
    code = "plate.kind_unknown"


class InvalidPattern(DomainError):
    code = "plate.pattern_invalid"


class PatternNotAllowed(DomainError):
    code = "plate.pattern_not_allowed"


class PlateReservedByUser(DomainError):
    """A user has a live reservation of the number (SPEC §8): it goes to auction through it."""

    code = "plate.reserved"


class PlateInOpenLot(DomainError):
    code = "plate.in_auction"


class PlateAwaitingBalance(DomainError):
    """Sold at auction; the winner may still pay the balance (SPEC §7)."""

    code = "plate.awaiting_balance"


class NoCandidates(DomainError):
    code = "selection.no_candidates"


class TooManyCandidates(DomainError):
    code = "selection.too_many"


class InvalidVin(DomainError):
    code = "vin.invalid"


class VinChecksumWrong(DomainError):
    code = "vin.checksum"


class InvalidCertificateNumber(DomainError):
    code = "certificate.invalid"


class VehicleNotFound(DomainError):
    code = "vehicle.not_found"


class CertificateMismatch(DomainError):
    code = "vehicle.certificate_mismatch"


class VehicleNotYours(DomainError):
    code = "vehicle.not_yours"


class VehicleRegistered(DomainError):
    code = "vehicle.registered"


class VehicleAlreadyPreselected(DomainError):
    code = "vehicle.preselected"


class OfficeUnknown(DomainError):
    code = "office.unknown"


class OfficeExists(DomainError):
    code = "office.exists"


class OfficeNotInYourRegion(DomainError):
    code = "office.not_your_region"


class InvalidOfficeSetting(DomainError):
    code = "office.setting_invalid"


class OutsideSelectionHours(DomainError):
    code = "selection.closed"


class NoBatchesLeft(DomainError):
    code = "selection.no_batches"


class NoSelfChoiceLeft(DomainError):
    code = "selection.no_self_choice"


class SelectionSessionEnded(DomainError):
    code = "selection.session_ended"


class NumberNotHeld(DomainError):
    code = "selection.not_held"


class PoolEmpty(DomainError):
    code = "selection.pool_empty"


class Blacklisted(DomainError):
    code = "preselection.blacklisted"


class PreselectionNotFound(DomainError):
    code = "preselection.not_found"


class PreselectionNotOpen(DomainError):
    """Confirming or changing a pre-selection that is not waiting for the counter."""

    code = "preselection.not_open"


class PreselectionLapsed(DomainError):
    code = "preselection.lapsed"


class NotBlacklisted(DomainError):
    code = "blacklist.none"


class InvalidRegistryField(DomainError):
    code = "registry.field"


class AccountUnknown(DomainError):
    code = "account.unknown"


class InfoNotFound(DomainError):
    code = "info.not_found"


class InvalidInfo(DomainError):
    code = "info.invalid"

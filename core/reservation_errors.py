"""Refusals of plate reservations (SPEC §8). Each has a stable ``code``; the catalogs hold
``error.<code>`` in both languages (why, and what to do next), and the staff API maps codes to
HTTP statuses."""

from __future__ import annotations

from core.errors import DomainError


class NumberPooled(DomainError):
    """The number is in the office's pool: it is for pre-selection, not for reservation."""

    code = "reservation.number_pooled"


class NumberTaken(DomainError):
    """Held in someone's batch, pre-selected or issued."""

    code = "reservation.number_taken"


class NumberForSale(DomainError):
    code = "reservation.number_for_sale"


class NumberInAuction(DomainError):
    code = "reservation.number_in_auction"


class NumberReserved(DomainError):
    """Another user has a live reservation of the number."""

    code = "reservation.number_reserved"


class AlreadyReserved(DomainError):
    """The user has a live reservation of this number already."""

    code = "reservation.already_yours"


class ReservationUnknown(DomainError):
    code = "reservation.unknown"


class ReservationNotPending(DomainError):
    """Reviewing a reservation that is not waiting for review."""

    code = "reservation.not_pending"


class ReasonRequired(DomainError):
    code = "reservation.reason_required"


class AmountInvalid(DomainError):
    code = "reservation.amount_invalid"

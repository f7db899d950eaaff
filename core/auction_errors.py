"""Domain errors of auctions (SPEC §7). Each has a stable ``code``; the catalogs will hold
``error.<code>`` in both languages, and the staff API maps codes to HTTP statuses. A refused bid
is kept in the lot's audit trail under its error's code."""

from __future__ import annotations

from core.errors import DomainError


class InvalidAuctionSetting(DomainError):
    """Params: ``setting``, ``value``."""

    code = "auction.setting_invalid"


class PeriodNameEnInvalid(DomainError):
    """An English name of a period that would make English SMS dear or long: more than
    ``most`` characters, or characters beyond plain letters, digits, spaces and ``.,'()/&:#+-``
    (GSM-7 has them all). Params: ``most``."""

    code = "auction.name_en_invalid"


class PeriodUnknown(DomainError):
    code = "auction.period_unknown"


class PeriodNotChangeable(DomainError):
    """Cancelling a period, or adding or withdrawing a lot, once it has started (or ended)."""

    code = "auction.period_started"


class NothingToAmend(DomainError):
    """An amendment of a period that names no setting to change."""

    code = "auction.nothing_to_amend"


class SignupAlreadyOpen(DomainError):
    """Signup has opened: its opening can no longer move, and its close and the start can only
    move later (bidders and reservers plan around them). Params: ``setting``."""

    code = "auction.signup_opened"


class TermsFixed(DomainError):
    """Bidders have signed up on the period's terms (the deposit per share, the increments, the
    countdowns, the working days to pay the balance): they can no longer change. Params:
    ``setting``."""

    code = "auction.terms_fixed"


class DepositChanged(DomainError):
    """The deposit per share changed (staff amended the period) after the user was shown the
    total they are confirming: nothing is signed up. Params: ``deposit`` (fen a share now)."""

    code = "auction.deposit_changed"


class LotUnknown(DomainError):
    code = "auction.lot_unknown"


class PlateNotHeldBack(DomainError):
    """The number is in the pool (or pre-selected, issued, for sale): not held back for auction."""

    code = "auction.plate_not_held_back"


class PlateAlreadyInAuction(DomainError):
    code = "auction.plate_in_auction"


class PlateReserved(DomainError):
    """Someone reserved the number: it goes to auction through their reservation. Params:
    ``plate``."""

    code = "auction.plate_reserved"


class SignupClosed(DomainError):
    """Outside the signup window (it closes when the auction starts). Params: ``opens``,
    ``closes``."""

    code = "auction.signup_closed"


class InvalidShares(DomainError):
    """Params: ``most``."""

    code = "auction.shares_invalid"


class DuplicateVin(DomainError):
    """The same VIN twice in one signup. Params: ``vin``."""

    code = "auction.duplicate_vin"


class VinInAnotherSignup(DomainError):
    """The VIN is in another live signup (this period or another). Params: ``vin``."""

    code = "auction.vin_signed_up"


class AlreadySignedUp(DomainError):
    code = "auction.already_signed_up"


class SignupUnknown(DomainError):
    code = "auction.signup_unknown"


class SignupNotAwaitingDeposit(DomainError):
    code = "auction.signup_not_awaiting_deposit"


class BidderUnknown(DomainError):
    """No active signup of the period has this bidder number."""

    code = "auction.bidder_unknown"


class RoomCodeWrong(DomainError):
    """Params: ``left`` (wrong entries left before the code stops working)."""

    code = "auction.room_code_wrong"


class RoomCodeExhausted(DomainError):
    """Too many wrong codes: a new code must be issued (``reissue_room_code``)."""

    code = "auction.room_code_exhausted"


# -- bids: each refusal is kept in the lot's audit trail under its code ------------------------


class SignupNotActive(DomainError):
    """The signup's deposit is not paid (or it was cancelled): no bidding."""

    code = "auction.signup_not_active"


class LotNotOpen(DomainError):
    """The lot has not opened yet (``opens``), or it is closed or withdrawn."""

    code = "auction.lot_not_open"


class BidAfterDeadline(DomainError):
    """The bid came at or after the lot's deadline by the server's clock."""

    code = "auction.after_deadline"


class BidTooLow(DomainError):
    """Params: ``minimum`` (fen)."""

    code = "auction.bid_too_low"


class LotHasPrice(DomainError):
    """A bid at the starting price, once the lot has a price (someone bid first): each bid now
    raises it. Params: ``price`` (fen), ``increments`` (fen, comma separated)."""

    code = "auction.lot_has_price"


class NotAnAllowedIncrement(DomainError):
    """Params: ``increments`` (fen, comma separated)."""

    code = "auction.not_an_increment"


class AlreadyLeading(DomainError):
    """The leader cannot raise their own leading bid."""

    code = "auction.already_leading"


class VinLocked(DomainError):
    """The VIN leads (or won) another lot. Params: ``vin``, ``lot``."""

    code = "auction.vin_locked"


class VinBehindMaximum(DomainError):
    """The VIN stands behind the bidder's maximum (automatic bidding) on another lot: ``MAX 0``
    there frees it. Params: ``vin``, ``lot``."""

    code = "auction.vin_behind_maximum"


class VinNotYours(DomainError):
    code = "auction.vin_not_yours"


class ChooseVin(DomainError):
    """More than one VIN is free: the bid must name one. Params: ``vins`` (comma separated)."""

    code = "auction.choose_vin"


class NoFreeVin(DomainError):
    code = "auction.no_free_vin"


class MaximumTooLow(DomainError):
    """Params: ``minimum`` (fen)."""

    code = "auction.maximum_too_low"


class NoMaximum(DomainError):
    code = "auction.no_maximum"

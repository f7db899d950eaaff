"""Auction periods, lots and signups (SPEC §7, manual 003 §5 "网上竞买"): what staff publish,
how users sign up with their VINs, and how a bidder enters the room. Bidding itself, automatic
bidding and closing are in ``core.bidding``.

- A **period** has a signup window, a start time, a deposit per share, the allowed increments,
  the opening countdown (a lot nobody bids on closes this long after the start), the bid
  countdown (each accepted bid moves the lot's deadline to this long after it) and the balance
  deadline in working days. Defaults are SPEC's.
- A **lot** is a held-back number of an office with a starting price. Lots can be withdrawn, and
  a period cancelled, only before it starts.
- A **signup** has n shares, one distinct VIN each. It waits for its deposit (n × the deposit,
  an order of ``core.orders``); ``deposit_paid`` makes it active and gives it a bidder number
  (unique in the period, drawn at random so that nobody can guess another's from their own) and
  a verification code. Like a one-time code (``core.otp``) the code is never written down: it is
  derived from a random nonce under the server's key, so a copy of the database alone gives none
  away, while "signup history" can show it again. Wrong codes are limited as one-time codes are,
  and only the owner's count: the room opens to the account that signed up and no other.

Money is integer fen, times UTC. Use cases that refuse record nothing unless they say so; the
caller commits (also after a ``DomainError`` the dialog engine commits the turn).
"""

from __future__ import annotations

import enum
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from core import otp
from core.accounts import Language
from core.auction_errors import (
    AlreadySignedUp,
    BidderUnknown,
    DepositChanged,
    DuplicateVin,
    InvalidAuctionSetting,
    InvalidShares,
    LotUnknown,
    NothingToAmend,
    PeriodNameEnInvalid,
    PeriodNotChangeable,
    PeriodUnknown,
    PlateAlreadyInAuction,
    PlateNotHeldBack,
    PlateReserved,
    RoomCodeExhausted,
    RoomCodeWrong,
    SignupAlreadyOpen,
    SignupClosed,
    SignupNotActive,
    SignupNotAwaitingDeposit,
    SignupUnknown,
    TermsFixed,
    VinInAnotherSignup,
)
from core.clock import OFFICE_TZ, Clock, as_utc
from core.events import Event
from core.orders import DEFAULT_MINUTES
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind, parse_serial
from core.pools import NumberState
from core.ports import UnitOfWork
from core.registry import validate_vin

YUAN = 100  # fen
# An English name of a period: short and plain, so that the English notices naming it stay one
# GSM-7 segment (a wider alphabet would make every one of them UCS-2, at 70 characters a part).
NAME_EN_MAX = 30
_NAME_EN = re.compile(rf"[A-Za-z0-9 .,'()/&:#+\-]{{1,{NAME_EN_MAX}}}")
DEFAULT_DEPOSIT_FEN = 5_000 * YUAN
DEFAULT_INCREMENTS_FEN = (1_000 * YUAN, 2_000 * YUAN, 3_000 * YUAN, 4_000 * YUAN, 5_000 * YUAN)
DEFAULT_OPENING_COUNTDOWN_S = 5 * 60
DEFAULT_BID_COUNTDOWN_S = 60
DEFAULT_BALANCE_WORKING_DAYS = 5
MAX_SHARES = 10
MAX_WRONG_CODES = otp.MAX_WRONG_ENTRIES
BIDDER_NUMBER_DIGITS = 8
# A plate number states in which staff may not put it in an auction: it is someone's or pooled.
_NOT_HELD_BACK = frozenset(
    {
        NumberState.POOLED,
        NumberState.HELD,
        NumberState.PRESELECTED,
        NumberState.ISSUED,
        NumberState.FOR_SALE,
    }
)


class PeriodState(enum.StrEnum):
    PUBLISHED = "published"  # signup, then bidding, by the clock
    CLOSED = "closed"  # every lot closed (or withdrawn)
    CANCELLED = "cancelled"


class LotState(enum.StrEnum):
    OPEN = "open"  # bids accepted from the period's start until the deadline
    SOLD = "sold"
    UNSOLD = "unsold"
    WITHDRAWN = "withdrawn"


class SignupState(enum.StrEnum):
    AWAITING_DEPOSIT = "awaiting_deposit"
    ACTIVE = "active"
    CANCELLED = "cancelled"


LIVE_SIGNUP_STATES = (SignupState.AWAITING_DEPOSIT, SignupState.ACTIVE)


@dataclass(eq=False)
class AuctionPeriod:
    name: str
    signup_opens: datetime
    signup_closes: datetime
    starts_at: datetime
    created_at: datetime
    name_en: str | None = None  # what English users read; unset: ``name_in`` makes one
    deposit_fen: int = DEFAULT_DEPOSIT_FEN
    increments_fen: list[int] = field(default_factory=lambda: list(DEFAULT_INCREMENTS_FEN))
    opening_countdown_s: int = DEFAULT_OPENING_COUNTDOWN_S
    bid_countdown_s: int = DEFAULT_BID_COUNTDOWN_S
    balance_working_days: int = DEFAULT_BALANCE_WORKING_DAYS
    state: PeriodState = PeriodState.PUBLISHED
    cancelled_at: datetime | None = None
    closed_at: datetime | None = None
    terms_fixed: bool = False  # by its first signup: the terms no longer change
    id: int | None = None

    @property
    def opening_countdown(self) -> timedelta:
        return timedelta(seconds=self.opening_countdown_s)

    @property
    def bid_countdown(self) -> timedelta:
        return timedelta(seconds=self.bid_countdown_s)

    def name_in(self, language: Language) -> str:
        """The name users of ``language`` read: ``name`` (staff write it in Chinese); in English
        ``name_en``, else ``Auction of 2026-12-08`` (the day it starts, office time). English
        never shows the Chinese name, which would turn a whole SMS into UCS-2 (SPEC §13)."""
        if language is not Language.EN:
            return self.name
        if self.name_en:
            return self.name_en
        return f"Auction of {as_utc(self.starts_at).astimezone(OFFICE_TZ):%Y-%m-%d}"

    def signup_open(self, now: datetime) -> bool:
        """Inside the signup window, which closes at the latest when the auction starts."""
        closes = min(as_utc(self.signup_closes), as_utc(self.starts_at))
        return self.state is PeriodState.PUBLISHED and as_utc(self.signup_opens) <= now < closes

    def started(self, now: datetime) -> bool:
        return now >= as_utc(self.starts_at)

    def validate(self, now: datetime) -> None:
        """Refuse settings that make no sense, naming the first wrong one."""
        if not self.name.strip() or len(self.name) > 80:
            raise InvalidAuctionSetting(setting="name", value=self.name[:20])
        if self.name_en is not None and not _NAME_EN.fullmatch(self.name_en):
            raise PeriodNameEnInvalid(most=NAME_EN_MAX)
        if not as_utc(self.signup_opens) < as_utc(self.signup_closes) <= as_utc(self.starts_at):
            raise InvalidAuctionSetting(setting="signup", value="")
        if as_utc(self.starts_at) <= now:
            raise InvalidAuctionSetting(setting="starts_at", value="")
        if self.deposit_fen <= 0:
            raise InvalidAuctionSetting(setting="deposit", value=self.deposit_fen)
        increments = sorted(set(self.increments_fen))
        if not increments or increments[0] <= 0 or len(increments) > 10:
            raise InvalidAuctionSetting(setting="increments", value="")
        self.increments_fen = increments
        for name, low, high in (
            ("opening_countdown_s", 1, 24 * 3600),
            ("bid_countdown_s", 1, 3600),
            ("balance_working_days", 1, 30),
        ):
            if not low <= getattr(self, name) <= high:
                raise InvalidAuctionSetting(setting=name, value=getattr(self, name))


@dataclass(eq=False)
class Lot:
    """A plate in a period. The row is the unit of bidding: every bid locks it (``core.bidding``).
    ``leader_share_id`` is the VIN that leads (or won): a VIN leading one open lot cannot lead
    another, which a unique index of the store also guarantees."""

    period_id: int
    office_id: int
    plate_kind: PlateKind
    serial: str
    starting_price_fen: int
    position: int
    opens_at: datetime
    deadline: datetime
    state: LotState = LotState.OPEN
    price_fen: int | None = None
    leader_signup_id: int | None = None
    leader_share_id: int | None = None
    bids: int = 0  # accepted bids so far; the next one's sequence number is this + 1
    maxima: int = 0  # active maxima (automatic bidding) on this lot
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class Signup:
    period_id: int
    account_id: int
    shares: int
    deposit_fen: int  # the deposit order's amount: shares × the period's deposit
    created_at: datetime
    state: SignupState = SignupState.AWAITING_DEPOSIT
    bidder_number: str | None = None
    code_nonce: str | None = None  # the verification code is derived from it (``room_code``)
    wrong_codes: int = 0
    activated_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False)
class Share:
    """One share of a signup: one deposit, one VIN. ``live`` while the signup is and its period
    has not closed (or while it won, until settlement): a VIN is in one live share at most."""

    signup_id: int
    period_id: int
    position: int
    vin: str
    live: bool = True
    id: int | None = None


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotWithdrawn(Event):
    lot_id: int
    period_id: int
    withdrawn_at: datetime


@dataclass(frozen=True)
class PeriodPublished(Event):
    """A new period: what waits for one (a paid reservation) can join it."""

    period_id: int
    published_at: datetime


@dataclass(frozen=True)
class PeriodAmended(Event):
    """Staff changed a period's settings before its start (``changed``: their names). When the
    close of signup or the start moved (``rescheduled``), the bidders and reservers are told."""

    period_id: int
    changed: tuple[str, ...]
    rescheduled: bool
    amended_at: datetime
    # Its names before: a notice of new times names the period as its readers knew it (in
    # English a period without its own English name is called by the day it started).
    name_before: str = ""
    name_en_before: str = ""
    # When signup closed before (at the latest the start): what deposit orders were cut to;
    # how long one runs when nothing cuts it short.
    signup_closed_before: datetime | None = None
    deposit_minutes: int = DEFAULT_MINUTES


@dataclass(frozen=True)
class PeriodCancelled(Event):
    """Deposits of ``paid_signup_ids`` are to be refunded, orders of ``unpaid_signup_ids``
    cancelled; every one of their bidders told."""

    period_id: int
    paid_signup_ids: tuple[int, ...]
    unpaid_signup_ids: tuple[int, ...]
    cancelled_at: datetime


@dataclass(frozen=True)
class SignupCreated(Event):
    """A deposit order of ``deposit_fen`` is due (``core.orders``); paid, it calls
    ``deposit_paid``; expired or cancelled, ``cancel_signup``."""

    signup_id: int
    account_id: int
    period_id: int
    shares: int
    deposit_fen: int
    created_at: datetime


@dataclass(frozen=True)
class SignupActivated(Event):
    """The bidder is told their bidder number and code (the code from the signup's nonce)."""

    signup_id: int
    account_id: int
    period_id: int
    bidder_number: str
    activated_at: datetime


@dataclass(frozen=True)
class SignupCancelled(Event):
    signup_id: int
    account_id: int
    period_id: int
    cancelled_at: datetime


@dataclass(frozen=True)
class RoomEntered(Event):
    """A bidder opened the room with their bidder number and code: they are in it from now on
    (``core.auction_room`` tells them what happens there)."""

    period_id: int
    signup_id: int
    account_id: int


@dataclass(frozen=True)
class RoomCodeReissued(Event):
    signup_id: int
    account_id: int
    reissued_at: datetime


# -- staff: periods and lots -------------------------------------------------------------------


def publish_period(
    uow: UnitOfWork,
    *,
    clock: Clock,
    name: str,
    signup_opens: datetime,
    signup_closes: datetime,
    starts_at: datetime,
    name_en: str | None = None,
    deposit_fen: int = DEFAULT_DEPOSIT_FEN,
    increments_fen: Sequence[int] = DEFAULT_INCREMENTS_FEN,
    opening_countdown_s: int = DEFAULT_OPENING_COUNTDOWN_S,
    bid_countdown_s: int = DEFAULT_BID_COUNTDOWN_S,
    balance_working_days: int = DEFAULT_BALANCE_WORKING_DAYS,
) -> AuctionPeriod:
    """``name_en``: what English users read instead of ``name`` (see ``AuctionPeriod.name_in``)."""
    now = clock.now()
    period = AuctionPeriod(
        name=name.strip(),
        name_en=name_en.strip() if name_en is not None else None,
        signup_opens=as_utc(signup_opens),
        signup_closes=as_utc(signup_closes),
        starts_at=as_utc(starts_at),
        created_at=now,
        deposit_fen=deposit_fen,
        increments_fen=list(increments_fen),
        opening_countdown_s=opening_countdown_s,
        bid_countdown_s=bid_countdown_s,
        balance_working_days=balance_working_days,
    )
    period.validate(now)
    uow.auctions.add_period(period)
    uow.record(PeriodPublished(period_id=stored_id(period.id), published_at=now))
    return period


@dataclass(frozen=True)
class PeriodChanges:
    """What staff change in a period; ``None``: left as it is. ``name_en=""`` removes the
    English name (English users then read ``Auction of <the day it starts>``)."""

    name: str | None = None
    name_en: str | None = None
    signup_opens: datetime | None = None
    signup_closes: datetime | None = None
    starts_at: datetime | None = None
    deposit_fen: int | None = None
    increments_fen: Sequence[int] | None = None
    opening_countdown_s: int | None = None
    bid_countdown_s: int | None = None
    balance_working_days: int | None = None


# Changed only before signup opens; the close of signup and the start only later after that.
_TIMES = ("signup_opens", "signup_closes", "starts_at")
# The terms bidders sign up on: fixed once anyone has.
_TERMS = (
    "deposit_fen",
    "increments_fen",
    "opening_countdown_s",
    "bid_countdown_s",
    "balance_working_days",
)


def amend_period(
    uow: UnitOfWork,
    *,
    clock: Clock,
    period_id: int,
    changes: PeriodChanges,
    deposit_minutes: int = DEFAULT_MINUTES,
) -> tuple[AuctionPeriod, tuple[str, ...]]:
    """Staff correct a published period before it starts. Any setting may change until signup
    opens; after that its opening stays, its close and the start only move later (nobody who
    planned around them is caught out), and the terms bidders signed up on (the deposit, the
    increments, the countdowns, the days to pay the balance) stay once anyone has. A moved close
    of signup is later than now. Open lots follow a new start or opening countdown, unless
    bidding began meanwhile. Returns the period as it now is and the names of the settings that
    changed (the event's too: bidders and reservers are told of new times). ``deposit_minutes``:
    how long a deposit order runs (one the old close cut short runs on to it)."""
    period, now = _changeable_period(uow, period_id, clock, exclusive=True)
    before = replace(period, increments_fen=list(period.increments_fen))
    for change in fields(changes):
        value = getattr(changes, change.name)
        if value is None:
            continue
        if change.name in _TIMES:
            value = as_utc(value)
        elif change.name in ("name", "name_en"):
            value = value.strip() or (None if change.name == "name_en" else value)
        elif change.name == "increments_fen":
            value = sorted(set(value))  # as ``validate`` keeps them
        setattr(period, change.name, value)
    changed = tuple(
        change.name
        for change in fields(changes)
        if _stored(getattr(period, change.name)) != _stored(getattr(before, change.name))
    )
    if not changed:
        raise NothingToAmend()
    if as_utc(before.signup_opens) <= now:  # signup has opened
        for name in _TIMES:
            if name in changed and (
                name == "signup_opens" or getattr(period, name) < as_utc(getattr(before, name))
            ):
                raise SignupAlreadyOpen(setting=name)
    if "signup_closes" in changed and as_utc(period.signup_closes) <= now:
        raise InvalidAuctionSetting(setting="signup_closes", value="")
    terms = [name for name in _TERMS if name in changed]
    if terms and before.terms_fixed:  # read under the lock the first signup's flag waits for
        raise TermsFixed(setting=terms[0].removesuffix("_fen"))
    period.validate(now)
    uow.auctions.save_period(period)
    if "starts_at" in changed or "opening_countdown_s" in changed:
        starts = as_utc(period.starts_at)
        if not uow.auctions.retime_open_lots(period_id, starts, starts + period.opening_countdown):
            raise PeriodNotChangeable()  # a lot took a bid meanwhile: bidding has begun
    rescheduled = "signup_closes" in changed or "starts_at" in changed
    uow.record(
        PeriodAmended(
            period_id,
            changed,
            rescheduled,
            now,
            name_before=before.name,
            name_en_before=before.name_in(Language.EN),
            signup_closed_before=min(as_utc(before.signup_closes), as_utc(before.starts_at)),
            deposit_minutes=deposit_minutes,
        )
    )
    return period, changed


def _stored(value: object) -> object:
    """A setting as it compares: times in UTC (a store may hand them back naive)."""
    return as_utc(value) if isinstance(value, datetime) else value


def name_for(uow: UnitOfWork, period: AuctionPeriod, account_id: int) -> str:
    """``period``'s name as the account's language shows it (for a notice to that account)."""
    account = uow.accounts.view(account_id)
    return period.name_in(account.language if account is not None else Language.ZH)


def _changeable_period(
    uow: UnitOfWork, period_id: int, clock: Clock, *, exclusive: bool = False
) -> tuple[AuctionPeriod, datetime]:
    """The period, locked, published and not started, and the time: read once the lock is held,
    so that no start passes unseen by a change waiting for it. ``exclusive``: also of signups
    (``sign_up``), for a change they must see whole or not at all (a cancellation, an
    amendment)."""
    period = uow.auctions.period(period_id, lock="exclusive" if exclusive else True)
    if period is None:
        raise PeriodUnknown()
    now = clock.now()
    if period.state is not PeriodState.PUBLISHED or period.started(now):
        raise PeriodNotChangeable()
    return period, now


def add_lot(
    uow: UnitOfWork,
    *,
    clock: Clock,
    period_id: int,
    office_code: str,
    kind: PlateKind,
    serial: str,
    starting_price_fen: int,
    reservation_id: int | None = None,
) -> Lot:
    """A held-back number of the office becomes a lot. A number the pool knows must be one that
    is reserved or already meant for auction; it is marked as in auction. A number someone
    reserved becomes a lot only through that reservation (``reservation_id``)."""
    period, _ = _changeable_period(uow, period_id, clock)
    office = uow.offices.by_code(office_code)
    if office is None or office.id is None:
        raise OfficeUnknown(office=office_code)
    uow.offices.lock(office.id)  # a reservation of the number waits, then sees it a lot
    serial = parse_serial(kind, serial)
    if starting_price_fen <= 0:
        raise InvalidAuctionSetting(setting="starting_price", value=starting_price_fen)
    known = uow.pool.states(office.id, kind, [serial], lock=True).get(serial)
    if known is not None and known[0] in _NOT_HELD_BACK:
        raise PlateNotHeldBack(plate=office.plate(serial))
    if uow.settlements.awaiting(office.id, kind, serial) is not None:  # sold, balance due
        raise PlateNotHeldBack(plate=office.plate(serial))
    if uow.auctions.open_lot_for(office.id, kind, serial) is not None:
        raise PlateAlreadyInAuction(plate=office.plate(serial))
    reserved = uow.reservations.live_for(office.id, kind, serial)
    if reserved is not None and reserved.id != reservation_id:
        raise PlateReserved(plate=office.plate(serial))
    if known is not None:
        uow.pool.set_state(office.id, kind, serial, NumberState.IN_AUCTION)
    starts = as_utc(period.starts_at)
    lot = Lot(
        period_id=period_id,
        office_id=office.id,
        plate_kind=kind,
        serial=serial,
        starting_price_fen=starting_price_fen,
        position=len(uow.auctions.lots(period_id)) + 1,
        opens_at=starts,
        deadline=starts + period.opening_countdown,
    )
    uow.auctions.add_lot(lot)
    return lot


def withdraw_lot(uow: UnitOfWork, *, clock: Clock, lot_id: int) -> Lot:
    lot = uow.auctions.lot(lot_id)
    if lot is None or lot.id is None:
        raise LotUnknown()
    _, now = _changeable_period(uow, lot.period_id, clock)
    if lot.state is not LotState.OPEN:
        raise PeriodNotChangeable()
    lot.state, lot.withdrawn_at = LotState.WITHDRAWN, now
    uow.auctions.save_lot(lot)
    uow.record(LotWithdrawn(lot_id=lot.id, period_id=lot.period_id, withdrawn_at=now))
    return lot


def cancel_period(uow: UnitOfWork, *, clock: Clock, period_id: int) -> AuctionPeriod:
    """Before the start: lots withdrawn, signups cancelled (their VINs free again); the event
    says whose deposits to refund and whose orders to cancel."""
    period, now = _changeable_period(uow, period_id, clock, exclusive=True)  # after signups
    period.state, period.cancelled_at = PeriodState.CANCELLED, now
    uow.auctions.save_period(period)
    for lot in uow.auctions.lots(period_id):
        if lot.state is LotState.OPEN:
            lot.state, lot.withdrawn_at = LotState.WITHDRAWN, now
            uow.auctions.save_lot(lot)
    paid: list[int] = []
    unpaid: list[int] = []
    for signup in uow.auctions.signups(period_id, states=LIVE_SIGNUP_STATES):
        (paid if signup.state is SignupState.ACTIVE else unpaid).append(stored_id(signup.id))
        signup.state, signup.cancelled_at = SignupState.CANCELLED, now
        uow.auctions.save_signup(signup)
    uow.auctions.release_shares(paid + unpaid)
    uow.record(
        PeriodCancelled(
            period_id=period_id,
            paid_signup_ids=tuple(paid),
            unpaid_signup_ids=tuple(unpaid),
            cancelled_at=now,
        )
    )
    return period


# -- signup ------------------------------------------------------------------------------------


def sign_up(
    uow: UnitOfWork,
    *,
    clock: Clock,
    account_id: int,
    period_id: int,
    vins: Sequence[str],
    deposit_fen: int | None = None,
) -> Signup:
    """n shares, one VIN each (format and check digit), inside the signup window; a VIN in
    another live signup is refused. The deposit order follows from ``SignupCreated``.
    ``deposit_fen``: the deposit a share that the user confirmed (refused, nothing written,
    when staff changed it since: ``DepositChanged``)."""
    now = clock.now()
    # Beside other signups and the staff's changes of lots; a cancellation or an amendment of
    # the period waits for this signup, or this one for it (and sees what it made).
    period = uow.auctions.period(period_id, lock="signup")
    if period is None or period.id is None:
        raise PeriodUnknown()
    if not period.signup_open(now):
        raise SignupClosed(opens=period.signup_opens.isoformat(), closes=_closes(period))
    if deposit_fen is not None and deposit_fen != period.deposit_fen:
        raise DepositChanged(deposit=period.deposit_fen)
    if not 1 <= len(vins) <= MAX_SHARES:
        raise InvalidShares(most=MAX_SHARES)
    cleaned: list[str] = []
    for text in vins:
        vin = validate_vin(text)
        if vin in cleaned:
            raise DuplicateVin(vin=vin)
        cleaned.append(vin)
    taken = uow.auctions.live_vins(cleaned)
    if taken:
        raise VinInAnotherSignup(vin=next(vin for vin in cleaned if vin in taken))
    if uow.auctions.signup_of(account_id, period_id) is not None:
        raise AlreadySignedUp()
    # The terms stay once anyone has signed up (``amend_period``); nothing after this refuses
    # (the dialog engine commits a turn's refusal: the flag would stay without a signup).
    uow.auctions.fix_terms(period_id)
    signup = Signup(
        period_id=period_id,
        account_id=account_id,
        shares=len(cleaned),
        deposit_fen=len(cleaned) * period.deposit_fen,
        created_at=now,
    )
    uow.auctions.add_signup(signup, cleaned)
    uow.record(
        SignupCreated(
            signup_id=stored_id(signup.id),
            account_id=account_id,
            period_id=period_id,
            shares=signup.shares,
            deposit_fen=signup.deposit_fen,
            created_at=now,
        )
    )
    return signup


def stored_id(value: int | None) -> int:
    """The id of a stored entity (the repository gave it one when it was added)."""
    if value is None:
        raise RuntimeError("an entity without an id: it was never stored")
    return value


def _closes(period: AuctionPeriod) -> str:
    return min(as_utc(period.signup_closes), as_utc(period.starts_at)).isoformat()


def new_bidder_number() -> str:
    """Random, so that one bidder number tells nothing about the others."""
    low = 10 ** (BIDDER_NUMBER_DIGITS - 1)
    return str(low + secrets.randbelow(9 * low))


def deposit_paid(uow: UnitOfWork, *, clock: Clock, signup_id: int) -> Signup:
    """The deposit order was paid (a handler of the orders' event calls this): the signup becomes
    active with a bidder number and a verification code. Paying twice changes nothing."""
    now = clock.now()
    signup = uow.auctions.signup(signup_id, lock=True)
    if signup is None or signup.id is None:
        raise SignupUnknown()
    if signup.state is SignupState.ACTIVE:
        return signup
    if signup.state is not SignupState.AWAITING_DEPOSIT:
        raise SignupNotAwaitingDeposit()
    number = new_bidder_number()
    while uow.auctions.bidder_number_taken(signup.period_id, number):
        number = new_bidder_number()  # pragma: no cover - one in tens of thousands
    signup.state, signup.activated_at = SignupState.ACTIVE, now
    signup.bidder_number, signup.code_nonce = number, otp.new_nonce()
    signup.wrong_codes = 0
    uow.auctions.save_signup(signup)
    uow.record(
        SignupActivated(
            signup_id=signup.id,
            account_id=signup.account_id,
            period_id=signup.period_id,
            bidder_number=number,
            activated_at=now,
        )
    )
    return signup


def cancel_signup(uow: UnitOfWork, *, clock: Clock, signup_id: int) -> Signup:
    """The deposit order expired or was cancelled (or staff cancel it): the VINs are free."""
    now = clock.now()
    signup = uow.auctions.signup(signup_id, lock=True)
    if signup is None or signup.id is None:
        raise SignupUnknown()
    if signup.state is SignupState.CANCELLED:
        return signup
    signup.state, signup.cancelled_at = SignupState.CANCELLED, now
    uow.auctions.save_signup(signup)
    uow.auctions.release_shares([signup.id])
    uow.record(
        SignupCancelled(
            signup_id=signup.id,
            account_id=signup.account_id,
            period_id=signup.period_id,
            cancelled_at=now,
        )
    )
    return signup


def room_code(key: bytes, signup: Signup) -> str:
    """The signup's verification code (6 digits), derived from its nonce under the server's key:
    for the notice that tells it and for "signup history"."""
    if signup.code_nonce is None:
        raise SignupNotActive()
    return otp.derive_code(key, signup.code_nonce)


def enter_room(
    uow: UnitOfWork,
    *,
    key: bytes,
    period_id: int,
    bidder_number: str,
    code: str,
    account_id: int | None,
) -> Signup:
    """Bidder number + verification code open the room to the account that signed up
    (``account_id``: who types them). A wrong code of the owner counts (commit after the refusal
    too); after ``MAX_WRONG_CODES`` of them the code stops working until a new one is issued
    (``reissue_room_code``). Another account's number, with any code, is refused as an unknown
    one and changes nothing: nobody can lock a bidder out, nor learn which numbers exist."""
    signup = uow.auctions.signup_by_bidder(period_id, bidder_number.strip(), lock=True)
    if (
        signup is None
        or account_id is None
        or signup.account_id != account_id
        or signup.state is not SignupState.ACTIVE
        or signup.code_nonce is None
    ):
        raise BidderUnknown()
    if signup.wrong_codes >= MAX_WRONG_CODES:
        raise RoomCodeExhausted()
    entered = "".join(code.split())
    if not hmac.compare_digest(room_code(key, signup).encode(), entered.encode()):
        signup.wrong_codes += 1
        uow.auctions.save_signup(signup)
        left = MAX_WRONG_CODES - signup.wrong_codes
        if left == 0:
            raise RoomCodeExhausted()
        raise RoomCodeWrong(left=left)
    if signup.wrong_codes:
        signup.wrong_codes = 0
        uow.auctions.save_signup(signup)
    uow.record(
        RoomEntered(
            period_id=signup.period_id, signup_id=stored_id(signup.id), account_id=signup.account_id
        )
    )
    return signup


def reissue_room_code(uow: UnitOfWork, *, clock: Clock, signup_id: int) -> Signup:
    """A new verification code (the old one stops working); the bidder is told it."""
    now = clock.now()
    signup = uow.auctions.signup(signup_id, lock=True)
    if signup is None or signup.id is None or signup.state is not SignupState.ACTIVE:
        raise SignupNotActive()
    signup.code_nonce, signup.wrong_codes = otp.new_nonce(), 0
    uow.auctions.save_signup(signup)
    uow.record(RoomCodeReissued(signup_id=signup.id, account_id=signup.account_id, reissued_at=now))
    return signup


@dataclass(frozen=True)
class PeriodListing:
    """What users see (manual 003 §5): the period under way, the auction notices of those to
    come, and the past ones (with their results)."""

    current: list[AuctionPeriod]
    upcoming: list[AuctionPeriod]
    past: list[AuctionPeriod]


def list_periods(uow: UnitOfWork, *, now: datetime) -> PeriodListing:
    current: list[AuctionPeriod] = []
    upcoming: list[AuctionPeriod] = []
    past: list[AuctionPeriod] = []
    for period in uow.auctions.periods():
        if period.state is PeriodState.CLOSED:
            past.append(period)
        elif period.state is PeriodState.PUBLISHED:
            (current if period.started(now) else upcoming).append(period)
    past.reverse()  # the latest first
    return PeriodListing(current=current, upcoming=upcoming, past=past)

"""Results publicity (SPEC §7, issue 14 item 9): per closed period, each lot, sold or unsold,
its final price and the winner's bidder number masked, as users read it on every channel and
staff over the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.accounts import Language
from core.auction_errors import PeriodUnknown
from core.auctions import AuctionPeriod, LotState, PeriodState, stored_id
from core.errors import DomainError
from core.masking import mask_bidder
from core.offices import Office
from core.ports import UnitOfWork


class ResultsNotPublished(DomainError):
    """The period has not closed yet: no results."""

    code = "auction.results_not_published"


@dataclass(frozen=True, slots=True)
class LotResult:
    position: int
    plate: str  # 粤D·88888
    plate_en: str  # Yue D 88888: English stays in the cheaper SMS alphabet
    sold: bool
    price_fen: int | None  # the final price of a sold lot
    winner: str | None  # the masked bidder number of a sold lot


@dataclass(frozen=True, slots=True)
class PeriodResults:
    period_id: int
    name: str
    name_en: str  # English users read it (``AuctionPeriod.name_in``): GSM-7, for cheap SMS
    starts_at: datetime
    closed_at: datetime | None
    lots: tuple[LotResult, ...]

    def name_in(self, language: Language) -> str:
        return self.name_en if language is Language.EN else self.name

    @property
    def sold(self) -> int:
        return sum(1 for lot in self.lots if lot.sold)


def period_results(uow: UnitOfWork, period_id: int) -> PeriodResults:
    """The results of a closed period (withdrawn lots are not among them)."""
    period = uow.auctions.period(period_id)
    if period is None:
        raise PeriodUnknown()
    if period.state is not PeriodState.CLOSED:
        raise ResultsNotPublished()
    return _results(uow, period)


def published_results(uow: UnitOfWork) -> list[PeriodResults]:
    """Every closed period's results, the latest first."""
    closed = [p for p in uow.auctions.periods() if p.state is PeriodState.CLOSED]
    return [_results(uow, period) for period in reversed(closed)]


def _results(uow: UnitOfWork, period: AuctionPeriod) -> PeriodResults:
    offices: dict[int, Office | None] = {}
    lots: list[LotResult] = []
    for lot in uow.auctions.lots(stored_id(period.id)):
        if lot.state not in (LotState.SOLD, LotState.UNSOLD):
            continue
        office = offices.get(lot.office_id) or uow.offices.get(lot.office_id)
        offices[lot.office_id] = office
        plate = office.plate(lot.serial) if office is not None else lot.serial
        plate_en = f"{office.code_in(Language.EN)} {lot.serial}" if office else lot.serial
        winner = None
        if lot.state is LotState.SOLD and lot.leader_signup_id is not None:
            signup = uow.auctions.signup(lot.leader_signup_id)
            if signup is not None and signup.bidder_number is not None:
                winner = mask_bidder(signup.bidder_number)
        lots.append(
            LotResult(
                position=lot.position,
                plate=plate,
                plate_en=plate_en,
                sold=lot.state is LotState.SOLD,
                price_fen=lot.price_fen if lot.state is LotState.SOLD else None,
                winner=winner,
            )
        )
    return PeriodResults(
        period_id=stored_id(period.id),
        name=period.name,
        name_en=period.name_in(Language.EN),
        starts_at=period.starts_at,
        closed_at=period.closed_at,
        lots=tuple(sorted(lots, key=lambda result: result.position)),
    )

"""Periods, lots, signups and the room (SPEC §7): what staff may publish and change, who may
sign up with which VINs, the bidder number and code a paid deposit brings, and wrong codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from core import auction_errors as errors
from core import auctions, pools
from core.auction_signup import sign_up_with_deposit
from core.auctions import (
    YUAN,
    AuctionPeriod,
    LotState,
    LotWithdrawn,
    PeriodCancelled,
    PeriodState,
    SignupActivated,
    SignupCreated,
    SignupState,
)
from core.errors import DomainError
from core.plate_errors import InvalidVin, VinChecksumWrong
from core.plates import PlateKind
from tests.auction_world import KEY, OFFICE, AuctionWorld, vin


@pytest.fixture
def world(db: Engine) -> AuctionWorld:
    return AuctionWorld(db)


def period_of(world: AuctionWorld, period_id: int) -> AuctionPeriod:
    with world.uow() as uow:
        period = uow.auctions.period(period_id)
    assert period is not None
    return period


def test_a_period_takes_spec_defaults(world: AuctionWorld) -> None:
    period = period_of(world, world.period())
    assert period.deposit_fen == 5_000 * YUAN
    assert period.increments_fen == [k * 1_000 * YUAN for k in (1, 2, 3, 4, 5)]
    assert (period.opening_countdown_s, period.bid_countdown_s) == (300, 60)
    assert period.balance_working_days == 5
    assert period.state is PeriodState.PUBLISHED


@pytest.mark.parametrize(
    ("settings", "setting"),
    [
        ({"deposit_fen": 0}, "deposit"),
        ({"increments_fen": []}, "increments"),
        ({"bid_countdown_s": 0}, "bid_countdown_s"),
        ({"balance_working_days": 0}, "balance_working_days"),
    ],
)
def test_a_period_with_a_senseless_setting_is_refused(
    world: AuctionWorld, settings: dict[str, object], setting: str
) -> None:
    with pytest.raises(errors.InvalidAuctionSetting) as refused:
        world.period(**settings)
    assert refused.value.params["setting"] == setting


def test_a_signup_window_must_end_by_the_start(world: AuctionWorld) -> None:
    with pytest.raises(errors.InvalidAuctionSetting):
        world.period(signup_closes=world.starts_at + timedelta(minutes=1))


def test_only_a_held_back_number_becomes_a_lot_and_only_once(world: AuctionWorld) -> None:
    with world.uow() as uow:
        pools.load_pool(uow, office_code=OFFICE, kind=PlateKind.SMALL, serials=["12345"])
        uow.commit()
    period = world.period()
    with pytest.raises(errors.PlateNotHeldBack):
        world.lot(period, "12345")
    world.lot(period, "88888")
    with pytest.raises(errors.PlateAlreadyInAuction):
        world.lot(period, "88888")


def test_staff_withdraw_a_lot_and_cancel_a_period_only_before_the_start(
    world: AuctionWorld,
) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    kept = world.lot(period, "66666")
    paid = world.bidder(period)
    unpaid = world.signup(period, world.new_vins(1))
    with world.uow() as uow:
        auctions.withdraw_lot(uow, clock=world.clock, lot_id=lot)
        uow.commit()
    assert world.lot_now(lot).state is LotState.WITHDRAWN
    assert [e.lot_id for e in world.of_type(LotWithdrawn)] == [lot]
    with world.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=period)
        uow.commit()
    (cancelled,) = world.of_type(PeriodCancelled)
    assert cancelled.paid_signup_ids == (paid.signup_id,)
    assert cancelled.unpaid_signup_ids == (unpaid,)
    assert world.lot_now(kept).state is LotState.WITHDRAWN
    with world.uow() as uow:
        assert uow.auctions.live_vins(paid.vins) == set(), "the VINs are free again"

    started = world.period(name="下一期")
    world.lot(started, "99999")
    world.start()
    with pytest.raises(errors.PeriodNotChangeable), world.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=started)


def test_signup_is_open_only_inside_its_window(world: AuctionWorld) -> None:
    period = world.period(signup_opens=world.opened_at + timedelta(minutes=10))
    with pytest.raises(errors.SignupClosed):
        world.signup(period, world.new_vins(1))
    world.clock.advance(timedelta(minutes=10))
    world.signup(period, world.new_vins(1))
    world.start()
    with pytest.raises(errors.SignupClosed):
        world.signup(period, world.new_vins(1))


@pytest.mark.parametrize(
    ("vins", "refusal"),
    [
        ([vin(1), vin(1)], errors.DuplicateVin),
        ([vin(2), vin(1)[:8] + ("2" if vin(1)[8] == "1" else "1") + vin(1)[9:]], VinChecksumWrong),
        (["LGBH52E0"], InvalidVin),
        ([], errors.InvalidShares),
        ([vin(n) for n in range(1, 12)], errors.InvalidShares),
    ],
)
def test_a_signup_needs_one_valid_distinct_vin_per_share(
    world: AuctionWorld, vins: list[str], refusal: type[DomainError]
) -> None:
    period = world.period()
    with pytest.raises(refusal):
        world.signup(period, vins)


def test_a_vin_in_another_live_signup_is_refused_until_that_one_is_cancelled(
    world: AuctionWorld,
) -> None:
    first, second = world.period(), world.period(name="另一期")
    signup = world.signup(first, [vin(7)])
    with pytest.raises(errors.VinInAnotherSignup) as refused:
        world.signup(second, [vin(8), vin(7)])
    assert refused.value.params["vin"] == vin(7)
    with world.uow() as uow:
        auctions.cancel_signup(uow, clock=world.clock, signup_id=signup)
        uow.commit()
    world.signup(second, [vin(8), vin(7)])


def test_a_paid_deposit_gives_an_unguessable_bidder_number_and_a_code(
    world: AuctionWorld,
) -> None:
    period = world.period(deposit_fen=2_000 * YUAN)
    signup_id = world.signup(period, world.new_vins(3))
    (created,) = world.of_type(SignupCreated)
    assert (created.shares, created.deposit_fen) == (3, 6_000 * YUAN)
    numbers = set()
    for _ in range(2):  # the same payment reported twice changes nothing
        with world.uow() as uow:
            signup = auctions.deposit_paid(uow, clock=world.clock, signup_id=signup_id)
            uow.commit()
        numbers.add(signup.bidder_number)
    (number,) = numbers
    assert number is not None and len(number) == 8 and number.isdigit()
    assert signup.state is SignupState.ACTIVE
    assert [e.bidder_number for e in world.of_type(SignupActivated)] == [number]
    others = {world.bidder(period).bidder_number for _ in range(5)}
    assert number not in others and len(others) == 5
    assert len({int(n) for n in [*others, number]}) == 6


def test_the_room_opens_with_bidder_number_and_code(world: AuctionWorld) -> None:
    period = world.period()
    alice = world.bidder(period)
    with world.uow() as uow:
        signup = uow.auctions.signup(alice.signup_id)
        assert signup is not None
        code = auctions.room_code(KEY, signup)
        entered = auctions.enter_room(
            uow,
            key=KEY,
            period_id=period,
            bidder_number=alice.bidder_number,
            code=code,
            account_id=alice.account_id,
        )
    assert entered.id == alice.signup_id
    with pytest.raises(errors.BidderUnknown), world.uow() as uow:
        auctions.enter_room(
            uow,
            key=KEY,
            period_id=period,
            bidder_number="12345678",
            code=code,
            account_id=alice.account_id,
        )


def test_the_room_does_not_open_to_another_account_and_counts_nothing_against_the_bidder(
    world: AuctionWorld,
) -> None:
    period = world.period()
    alice, mallory = world.bidder(period), world.bidder(period)
    with world.uow() as uow:
        signup = uow.auctions.signup(alice.signup_id)
        assert signup is not None
        code = auctions.room_code(KEY, signup)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for typed in [wrong] * auctions.MAX_WRONG_CODES + [code]:
        for account_id in (mallory.account_id, None):
            with pytest.raises(errors.BidderUnknown), world.uow() as uow:
                try:
                    auctions.enter_room(
                        uow,
                        key=KEY,
                        period_id=period,
                        bidder_number=alice.bidder_number,
                        code=typed,
                        account_id=account_id,
                    )
                finally:
                    uow.commit()  # as the dialog engine commits a refusal
    with world.uow() as uow:
        signup = uow.auctions.signup(alice.signup_id)
        assert signup is not None and signup.wrong_codes == 0
        entered = auctions.enter_room(
            uow,
            key=KEY,
            period_id=period,
            bidder_number=alice.bidder_number,
            code=code,
            account_id=alice.account_id,
        )
    assert entered.id == alice.signup_id


def test_wrong_room_codes_are_limited_like_one_time_codes(world: AuctionWorld) -> None:
    period = world.period()
    alice = world.bidder(period)
    with world.uow() as uow:
        signup = uow.auctions.signup(alice.signup_id)
        assert signup is not None
        code = auctions.room_code(KEY, signup)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    def enter(entered: str) -> DomainError | None:
        with world.uow() as uow:
            try:
                auctions.enter_room(
                    uow,
                    key=KEY,
                    period_id=period,
                    bidder_number=alice.bidder_number,
                    code=entered,
                    account_id=alice.account_id,
                )
            except DomainError as error:
                uow.commit()  # a wrong entry counts, as the dialog engine commits a refusal
                return error
            uow.commit()
        return None

    lefts = []
    for _ in range(4):
        refusal = enter(wrong)
        assert isinstance(refusal, errors.RoomCodeWrong)
        lefts.append(refusal.params["left"])
    assert lefts == [4, 3, 2, 1]
    assert isinstance(enter(wrong), errors.RoomCodeExhausted)
    assert isinstance(enter(code), errors.RoomCodeExhausted), "even the right code, now"
    with world.uow() as uow:
        signup = auctions.reissue_room_code(uow, clock=world.clock, signup_id=alice.signup_id)
        uow.commit()
    new = auctions.room_code(KEY, signup)
    if new != code:  # one chance in a million that the new code is the old one
        assert isinstance(enter(code), errors.RoomCodeWrong), "the old code stopped working"
    assert enter(new) is None


def test_users_see_the_current_upcoming_and_past_periods(world: AuctionWorld) -> None:
    soon = world.period(name="本期")
    world.lot(soon, "88888")
    later = world.period(name="下期", starts_at=world.starts_at + timedelta(days=7))
    cancelled = world.period(name="取消")
    with world.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=cancelled)
        uow.commit()

    def listed() -> tuple[list[int | None], list[int | None], list[int | None]]:
        with world.uow() as uow:
            seen = auctions.list_periods(uow, now=world.clock.now())
        return (
            [p.id for p in seen.current],
            [p.id for p in seen.upcoming],
            [p.id for p in seen.past],
        )

    assert listed() == ([], [soon, later], [])
    world.start()
    assert listed() == ([soon], [later], [])
    world.clock.advance(timedelta(minutes=5))
    world.close_due()
    assert listed() == ([], [later], [soon])


def test_a_deposit_is_due_by_the_start_at_the_latest(world: AuctionWorld) -> None:
    """Signing up ten minutes before bidding starts: the deposit is due at the start, not thirty
    minutes later, when it would buy nothing."""
    period_id = world.period()
    world.clock.set(world.starts_at - timedelta(minutes=10))
    account = world.account()
    with world.uow() as uow:
        _signup, order = sign_up_with_deposit(
            uow,
            clock=world.clock,
            account_id=account,
            period_id=period_id,
            vins=world.new_vins(1),
            minutes=30,
        )
        uow.commit()
    assert order.deadline == world.starts_at
    world.clock.set(world.opened_at)
    with world.uow() as uow:
        _signup, early = sign_up_with_deposit(
            uow,
            clock=world.clock,
            account_id=world.account(),
            period_id=period_id,
            vins=world.new_vins(1),
            minutes=30,
        )
        uow.commit()
    assert early.deadline == world.opened_at + timedelta(minutes=30)

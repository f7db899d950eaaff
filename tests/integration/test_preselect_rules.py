"""Pre-selection use cases on a real database (SPEC §4): allowance arithmetic, holds, the
registry checks, deadlines, counter confirmation, expiry and the blacklist, and two users at once.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa

from core import basic_information, counter, office_admin, selection
from core.accounts import Account, Category
from core.clock import OFFICE_TZ, ManualClock
from core.errors import DomainError
from core.plate_errors import (
    Blacklisted,
    CertificateMismatch,
    NoBatchesLeft,
    NoSelfChoiceLeft,
    OfficeNotInYourRegion,
    OutsideSelectionHours,
    PreselectionLapsed,
    SelectionSessionEnded,
    TooManyCandidates,
    VehicleAlreadyPreselected,
    VehicleNotFound,
    VehicleNotYours,
    VehicleRegistered,
)
from core.plates import PlateKind
from core.pools import NumberState
from core.preselection import Preselection, PreselectionState
from core.registry import import_registry_csv
from core.timers import Timers
from platebot.bootstrap import App
from platebot.console import ConsoleChat
from platebot.settings import Settings
from store.preselection_tables import blacklist, preselections
from tests.preselect_world import (
    OFFICE,
    OTHER_ID,
    OTHER_PHONE,
    PERSON_ID,
    PERSON_PHONE,
    UNIT_PHONE,
    add_accounts,
    add_numbers,
    add_office,
    add_vehicles,
    cert,
    number_state,
    person,
    standard_world,
    vin,
)
from tests.support import CapturingSender

POOL = [f"{10000 + i}" for i in range(30)]


@pytest.fixture
def world(app: App) -> App:
    standard_world(app, POOL)
    return app


def account(app: App, phone: str = PERSON_PHONE) -> Account:
    found = run(app, lambda uow: uow.accounts.by_phone(phone))
    assert isinstance(found, Account)
    return found


def run(app: App, action: Callable[[Any], Any]) -> Any:
    """One committed transaction."""
    with app.uow() as uow:
        result = action(uow)
        uow.commit()
        return result


def begin(app: App, phone: str = PERSON_PHONE, n: int = 1, office: str = OFFICE) -> int:
    user = account(app, phone)
    started = run(
        app,
        lambda uow: basic_information.begin(
            uow,
            now=app.clock.now(),
            account=user,
            office_code=office,
            vin=vin(n),
            certificate_no=cert(n),
        ),
    )
    return int(started.id)


def open_session(app: App, sms: CapturingSender, phone: str = PERSON_PHONE, n: int = 1) -> int:
    """Stage 1 done for vehicle ``n`` and the phone verified: a selection session's id."""
    user = account(app, phone)
    preselection_id = begin(app, phone, n)
    key = app.dialogs.services.code_key
    run(
        app,
        lambda uow: selection.send_selection_code(
            uow,
            clock=app.clock,
            key=key,
            account=user,
            preselection_id=preselection_id,
            language=user.language,
        ),
    )
    app.dispatcher.run_once()
    code = sms.last_code(phone)
    session = run(
        app,
        lambda uow: selection.start_session(
            uow,
            clock=app.clock,
            key=key,
            account=user,
            preselection_id=preselection_id,
            entered_code=code,
        ),
    )
    return int(session.id)


def choose(app: App, session_id: int, typed: str, phone: str = PERSON_PHONE) -> selection.OwnCheck:
    user = account(app, phone)
    return run(  # type: ignore[no-any-return]
        app,
        lambda uow: selection.choose_own(
            uow, now=app.clock.now(), account=user, session_id=session_id, typed=typed
        ),
    )


def draw(
    app: App, session_id: int, phone: str = PERSON_PHONE, no_four: bool = False
) -> selection.Batch:
    user = account(app, phone)
    return run(  # type: ignore[no-any-return]
        app,
        lambda uow: selection.draw_batch(
            uow, now=app.clock.now(), account=user, session_id=session_id, no_four=no_four
        ),
    )


def take(app: App, session_id: int, serial: str, phone: str = PERSON_PHONE) -> Preselection:
    user = account(app, phone)
    return run(  # type: ignore[no-any-return]
        app,
        lambda uow: selection.take_from_batch(
            uow, now=app.clock.now(), account=user, session_id=session_id, serial=serial
        ),
    )


def pool_counts(app: App) -> dict[PlateKind, int]:
    with app.uow() as uow:
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        return uow.pool.counts(office.id)


def refused(app: App, action: Callable[[], Any], error: type[DomainError]) -> DomainError:
    with pytest.raises(error) as caught:
        action()
    return caught.value


def the_preselection(app: App, n: int = 1) -> Preselection:
    found = run(app, lambda uow: uow.preselections.open_for_vin(vin(n)))
    assert isinstance(found, Preselection)
    return found


def set_state(app: App, serial: str, state: NumberState) -> None:
    with app.uow() as uow:
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        uow.pool.set_state(office.id, PlateKind.SMALL, serial, state)
        uow.commit()


# -- allowance arithmetic -------------------------------------------------------------------


def test_n_candidates_all_taken_cost_n(world: App, sms: CapturingSender) -> None:
    session = open_session(world, sms)
    for serial in ("10001", "10002"):
        set_state(world, serial, NumberState.PRESELECTED)
    outcome = choose(world, session, "10001 10002 88888")  # 88888 is not in the pool at all
    assert (outcome.taken, outcome.spent, outcome.left) == (None, 3, 17)
    assert the_preselection(world).self_choice_left == 17


def test_one_available_costs_nothing_more_and_completes(world: App, sms: CapturingSender) -> None:
    session = open_session(world, sms)
    set_state(world, "10001", NumberState.PRESELECTED)
    outcome = choose(world, session, "10001 10005 10006")
    assert (outcome.taken, outcome.spent, outcome.left) == ("10005", 0, 20)
    done = the_preselection(world)
    assert (done.state, done.serial, done.self_choice_left) == (
        PreselectionState.SELECTED,
        "10005",
        20,
    )
    assert number_state(world, "10005") == NumberState.PRESELECTED
    assert number_state(world, "10006") == NumberState.POOLED


def test_a_batch_costs_one_and_its_numbers_are_held(world: App, sms: CapturingSender) -> None:
    session = open_session(world, sms)
    batch = draw(world, session)
    assert len(batch.serials) == 10 and batch.batches_left == 4
    assert {number_state(world, s) for s in batch.serials} == {NumberState.HELD}
    assert pool_counts(world) == {PlateKind.SMALL: 20}  # held numbers are not available
    again = draw(world, session)
    assert again.batches_left == 3
    released = set(batch.serials) - set(again.serials)
    assert {number_state(world, s) for s in released} == {NumberState.POOLED}
    taken = take(world, session, again.serials[0])
    assert taken.serial == again.serials[0] and taken.batches_left == 3
    assert number_state(world, again.serials[0]) == NumberState.PRESELECTED
    assert {number_state(world, s) for s in again.serials[1:]} == {NumberState.POOLED}


def test_no_4s_batch_has_no_digit_4(world: App, sms: CapturingSender) -> None:
    session = open_session(world, sms)
    batch = draw(world, session, no_four=True)
    assert batch.serials and all("4" not in s for s in batch.serials)


def test_zero_blocks_each_way_and_refusals_cost_nothing(app: App, sms: CapturingSender) -> None:
    add_office(app, self_choice_allowance=2, batch_allowance=1)
    add_numbers(app, POOL)
    add_accounts(app, person())
    add_vehicles(app, [(vin(1), cert(1), PERSON_ID, PlateKind.SMALL)])
    session = open_session(app, sms)
    refused(app, lambda: choose(app, session, "20001 20002 20003"), TooManyCandidates)
    assert choose(app, session, "20001 20002").left == 0
    refused(app, lambda: choose(app, session, "10001"), NoSelfChoiceLeft)
    assert draw(app, session).batches_left == 0
    refused(app, lambda: draw(app, session), NoBatchesLeft)
    p = the_preselection(app)
    assert (p.self_choice_left, p.batches_left, p.has_chances) == (0, 0, False)


# -- holds: what one user holds nobody else sees ----------------------------------------------


def test_numbers_held_in_one_batch_are_never_shown_to_another(
    app: App, sms: CapturingSender
) -> None:
    standard_world(app, POOL[:15])
    mine = open_session(app, sms)
    theirs = open_session(app, sms, phone=UNIT_PHONE, n=11)
    first = draw(app, mine)
    second = draw(app, theirs, phone=UNIT_PHONE)
    assert len(first.serials) == 10 and len(second.serials) == 5
    assert not set(first.serials) & set(second.serials)
    outcome = choose(app, theirs, first.serials[0], phone=UNIT_PHONE)
    assert outcome.taken is None and outcome.spent == 1


def test_two_users_drawing_at_the_same_moment_get_different_numbers(
    app: App, sms: CapturingSender
) -> None:
    standard_world(app, POOL[:20])
    sessions = {
        PERSON_PHONE: open_session(app, sms),
        UNIT_PHONE: open_session(app, sms, UNIT_PHONE, 11),
    }
    results = at_once(app, [partial(draw, app, s, phone=p) for p, s in sessions.items()])
    batches = [r.serials for r in results if isinstance(r, selection.Batch)]
    assert len(batches) == 2
    assert not set(batches[0]) & set(batches[1])


def test_two_users_taking_the_same_number_at_the_same_moment_one_gets_it(
    app: App, sms: CapturingSender
) -> None:
    standard_world(app, POOL)
    sessions = {
        PERSON_PHONE: open_session(app, sms),
        UNIT_PHONE: open_session(app, sms, UNIT_PHONE, 11),
    }
    results = at_once(app, [partial(choose, app, s, "10007", phone=p) for p, s in sessions.items()])
    taken = [r.taken for r in results if isinstance(r, selection.OwnCheck)]
    assert sorted(taken, key=str) == ["10007", None]
    with app.db.connect() as conn:
        holders = conn.execute(
            sa.select(sa.func.count())
            .select_from(preselections)
            .where(preselections.c.serial == "10007")
        ).scalar()
    assert holders == 1


def test_a_number_locked_by_one_user_is_waited_for_and_then_refused_to_another(
    app: App, sms: CapturingSender
) -> None:
    """PostgreSQL: the second user's check waits on the first one's row lock, then sees the
    number taken. (SQLite runs one writer at a time: the second waits at BEGIN.)"""
    if app.db.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions")
    standard_world(app, POOL)
    first, second = open_session(app, sms), open_session(app, sms, UNIT_PHONE, 11)
    person_account, unit_account = account(app), account(app, UNIT_PHONE)
    outcome: list[Any] = []
    with app.uow() as uow:  # the first user's turn, not committed yet
        taken = selection.choose_own(
            uow, now=app.clock.now(), account=person_account, session_id=first, typed="10007"
        )
        assert taken.taken == "10007"
        other = threading.Thread(
            target=lambda: outcome.append(
                run(
                    app,
                    lambda u: selection.choose_own(
                        u,
                        now=app.clock.now(),
                        account=unit_account,
                        session_id=second,
                        typed="10007",
                    ),
                )
            )
        )
        other.start()
        _wait_until_a_backend_waits_for_a_lock(app, other)
        uow.commit()
    other.join()
    assert len(outcome) == 1, "the second user's check failed"
    assert (outcome[0].taken, outcome[0].spent) == (None, 1)


def _wait_until_a_backend_waits_for_a_lock(app: App, thread: threading.Thread) -> None:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with app.db.connect() as conn:
        while thread.is_alive() and not conn.execute(query).scalar():
            conn.rollback()


def at_once(app: App, actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions in threads released together; their results (or errors)."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def work(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# -- stage 1: the registry, offices, hours ------------------------------------------------------


def test_registry_checks_refuse_with_the_reason(world: App) -> None:
    user = account(world)

    def attempt(n: int, certificate: str) -> None:
        run(
            world,
            lambda uow: basic_information.begin(
                uow,
                now=world.clock.now(),
                account=user,
                office_code=OFFICE,
                vin=vin(n),
                certificate_no=certificate,
            ),
        )

    refused(world, lambda: attempt(99, cert(99)), VehicleNotFound)
    refused(world, lambda: attempt(1, cert(2)), CertificateMismatch)
    refused(world, lambda: attempt(11, cert(11)), VehicleNotYours)  # the unit's car
    with world.uow() as uow:
        record = uow.registry.get(vin(2))
        assert record is not None
        record.registered = True
        uow.commit()
    refused(world, lambda: attempt(2, cert(2)), VehicleRegistered)


def test_coming_back_with_the_same_vehicle_continues_its_allowances(
    world: App, sms: CapturingSender
) -> None:
    session = open_session(world, sms)
    choose(world, session, "99999")
    again = begin(world)
    assert again == the_preselection(world).id
    assert the_preselection(world).self_choice_left == 19


def test_a_vehicle_with_a_pre_selected_number_cannot_start_again(
    world: App, sms: CapturingSender
) -> None:
    session = open_session(world, sms)
    choose(world, session, "10003")
    refused(world, lambda: begin(world), VehicleAlreadyPreselected)


def test_new_car_owners_choose_only_offices_of_their_region(world: App) -> None:
    add_office(world, code="粤B", region="4403", name="深圳市车辆管理所")
    refused(world, lambda: begin(world, office="粤B"), OfficeNotInYourRegion)
    add_accounts(world, person(OTHER_PHONE, OTHER_ID, category=Category.EXISTING_OWNER))
    add_vehicles(world, [(vin(21), cert(21), OTHER_ID, PlateKind.SMALL)])
    assert begin(world, OTHER_PHONE, 21, office="粤B")


def test_stage_two_is_refused_outside_selection_hours(world: App, clock: ManualClock) -> None:
    preselection_id = begin(world)
    clock.set(datetime(2026, 11, 23, 21, 30, tzinfo=OFFICE_TZ).astimezone(UTC))
    user = account(world)
    error = refused(
        world,
        lambda: run(
            world,
            lambda uow: selection.send_selection_code(
                uow,
                clock=clock,
                key=b"k",
                account=user,
                preselection_id=preselection_id,
                language=user.language,
            ),
        ),
        OutsideSelectionHours,
    )
    assert error.params == {"opens": "09:00", "closes": "21:00"}


# -- after selection: deadline, counter, expiry, blacklist ----------------------------------------


def friday_evening() -> datetime:
    return datetime(2026, 11, 27, 20, 0, tzinfo=OFFICE_TZ).astimezone(UTC)


def test_deadline_skips_the_weekend_and_a_staff_holiday(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    run(world, lambda uow: office_admin.set_holidays(uow, code=OFFICE, days=[date(2026, 11, 30)]))
    clock.set(friday_evening())
    session = open_session(world, sms)
    choose(world, session, "10002")
    deadline = the_preselection(world).deadline
    assert deadline is not None
    # Mon 30 Nov is a holiday: Tue, Wed, Thu are the three working days
    assert deadline.astimezone(OFFICE_TZ) == datetime(2026, 12, 4, 0, 0, tzinfo=OFFICE_TZ)


def test_counter_confirms_within_validity_and_the_number_is_issued(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    session = open_session(world, sms)
    choose(world, session, "10002")
    clock.advance(timedelta(days=2))
    confirmed = run(
        world, lambda uow: counter.confirm_at_counter(uow, now=clock.now(), vin=vin(1).lower())
    )
    assert confirmed.state is PreselectionState.CONFIRMED
    assert number_state(world, "10002") == NumberState.ISSUED
    clock.advance(timedelta(days=30))
    assert Timers(world.uow, clock).run_once() == 0  # nothing lapses
    with world.uow() as uow:
        record = uow.registry.get(vin(1))
        assert record is not None and record.registered


def test_unconfirmed_pre_selection_lapses_pools_the_number_and_blacklists_for_two_years(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    session = open_session(world, sms)
    choose(world, session, "10002")
    deadline = the_preselection(world).deadline
    assert deadline is not None
    clock.set(deadline - timedelta(seconds=1))
    assert Timers(world.uow, clock).run_once() == 0
    clock.set(deadline + timedelta(minutes=1))
    refused(
        world,
        lambda: run(
            world, lambda uow: counter.confirm_at_counter(uow, now=clock.now(), vin=vin(1))
        ),
        PreselectionLapsed,
    )
    assert Timers(world.uow, clock).run_once() == 1
    lapsed = run(world, lambda uow: uow.preselections.get(_only_preselection_id(world)))
    assert lapsed.state is PreselectionState.CANCELLED
    assert number_state(world, "10002") == NumberState.POOLED
    world.dispatcher.run_once()
    assert "2028-11-27" in sms.sent[-1][1] and "粤D·10002" in sms.sent[-1][1]
    error = refused(world, lambda: begin(world, n=2), Blacklisted)
    assert error.params == {"until": "2028-11-27"}
    clock.set(datetime(2028, 11, 26, 23, 0, tzinfo=OFFICE_TZ).astimezone(UTC))
    Timers(world.uow, clock).run_once()
    refused(world, lambda: begin(world, n=2), Blacklisted)
    clock.set(datetime(2028, 11, 27, 9, 0, tzinfo=OFFICE_TZ).astimezone(UTC))
    assert Timers(world.uow, clock).run_once() == 1  # the blacklist lifts itself
    assert begin(world, n=2) != lapsed.id


def _only_preselection_id(app: App) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(sa.select(preselections.c.id)).scalar_one())


def test_staff_lift_a_blacklist_early(world: App, sms: CapturingSender, clock: ManualClock) -> None:
    session = open_session(world, sms)
    choose(world, session, "10002")
    clock.advance(timedelta(days=10))
    Timers(world.uow, clock).run_once()
    refused(world, lambda: begin(world, n=2), Blacklisted)
    run(
        world, lambda uow: counter.lift_blacklist_early(uow, now=clock.now(), phone="138 0013 8000")
    )
    assert begin(world, n=2)
    with world.db.connect() as conn:
        assert conn.execute(sa.select(blacklist.c.lifted_early)).scalar_one() is True


def test_idle_selection_session_releases_its_holds(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    session = open_session(world, sms)
    batch = draw(world, session)
    clock.advance(timedelta(minutes=19))
    assert Timers(world.uow, clock).run_once() == 0
    again = draw(world, session)  # activity keeps it open
    clock.advance(timedelta(minutes=20))
    assert Timers(world.uow, clock).run_once() == 1
    assert {number_state(world, s) for s in again.serials + batch.serials} == {NumberState.POOLED}
    refused(world, lambda: take(world, session, again.serials[0]), SelectionSessionEnded)


def test_timers_in_two_processes_handle_each_due_row_once(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    for n, serial in ((1, "10001"), (2, "10002"), (3, "10003")):
        session = open_session(world, sms, n=n)
        clock.advance(timedelta(seconds=61))  # one code a minute
        choose(world, session, serial)
    clock.advance(timedelta(days=10))
    done = at_once(world, [Timers(world.uow, clock, batch=1).run_once for _ in range(2)])
    assert sum(done) == 3
    with world.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(blacklist)).scalar() == 3


def test_registry_reimport_updates_good_rows_and_leaves_bad_rows_untouched(world: App) -> None:
    text = "\n".join(
        [
            "vin,certificate_no,owner_id,plate_kind,registered",
            f"{vin(1)},{cert(101)},{PERSON_ID},large,no",  # updated whole
            f"{vin(2)},{cert(102)},{PERSON_ID},small,maybe",  # refused whole
            f"{vin(1)},{cert(103)},{PERSON_ID},small,no",  # the same VIN twice
        ]
    )
    report = run(
        world,
        lambda uow: import_registry_csv(
            uow, text=text, now=world.clock.now(), today=date(2026, 11, 23)
        ),
    )
    assert (report.added, report.updated) == (0, 1)
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "registry.field"),
        (4, "registry.duplicate"),
    ]
    first = run(world, lambda uow: uow.registry.get(vin(1)))
    second = run(world, lambda uow: uow.registry.get(vin(2)))
    assert (first.certificate_no, first.plate_kind) == (cert(101), PlateKind.LARGE)
    assert (second.certificate_no, second.plate_kind) == (cert(2), PlateKind.SMALL)


def test_the_console_chat_runs_the_timers_too(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    session = open_session(world, sms)
    choose(world, session, "10002")
    settings = Settings(
        database_url=world.db.url.render_as_string(hide_password=False), secret_key="k"
    )
    console = ConsoleChat(
        settings, phone=None, language=None, out=io.StringIO(), interactive=False, clock=clock
    )
    console.say("hi")
    assert the_preselection_state(world) == PreselectionState.SELECTED  # not due yet
    clock.advance(timedelta(days=30))  # well past its deadline (3 working days)
    console.say("hi")
    console.app.db.dispose()
    assert the_preselection_state(world) == PreselectionState.CANCELLED


def the_preselection_state(app: App) -> str:
    with app.db.connect() as conn:
        return str(conn.execute(sa.select(preselections.c.state)).scalar_one())

"""A new random batch takes the place of the session's earlier one, whichever way the draw goes:
wrapping round the end of the sort key, finding nothing, or two draws of one session at once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from core import selection
from core.clock import ManualClock, as_utc
from core.plate_errors import PoolEmpty
from core.plates import PlateKind
from core.pools import SORT_KEY_SPACE, NumberState
from core.preselection import SESSION_IDLE
from platebot.bootstrap import App
from store.preselection_tables import number_holds, plate_numbers, selection_sessions
from tests.integration.test_preselect_rules import (
    POOL,
    at_once,
    draw,
    open_session,
    set_state,
    the_preselection,
)
from tests.preselect_world import OFFICE, standard_world
from tests.support import CapturingSender


def held_for(app: App, session_id: int) -> set[str]:
    with app.db.connect() as conn:
        query = sa.select(number_holds.c.serial).where(number_holds.c.session_id == session_id)
        return set(conn.execute(query).scalars())


def free_sort_keys(app: App) -> list[int]:
    """The sort keys of the numbers nobody holds, in order."""
    held = sa.select(number_holds.c.number_id)
    query = sa.select(plate_numbers.c.sort_key).where(plate_numbers.c.id.not_in(held))
    with app.db.connect() as conn:
        return sorted(conn.execute(query).scalars())


def hold_from(app: App, session_id: int, start: int) -> list[str]:
    """A batch of 10 held for the session from ``start`` along the sort key (committed)."""
    with app.uow() as uow:
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        held = uow.pool.hold_batch(
            office.id, PlateKind.SMALL, 10, no_four=False, start=start, session_id=session_id
        )
        uow.commit()
    return held


@pytest.mark.parametrize("beyond", [0, 3])
def test_a_batch_that_wraps_round_the_sort_key_replaces_the_earlier_one(
    app: App, sms: CapturingSender, beyond: int
) -> None:
    """``beyond`` numbers lie after the random start: the rest come from the beginning."""
    standard_world(app, POOL)
    session = open_session(app, sms)
    earlier = set(draw(app, session).serials)
    start = free_sort_keys(app)[-beyond] if beyond else SORT_KEY_SPACE
    held = hold_from(app, session, start)
    assert len(held) == len(set(held)) == 10
    assert not set(held) & earlier
    assert held_for(app, session) == set(held)


def test_a_draw_that_finds_nothing_keeps_the_earlier_batch_and_costs_nothing(
    app: App, sms: CapturingSender
) -> None:
    standard_world(app, POOL[:10])  # one batch takes the whole pool
    session = open_session(app, sms)
    batch = draw(app, session)
    with pytest.raises(PoolEmpty):
        draw(app, session)
    assert held_for(app, session) == set(batch.serials)
    assert the_preselection(app).batches_left == batch.batches_left


def test_two_draws_of_one_session_at_once_leave_one_batch_held(
    app: App, sms: CapturingSender
) -> None:
    """Two chats of one user draw at the same moment: both are counted, and only the batch
    drawn last stays held (the second draw gives back what the first one held)."""
    standard_world(app, POOL)
    session = open_session(app, sms)
    results = at_once(app, [partial(draw, app, session) for _ in range(2)])
    batches = [r for r in results if isinstance(r, selection.Batch)]
    assert len(batches) == 2, results
    last = min(batches, key=lambda b: b.batches_left)
    assert sorted(b.batches_left for b in batches) == [3, 4]
    assert held_for(app, session) == set(last.serials)


def test_only_a_turn_that_takes_a_number_waits_for_the_disk(app: App, sms: CapturingSender) -> None:
    """PostgreSQL: a crash could lose a turn that only looked (a draw, candidates all taken)
    whole, never part of it; a turn that takes a number waits for the WAL."""
    if app.db.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    standard_world(app, POOL)
    session = open_session(app, sms)
    show = sa.text("SHOW synchronous_commit")
    me = the_preselection(app).account_id
    with app.uow() as uow:
        account = uow.accounts.get(me)
        assert account is not None and uow.connection is not None
        selection.draw_batch(
            uow, now=app.clock.now(), account=account, session_id=session, no_four=False
        )
        assert uow.connection.execute(show).scalar() == "off"
    set_state(app, POOL[29], NumberState.ISSUED)
    with app.uow() as uow:  # a candidate taken already: nothing is taken, only looked at
        account = uow.accounts.get(me)
        assert account is not None and uow.connection is not None
        checked = selection.choose_own(
            uow, now=app.clock.now(), account=account, session_id=session, typed=POOL[29]
        )
        assert checked.taken is None
        assert uow.connection.execute(show).scalar() == "off"
    with app.uow() as uow:
        account = uow.accounts.get(me)
        assert account is not None and uow.connection is not None
        checked = selection.choose_own(
            uow, now=app.clock.now(), account=account, session_id=session, typed=POOL[20]
        )
        assert checked.taken is not None
        assert uow.connection.execute(show).scalar() == "on"


def test_a_draw_and_a_check_store_the_allowances_and_the_session_expiry(
    app: App, sms: CapturingSender, clock: ManualClock
) -> None:
    """Both are written at once with plain SQL; the objects the turn holds show the same."""
    standard_world(app, POOL)
    set_state(app, POOL[29], NumberState.ISSUED)  # the candidate checked: taken already
    session = open_session(app, sms)
    before = the_preselection(app)
    assert before.id is not None
    for minutes, action in enumerate(("draw", "check"), start=1):
        clock.advance(timedelta(minutes=minutes))
        with app.uow() as uow:
            held = uow.preselections.get(before.id)  # loaded earlier in the turn, kept
            account = uow.accounts.get(before.account_id)
            assert held is not None and account is not None
            now = app.clock.now()
            if action == "draw":
                selection.draw_batch(
                    uow, now=now, account=account, session_id=session, no_four=False
                )
            else:
                selection.choose_own(
                    uow, now=now, account=account, session_id=session, typed=POOL[29]
                )
            seen = (held.batches_left, held.self_choice_left)
            uow.commit()
        stored = the_preselection(app)
        assert (stored.batches_left, stored.self_choice_left) == seen
        with app.db.connect() as conn:
            expires = conn.execute(
                sa.select(selection_sessions.c.expires_at).where(selection_sessions.c.id == session)
            ).scalar_one()
        assert as_utc(expires) == now + SESSION_IDLE
    assert (stored.batches_left, stored.self_choice_left) == (
        before.batches_left - 1,
        before.self_choice_left - 1,
    )

"""Holds and locked reads: a number in one user's batch stays theirs while
another user's self-choice waits for it, and a locked read returns the row as it is stored now,
not a copy loaded earlier in the same transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core import selection
from core.accounts import Account
from core.clock import as_utc
from core.plate_errors import PreselectionNotOpen
from core.pools import NumberState
from core.preselection import BlacklistEntry, Preselection, PreselectionState, SelectionSession
from platebot.bootstrap import App
from store.preselection_tables import blacklist, preselections, selection_sessions
from tests.integration.test_preselect_rules import (
    POOL,
    _wait_until_a_backend_waits_for_a_lock,
    account,
    draw,
    open_session,
    run,
    the_preselection,
)
from tests.preselect_world import OFFICE, UNIT_PHONE, number_state, standard_world
from tests.support import CapturingSender


def _postgresql_only(app: App) -> None:
    if app.db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time: nothing to wait for")


def choosing_in_another_thread(
    app: App, account: Account, session_id: int, typed: str, outcome: list[Any]
) -> threading.Thread:
    """The other user's self-choice, in a transaction of its own (its outcome appended)."""
    other = threading.Thread(
        target=lambda: outcome.append(
            run(
                app,
                lambda u: selection.choose_own(
                    u, now=app.clock.now(), account=account, session_id=session_id, typed=typed
                ),
            )
        )
    )
    other.start()
    return other


def test_a_number_being_held_is_not_taken_by_a_concurrent_self_choice(
    app: App, sms: CapturingSender
) -> None:
    _postgresql_only(app)
    standard_world(app, POOL[:10])  # a batch of 10 takes the whole pool
    mine, theirs = open_session(app, sms), open_session(app, sms, UNIT_PHONE, 11)
    me, them = account(app), account(app, UNIT_PHONE)
    outcome: list[Any] = []
    with app.uow() as uow:  # my draw, not committed yet
        batch = selection.draw_batch(
            uow, now=app.clock.now(), account=me, session_id=mine, no_four=False
        )
        wanted = batch.serials[0]
        other = choosing_in_another_thread(app, them, theirs, wanted, outcome)
        _wait_until_a_backend_waits_for_a_lock(app, other)
        uow.commit()
    other.join()
    assert outcome and outcome[0].taken is None, (
        f"{wanted} was shown to me as held, and the other user took it"
    )
    assert number_state(app, wanted) == NumberState.HELD


def test_a_number_given_back_while_a_self_choice_waits_for_it_can_be_taken(
    app: App, sms: CapturingSender
) -> None:
    """The other way round: my batch goes back while the other user's check waits for one of its
    numbers; the check reads the holds after the wait, so the number is free and theirs (not
    refused, and not charged to their allowance)."""
    _postgresql_only(app)
    standard_world(app, POOL[:20])
    mine, theirs = open_session(app, sms), open_session(app, sms, UNIT_PHONE, 11)
    them = account(app, UNIT_PHONE)
    wanted = draw(app, mine).serials[0]
    kind = the_preselection(app).plate_kind
    outcome: list[Any] = []
    with app.uow() as uow:  # a transaction of mine that locks the number, then gives it back
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        assert uow.pool.states(office.id, kind, [wanted], lock=True)[wanted][1] == mine
        other = choosing_in_another_thread(app, them, theirs, wanted, outcome)
        _wait_until_a_backend_waits_for_a_lock(app, other)
        uow.pool.release(mine)
        uow.commit()
    other.join()
    assert outcome and (outcome[0].taken, outcome[0].spent) == (wanted, 0)
    assert number_state(app, wanted) == NumberState.PRESELECTED


def test_a_batch_drawn_from_another_chat_meanwhile_is_counted(
    app: App, sms: CapturingSender
) -> None:
    """My turn read the pre-selection before another chat of mine drew a batch; my own draw
    then counts from the stored allowance, not from the copy read before."""
    _postgresql_only(app)
    standard_world(app, POOL)
    session = open_session(app, sms)
    me = account(app)
    before = the_preselection(app)
    with app.uow() as uow:
        assert before.id is not None
        read = uow.preselections.get(before.id)  # the turn reads it, unlocked, and keeps it
        assert read is not None and read.batches_left == 5
        draw(app, session)  # the other chat's draw commits meanwhile: 4 batches left
        batch = selection.draw_batch(
            uow, now=app.clock.now(), account=me, session_id=session, no_four=False
        )
        uow.commit()
    assert batch.batches_left == 3
    assert the_preselection(app).batches_left == 3


def test_a_number_taken_from_another_chat_meanwhile_is_seen_before_a_new_code_is_sent(
    app: App, sms: CapturingSender
) -> None:
    _postgresql_only(app)
    standard_world(app, POOL)
    session = open_session(app, sms)
    me = account(app)
    before = the_preselection(app)
    with app.uow() as uow:
        assert before.id is not None
        read = uow.preselections.get(before.id)  # the turn reads it, unlocked, and keeps it
        assert read is not None and read.state is PreselectionState.STARTED
        run(  # the other chat takes a number meanwhile
            app,
            lambda u: selection.choose_own(
                u, now=app.clock.now(), account=me, session_id=session, typed=POOL[3]
            ),
        )
        with pytest.raises(PreselectionNotOpen):
            selection.send_selection_code(
                uow,
                clock=app.clock,
                key=app.dialogs.services.code_key,
                account=me,
                preselection_id=before.id,
                language=me.language,
            )
    assert the_preselection(app).state is PreselectionState.SELECTED


# -- every locked read of the repositories returns the stored row ------------------------------
# One transaction reads a row, the row changes (here by plain SQL in the same transaction; on
# PostgreSQL, by another transaction that commits before the lock is granted), then the locked
# read: it must show the row as stored, not the copy the session loaded first.

LATER = timedelta(minutes=1)


def behind_its_back(uow: Any, statement: sa.Executable) -> None:
    """The row changes in the database, not through the objects the session holds."""
    assert uow.connection is not None
    uow.connection.execute(statement)


def _in_stage_two(app: App, sms: CapturingSender) -> tuple[int, int, datetime]:
    """A pre-selection with an open selection session: their ids, and the time."""
    standard_world(app, POOL)
    session_id = open_session(app, sms)
    pre_id = the_preselection(app).id
    assert pre_id is not None
    return pre_id, session_id, app.clock.now()


Read = Callable[[Any, int, int, datetime], Any]  # (uow, preselection id, session id, now)


def _locked_with_session(uow: Any, session_id: int) -> tuple[Any, Any, Any]:
    found = uow.sessions.lock_with_preselection(session_id)
    assert found is not None
    return found  # type: ignore[no-any-return]


LOCKED_READS: dict[str, Read] = {
    "preselections.get": lambda uow, p, s, now: uow.preselections.get(p, lock=True),
    "preselections.open_for_vin": lambda uow, p, s, now: uow.preselections.open_for_vin(
        uow.preselections.get(p).vin, lock=True
    ),
    "preselections.claim_lapsed": lambda uow, p, s, now: uow.preselections.claim_lapsed(now, 10)[0],
    "sessions.lock_with_preselection[preselection]": lambda uow, p, s, now: _locked_with_session(
        uow, s
    )[1],
    "sessions.get": lambda uow, p, s, now: uow.sessions.get(s, lock=True),
    "sessions.open_for": lambda uow, p, s, now: uow.sessions.open_for(p)[0],
    "sessions.claim_idle": lambda uow, p, s, now: uow.sessions.claim_idle(now, 10)[0],
    "sessions.lock_with_preselection[session]": lambda uow, p, s, now: _locked_with_session(uow, s)[
        0
    ],
}


@pytest.mark.parametrize("read", list(LOCKED_READS))
def test_a_locked_read_returns_the_row_as_stored(app: App, sms: CapturingSender, read: str) -> None:
    pre_id, session_id, now = _in_stage_two(app, sms)
    with app.uow() as uow:
        earlier = {  # earlier, unlocked reads, kept by the turn
            Preselection: uow.preselections.get(pre_id),
            SelectionSession: uow.sessions.get(session_id),
        }
        behind_its_back(
            uow,
            sa.update(preselections)
            .where(preselections.c.id == pre_id)
            .values(batches_left=2, state=PreselectionState.SELECTED, deadline=now - LATER),
        )
        behind_its_back(
            uow,
            sa.update(selection_sessions)
            .where(selection_sessions.c.id == session_id)
            .values(expires_at=now - LATER),
        )
        found = LOCKED_READS[read](uow, pre_id, session_id, now)
        assert found is earlier[type(found)]  # the same object, refreshed
        if isinstance(found, Preselection):
            assert (found.batches_left, found.state) == (2, PreselectionState.SELECTED)
        else:
            assert isinstance(found, SelectionSession)
            assert as_utc(found.expires_at) == now - LATER


def test_a_locked_read_returns_the_blacklist_entry_as_stored(app: App) -> None:
    standard_world(app, POOL)
    me = account(app)
    now = app.clock.now()
    with app.uow() as uow:
        entry = BlacklistEntry(
            account_id=me.id or 0, owner_id="x", created_at=now, lifts_at=now + LATER
        )
        uow.blacklist.add(entry)
        uow.commit()
    with app.uow() as uow:
        loaded = uow.blacklist.active(account_id=me.id or 0, owner_id="x", now=now)
        assert loaded is not None
        behind_its_back(uow, sa.update(blacklist).values(lifts_at=now - LATER))
        found = uow.blacklist.claim_due(now, 10)
        assert len(found) == 1 and found[0] is loaded
        assert as_utc(loaded.lifts_at) == now - LATER

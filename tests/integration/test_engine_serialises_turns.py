"""Two messages of one user are applied one after the other, also from two processes."""

from __future__ import annotations

import multiprocessing
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine

from core.clock import ManualClock
from dialogs.replies import Inbound
from store.tables import outbox
from store.uow import UnitOfWorkFactory
from tests.tally import TallyFlow, send_many, start_tally, tally_engine, tally_of


def test_second_message_waits_for_the_first_and_nothing_is_lost(
    db: SqlEngine, clock: ManualClock
) -> None:
    flow = TallyFlow()
    entered, release = threading.Event(), threading.Event()
    flow.hold["slow"] = (entered, release)
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock, flow)
    start_tally(engine, "u1")

    first = threading.Thread(target=engine.handle, args=(Inbound("test", "u1", "slow"),))
    first.start()
    assert entered.wait(timeout=30)
    second_done = threading.Event()

    def second() -> None:
        engine.handle(Inbound("test", "u1", "fast"))
        second_done.set()

    other = threading.Thread(target=second)
    other.start()
    assert not second_done.wait(timeout=0.5), "the second message ran while the first held the lock"
    release.set()
    first.join(timeout=30)
    other.join(timeout=30)
    assert second_done.is_set()
    assert tally_of(engine, "u1")[1] == ["slow", "fast"]


def test_two_processes_sending_to_one_user_lose_nothing(db: SqlEngine, clock: ManualClock) -> None:
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock)
    start_tally(engine, "u2")
    url = db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=send_many, args=(url, "u2", prefix, 25, clock.now()))
        for prefix in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    seen = tally_of(engine, "u2")[1]
    assert sorted(seen) == sorted([f"a{n}" for n in range(25)] + [f"b{n}" for n in range(25)])
    assert [s for s in seen if s.startswith("a")] == [f"a{n}" for n in range(25)]


def test_a_failing_turn_is_rolled_back_and_the_user_is_taken_to_the_menu(
    db: SqlEngine, clock: ManualClock
) -> None:
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock)
    start_tally(engine, "u3")
    engine.handle(Inbound("test", "u3", "kept"))
    reply = engine.handle(Inbound("test", "u3", "boom", message_id="m-boom"))
    assert reply.keys[0] == "error.internal" and "menu.title" in reply.keys
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0
    with uow() as unit:
        conversation = unit.conversations.lock(
            channel="test", user_key="u3", new=engine._new(Inbound("test", "u3"))
        )
        assert (conversation.flow, conversation.state) == ("menu", "MENU")
    assert engine.handle(Inbound("test", "u3", "boom", message_id="m-boom")) == reply

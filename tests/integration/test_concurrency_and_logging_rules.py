"""Rules of concurrency (leases, late results, codes asked for from several chats at once, a
second delivery during the first turn) and of logging (no personal data, no statement
parameters), and a half Twilio configuration refused at start."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine

from core import verification
from core.accounts import Language
from core.clock import ManualClock
from core.errors import CodeWrong, DomainError
from core.outbox import Channel, Outcome, Outgoing, RetryLater, Sent
from dialogs.replies import Inbound
from platebot.bootstrap import App
from platebot.dispatcher import Dispatcher
from platebot.settings import SettingsError, load_settings
from store.tables import accounts, inbound_messages, one_time_codes
from store.tables import outbox as outbox_table
from store.uow import UnitOfWorkFactory
from tests.support import outbox_row
from tests.tally import TallyFlow, start_tally, tally_engine, tally_of

PHONE = "+8613800138000"


def _queue(app: App, count: int) -> None:
    with app.uow() as uow:
        for n in range(count):
            uow.outbox.add(
                outbox_row(
                    phone=PHONE,
                    key="raw",
                    params={"text": f"notice {n}"},
                    language=Language.EN,
                    now=app.clock.now(),
                )
            )
        uow.commit()


def test_a_batch_that_outlives_its_lease_sends_each_message_once(
    app: App, clock: ManualClock
) -> None:
    """Each send takes 2 minutes (a slow provider); another server's dispatcher runs
    meanwhile. The first stops before its lease runs out; the other sends the rest."""
    _queue(app, 3)
    sent: list[str] = []
    other: list[Dispatcher] = []

    class Slow:
        def send(self, message: Outgoing) -> Outcome:
            text = message.text
            sent.append(text)
            clock.advance(timedelta(minutes=2))
            other[0].run_once()  # finds nothing while the lease holds
            return Sent("SM")

    class Quick:
        def send(self, message: Outgoing) -> Outcome:
            text = message.text
            sent.append(text)
            return Sent("SM")

    other.append(Dispatcher(app.uow, clock, {Channel.SMS: Quick()}))
    Dispatcher(app.uow, clock, {Channel.SMS: Slow()}).run_once()
    other[0].run_once()
    assert sorted(sent) == ["notice 0", "notice 1", "notice 2"]
    with app.db.connect() as conn:
        statuses = conn.execute(sa.select(outbox_table.c.status, outbox_table.c.attempts)).all()
    assert sorted(statuses) == [("sent", 1)] * 3


def test_a_late_result_does_not_overwrite_the_result_of_a_later_claim(
    app: App, clock: ManualClock
) -> None:
    _queue(app, 1)
    late = Dispatcher(app.uow, clock, {Channel.SMS: object()})  # type: ignore[dict-item]
    claims = late._claim(Channel.SMS)
    assert claims is not None  # (no lane asked for)
    clock.advance(timedelta(minutes=6))  # the lease ran out: another dispatcher took it
    delivered: list[str] = []

    class Provider:
        def send(self, message: Outgoing) -> Outcome:
            text = message.text
            delivered.append(text)
            return Sent("SM2")

    assert Dispatcher(app.uow, clock, {Channel.SMS: Provider()}).run_once() == 1
    assert late._record([(claims[0], RetryLater("timed out"))]) == (0, set())
    clock.advance(timedelta(hours=1))
    assert Dispatcher(app.uow, clock, {Channel.SMS: Provider()}).run_once() == 0
    assert delivered == ["notice 0"]
    with app.db.connect() as conn:
        assert conn.execute(sa.select(outbox_table.c.status)).scalar() == "sent"


def _guess_together(app: App, guesses: list[str], purpose: str) -> list[DomainError]:
    barrier = threading.Barrier(len(guesses))
    errors: list[DomainError] = []

    def guess(code: str) -> None:
        with app.uow() as uow:
            barrier.wait()
            try:
                verification.check_code(
                    uow,
                    clock=app.clock,
                    key=b"test-secret",
                    phone=PHONE,
                    purpose=purpose,
                    entered=code,
                )
            except DomainError as error:
                errors.append(error)
            uow.commit()

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_wrong_codes_guessed_at_once_from_several_chats_are_each_counted(app: App) -> None:
    with app.uow() as uow:
        verification.send_code(
            uow,
            clock=app.clock,
            key=b"test-secret",
            phone=PHONE,
            purpose="sign_in",
            language=Language.ZH,
        )
        uow.commit()
    errors = _guess_together(app, ["000001", "000002", "000003", "000004"], "sign_in")
    assert len(errors) == 4 and all(isinstance(e, CodeWrong) for e in errors)
    assert sorted(int(e.params["left"]) for e in errors) == [1, 2, 3, 4]
    with app.db.connect() as conn:
        assert conn.execute(sa.select(one_time_codes.c.wrong_entries)).scalar() == 4


def test_codes_asked_for_at_once_from_several_chats_respect_the_minute_limit(app: App) -> None:
    barrier, refused = threading.Barrier(3), []

    def ask() -> None:
        with app.uow() as uow:
            barrier.wait()
            try:
                verification.send_code(
                    uow,
                    clock=app.clock,
                    key=b"k",
                    phone=PHONE,
                    purpose="sign_in",
                    language=Language.ZH,
                )
            except DomainError as error:
                refused.append(error.code)
            uow.commit()

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert refused == ["otp.too_soon", "otp.too_soon"]
    with app.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(one_time_codes)).scalar() == 1


def test_a_second_delivery_during_the_first_turn_is_answered_quietly_with_the_same_reply(
    db: SqlEngine, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    flow = TallyFlow()
    entered, release = threading.Event(), threading.Event()
    flow.hold["slow"] = (entered, release)
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock, flow)
    start_tally(engine, "u9")
    replies = []
    first = threading.Thread(
        target=lambda: replies.append(engine.handle(Inbound("test", "u9", "slow", message_id="X")))
    )
    first.start()
    assert entered.wait(timeout=30)
    second = threading.Thread(
        target=lambda: replies.append(engine.handle(Inbound("test", "u9", "slow", message_id="X")))
    )
    second.start()
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert len(replies) == 2 and replies[0] == replies[1]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert engine.handle(Inbound("test", "u9", "next")).lines[0].params == {"text": "2"}


def test_a_message_answered_by_another_delivery_meanwhile_gets_that_answer_and_counts_once(
    db: SqlEngine, clock: ManualClock
) -> None:
    """The reply to a message id is kept with the conversation in one statement (PostgreSQL): a
    second delivery that kept its reply first (while this turn ran) wins, this turn's work is
    dropped and the first reply given. SQLite cannot get there: a turn holds the database."""
    if db.dialect.name != "postgresql":
        pytest.skip("on SQLite a turn holds the write lock: no other delivery can answer")
    flow = TallyFlow()
    entered, release = threading.Event(), threading.Event()
    flow.hold["slow"] = (entered, release)
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock, flow)
    start_tally(engine, "u8")
    replies = []
    turn = threading.Thread(
        target=lambda: replies.append(engine.handle(Inbound("test", "u8", "slow", message_id="Y")))
    )
    turn.start()
    assert entered.wait(timeout=30)
    kept = {"lines": [{"key": "raw", "params": {"text": "kept"}}], "choices": []}
    with db.begin() as conn:
        conn.execute(
            sa.insert(inbound_messages).values(
                channel="test", user_key="u8", message_id="Y", reply=kept, received_at=clock.now()
            )
        )
    release.set()
    turn.join(timeout=30)
    assert [reply.lines[0].params for reply in replies] == [{"text": "kept"}]
    assert tally_of(engine, "u8") == ("tally", [])


def test_a_failed_turn_is_logged_without_the_personal_data_in_its_error(
    db: SqlEngine, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = tally_engine(UnitOfWorkFactory(db), clock)
    start_tally(engine, "u8")
    engine.handle(Inbound("test", "u8", "boom"))  # the flow's error names a phone number
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged and "tally.py" in logged
    assert "+8613800138000" not in logged
    assert not any(record.exc_info for record in caplog.records)


def test_database_errors_quote_no_statement_parameters(app: App) -> None:
    row = {
        "phone": PHONE,
        "kind": "person",
        "category": "student",
        "name": "张三",
        "id_number": "440304199001011233",
        "region_code": "4403",
        "address": "深圳市某路1号",
        "language": "zh",
        "window_user": False,
        "created_at": app.clock.now(),
    }
    with app.db.begin() as conn:
        conn.execute(sa.insert(accounts).values(row))
    with pytest.raises(sa.exc.IntegrityError) as caught, app.db.begin() as conn:
        conn.execute(sa.insert(accounts).values(row))
    assert "440304199001011233" not in str(caught.value) and "张三" not in str(caught.value)


def test_half_a_twilio_configuration_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(SettingsError, match="PLATEBOT_TWILIO_FROM"):
        load_settings(twilio_account_sid="AC123", twilio_auth_token="secret")

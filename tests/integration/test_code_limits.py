"""One-time code limits belong to who asks as well as to the number (SPEC §2; issue 12, defects
5 and 6): nobody spends another person's allowance or locks them out of their own channel, and
a code for one purpose never holds up the code for the next step."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core import basic_information, otp, selection, verification
from core.accounts import Account, Language
from core.clock import ManualClock
from core.errors import CodeChatLimit
from core.ports import UnitOfWork
from platebot.bootstrap import App
from store.tables import outbox
from tests.preselect_world import PERSON_PHONE, cert, standard_world, vin
from tests.support import CapturingSender, Renderer, Transcript

KEY = b"test-secret"

SAY = {
    "zh": {"choose": "请选择选号方式", "has_account": "已有账户", "wrong": "验证码错误"},
    "en": {"choose": "How do you want to pick", "has_account": "has an account", "wrong": "Wrong"},
}


def _codes_sent(app: App) -> int:
    with app.db.connect() as conn:
        query = sa.select(sa.func.count()).select_from(outbox).where(outbox.c.key == "sms.code")
        return int(conn.execute(query).scalar_one())


def test_a_registration_code_a_moment_ago_does_not_hold_up_the_preselection_code(
    app: App,
) -> None:
    """Defect 6: the minute between sends is per purpose (and chat), so the pre-selection code
    goes out, and is not refused with a message about the registration code."""
    standard_world(app)
    chat = otp.Requester("console:u1")
    with app.uow() as uow:
        verification.send_code(
            uow,
            clock=app.clock,
            key=KEY,
            phone=PERSON_PHONE,
            purpose=verification.REGISTER,
            language=Language.ZH,
            requester=chat,
        )
        account = uow.accounts.by_phone(PERSON_PHONE)
        assert account is not None
        preselection = selection_started(app, uow, account)
        sent = selection.send_selection_code(
            uow,
            clock=app.clock,
            key=KEY,
            account=account,
            preselection_id=preselection,
            language=Language.ZH,
            requester=chat,
        )
        uow.commit()
    assert sent is verification.Sending.SENT and _codes_sent(app) == 2


def selection_started(app: App, uow: UnitOfWork, account: Account) -> int:
    """Stage 1 done for the person's first vehicle: the pre-selection's id."""
    started = basic_information.begin(
        uow,
        now=app.clock.now(),
        account=account,
        office_code="粤D",
        vin=vin(1),
        certificate_no=cert(1),
    )
    return started.id or 0


def test_one_chat_cannot_have_codes_sent_to_many_numbers(app: App) -> None:
    """Defect 5: one chat queued codes for 40 numbers in seconds."""
    chat = otp.Requester("console:spammer")
    refused = []
    for n in range(otp.SENDS_PER_CHAT_HOUR + 3):
        with app.uow() as uow:
            try:
                verification.send_code(
                    uow,
                    clock=app.clock,
                    key=KEY,
                    phone=f"+86138001380{n:02d}",
                    purpose=verification.SIGN_IN,
                    language=Language.ZH,
                    requester=chat,
                )
            except CodeChatLimit:
                refused.append(n)
            uow.commit()
    assert refused == [10, 11, 12] and _codes_sent(app) == otp.SENDS_PER_CHAT_HOUR


def test_a_strangers_codes_and_guesses_do_not_lock_the_owner_out_of_their_sms(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    """Defect 5: 5 codes asked for 61 s apart and 25 wrong guesses from another chat; the
    owner still verifies by SMS and picks."""
    standard_world(app)
    say = SAY[lang]
    stranger = Transcript(app, renderer=renderer, user_key="stranger", channel="console")
    stranger.say("EN" if lang == "en" else "中文")
    stranger.pick("register")
    stranger.say(PERSON_PHONE)
    assert say["has_account"] in stranger.text
    for attempt in range(otp.SENDS_PER_HOUR):
        if attempt:
            clock.advance(timedelta(seconds=61))
            stranger.pick("resend")
        for guess in range(otp.MAX_WRONG_ENTRIES):
            stranger.say(
                f"{guess:06d}" if sms.last_code(PERSON_PHONE) != f"{guess:06d}" else "9" * 6
            )
    assert _codes_sent(app) == otp.SENDS_PER_HOUR
    owner = Transcript(
        app, renderer=renderer, user_key=PERSON_PHONE, channel="sms", sender_phone=PERSON_PHONE
    )
    owner.say("EN" if lang == "en" else "中文")
    owner.pick("preselect")
    owner.pick("start")  # one office of the user's region: it is not asked
    owner.pick("next")
    owner.pick("agree")
    owner.say(vin(1))
    owner.say(cert(1))
    owner.pick("verify")
    owner.say(sms.last_code(PERSON_PHONE))
    assert say["choose"] in owner.text

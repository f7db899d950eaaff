"""Registration as transcripts: what the user types, what comes back, in zh and en, through
every renderer, on every database under test."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.clock import ManualClock
from dialogs.replies import Inbound
from platebot.bootstrap import App
from store.tables import accounts, outbox
from tests.support import CapturingSender, Renderer, Transcript

PERSON_ID = "440304199001011233"
REP_ID = "440511198512315677"
USCC = "91440300MA5F0A0B1X"
PHONE = "+8613800138000"
PERMIT = "A12345678"

# What the user must read, per language.
SAY = {
    "zh": {
        "menu": "主菜单",
        "ask_kind": "注册类型",
        "ask_name": "真实姓名",
        "ask_id": "身份证号",
        "permit": "暂住证号",
        "region": "证件所在地",
        "address": "具体地址",
        "category": "您的身份",
        "check": "核对",
        "shenzhen": "广东省深圳市",
        "shantou": "广东省汕头市",
        "beijing": "北京市",
        "enter_code": "6位验证码",
        "registered": "注册成功",
        "unit_registered": "深圳市某某科技有限公司",
        "id_checksum": "身份证号校验位不正确，请检查后重新输入",
        "birth": "身份证号中的出生日期不存在",
        "uscc": "代码校验位不正确",
        "unit_code_invalid": "请输入18位统一社会信用代码或9位组织机构代码",
        "phone": "这不是有效的手机号",
        "wrong": "验证码错误，还可输入{n}次",
        "wrong_1": "验证码错误，还可输入1次",
        "exhausted": "该验证码错误次数过多",
        "expired": "验证码已过期（5分钟内有效）",
        "too_soon": "请{s}秒后再获取验证码",
        "hourly": "该号码1小时内获取验证码次数过多，请{m}分钟后再试",
        "masked": "4403**********1233",
        "need_account": "该业务需要账户，请先注册",
        "account": "我的账户",
        "signed_in": "已登录：张三",
        "has_account": "已有账户",
        "cancelled": "已取消",
        "expired_session": "会话已结束",
        "stale": "该菜单已过期",
        "switched": "Language: English",
        "pick": "1到2",
    },
    "en": {
        "menu": "Main menu",
        "ask_kind": "Register as",
        "ask_name": "real name",
        "ask_id": "resident ID number",
        "permit": "residence permit",
        "region": "Certificate location",
        "address": "Your address",
        "category": "Which describes you",
        "check": "Please check",
        "shenzhen": "Shenzhen, Guangdong",
        "shantou": "Shantou, Guangdong",
        "beijing": "Beijing",
        "enter_code": "6-digit code",
        "registered": "Registered. Welcome, 张三!",
        "unit_registered": "Registered. Welcome, 深圳市某某科技有限公司!",
        "id_checksum": "That ID number's check digit is wrong. Check for a typo",
        "birth": "That ID number has an impossible birth date",
        "uscc": "That code's check character is wrong",
        "unit_code_invalid": "Enter an 18-character credit code or a 9-character organisation code",
        "phone": "That is not a mobile number",
        "wrong": "Wrong code. {n} tries left.",
        "wrong_1": "Wrong code. 1 try left.",
        "exhausted": "Too many wrong entries for that code.",
        "expired": "That code has expired (codes last 5 minutes)",
        "too_soon": "Please wait {s} s before asking for another code",
        "hourly": "Too many codes sent to this number this hour. Try again in {m} min.",
        "masked": "4403**********1233",
        "need_account": "You need an account for that",
        "account": "My account",
        "signed_in": "Signed in as 张三",
        "has_account": "has an account",
        "cancelled": "Cancelled. Nothing was saved.",
        "expired_session": "Your session ended",
        "stale": "That menu is out of date",
        "switched": "语言：中文",
        "pick": "1 to 2",
    },
}


def start(app: App, renderer: Renderer, lang: str, **kwargs: str) -> Transcript:
    chat = Transcript(app, renderer=renderer, **kwargs)
    chat.say("EN" if lang == "en" else "中文")
    return chat


def to_person_details(chat: Transcript, say: dict[str, str], *, phone: str = PHONE) -> None:
    """From the main menu to the check screen of a natural person."""
    chat.pick("register")
    if chat.sender_phone is None:
        chat.say(phone)
    assert say["ask_kind"] in chat.text
    chat.pick("person")
    assert say["ask_name"] in chat.text
    chat.say("张三")
    assert say["ask_id"] in chat.text
    chat.say(PERSON_ID)
    assert say["permit"] in chat.text
    chat.pick("skip")  # no permit: the ID names the certificate location, nothing is asked
    assert say["address"] in chat.text
    chat.say("深圳市福田区深南大道1号")
    assert say["category"] in chat.text
    chat.pick("category:new_car_owner")
    assert say["check"] in chat.text and say["masked"] in chat.text
    assert say["shenzhen"] in chat.text


def test_person_registers_and_sees_masked_account(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    assert say["menu"] in chat.text
    to_person_details(chat, say)
    chat.pick("confirm")
    assert say["enter_code"] in chat.text and "+86138****8000" in chat.text
    chat.say(sms.last_code(PHONE))
    assert say["registered"] in chat.text and say["menu"] in chat.text
    chat.pick("account")
    assert say["account"] in chat.text and say["masked"] in chat.text
    assert PERSON_ID not in chat.text
    with app.db.connect() as conn:
        row = conn.execute(sa.select(accounts)).mappings().one()
    assert (row["phone"], row["id_number"], row["region_code"], row["category"]) == (
        PHONE,
        PERSON_ID,
        "4403",
        "new_car_owner",
    )
    assert row["language"] == lang


def test_unit_registers_by_sms_number_with_region_from_its_code(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    chat.pick("register")
    assert say["ask_kind"] in chat.text
    chat.pick("unit")
    chat.say("深圳市某某科技有限公司")
    chat.say("91440300MA5F0A0B1Y")
    assert say["uscc"] in chat.text
    chat.say("123")
    assert say["unit_code_invalid"] in chat.text
    chat.say(USCC.lower())
    chat.say("深圳市南山区科技园1栋")
    chat.say("李四")
    chat.say(REP_ID)  # the credit code names the region: it is not asked
    assert say["check"] in chat.text and "91************0B1X" in chat.text
    assert say["shenzhen"] in chat.text
    chat.pick("confirm")
    chat.say(sms.last_code(PHONE))
    assert say["unit_registered"] in chat.text
    with app.db.connect() as conn:
        row = conn.execute(sa.select(accounts)).mappings().one()
    assert (row["kind"], row["unit_code"], row["legal_rep_name"], row["id_number"]) == (
        "unit",
        USCC,
        "李四",
        REP_ID,
    )


def test_organisation_code_is_accepted_and_region_is_typed(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    chat.pick("register")
    chat.pick("unit")
    chat.say("汕头某厂")
    chat.say("D2143569-X")
    chat.say("汕头市龙湖区1号")
    chat.say("王五")
    chat.say("110105200002290013")
    assert SAY[lang]["beijing"] in chat.text  # suggested from the representative's ID
    chat.say("汕头" if lang == "zh" else "shantou city")
    assert SAY[lang]["check"] in chat.text and SAY[lang]["shantou"] in chat.text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("440304199001011235", "id_checksum"),
        ("440304199002301232", "birth"),
        ("440304203001011232", "birth"),
    ],
)
def test_bad_resident_id_is_refused_and_asked_again(
    app: App, renderer: Renderer, lang: str, typed: str, message: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    chat.say("张三")
    chat.say(typed)
    assert say[message] in chat.text
    assert say["ask_id"] in chat.text  # the same question again
    chat.say(PERSON_ID)
    assert say["permit"] in chat.text


@pytest.mark.parametrize("typed", ["12345", "not a phone", "+86 10 6552 9988", "🙂" * 3])
def test_phone_that_is_not_a_mobile_number_is_refused(
    app: App, renderer: Renderer, lang: str, typed: str
) -> None:
    chat = start(app, renderer, lang)
    chat.pick("register")
    chat.say(typed)
    assert SAY[lang]["phone"] in chat.text
    chat.say("138 0013 8000")
    assert SAY[lang]["ask_kind"] in chat.text


def _at_code_step(app: App, renderer: Renderer, lang: str) -> Transcript:
    chat = start(app, renderer, lang)
    to_person_details(chat, SAY[lang])
    chat.pick("confirm")
    return chat


def test_wrong_code_five_times_needs_a_new_code(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = _at_code_step(app, renderer, lang)
    right = sms.last_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    for left in (4, 3, 2):
        chat.say(wrong)
        assert say["wrong"].format(n=left) in chat.text
    chat.say(wrong)
    assert say["wrong_1"] in chat.text  # "1 try", not "1 tries" (issue 12, defect 11)
    chat.say(wrong)
    assert say["exhausted"] in chat.text
    chat.say(right)  # even the right code no longer works
    assert say["exhausted"] in chat.text
    clock.advance(timedelta(seconds=61))
    chat.pick("resend")
    chat.say(sms.last_code(PHONE))
    assert say["registered"] in chat.text


def test_expired_code_is_refused(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    chat = _at_code_step(app, renderer, lang)
    clock.advance(timedelta(minutes=5, seconds=1))
    chat.say(sms.last_code(PHONE))
    assert SAY[lang]["expired"] in chat.text


def test_resend_within_60_seconds_is_refused(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    chat = _at_code_step(app, renderer, lang)
    clock.advance(timedelta(seconds=20))
    chat.pick("resend")
    assert SAY[lang]["too_soon"].format(s=40) in chat.text
    assert len(sms.sent) == 1


def test_sixth_send_within_the_hour_is_refused(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    chat = _at_code_step(app, renderer, lang)
    for _ in range(4):
        clock.advance(timedelta(seconds=61))
        chat.pick("resend")
    assert len(sms.sent) == 5
    clock.advance(timedelta(seconds=61))
    chat.pick("resend")
    assert SAY[lang]["hourly"].format(m=55) in chat.text
    assert len(sms.sent) == 5


def test_registering_puts_my_account_where_register_was_so_no_menu_number_moves(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    assert chat.reply is not None
    before = [choice.id for choice in chat.reply.choices]
    chat.pick("register")
    chat.say(PHONE)
    chat.pick("person")
    chat.say("张三")
    chat.say(PERSON_ID)
    chat.pick("skip")
    chat.say("深圳市福田区深南大道1号")
    chat.pick("category:student")
    chat.pick("confirm")
    chat.say(sms.last_code(PHONE))
    assert say["registered"] in chat.text
    after = [choice.id for choice in chat.reply.choices]
    assert after == [{"register": "account"}.get(c, c) for c in before]
    chat.pick("account")
    assert say["account"] in chat.text and say["masked"] in chat.text


def test_registered_number_signs_in_from_another_chat(
    app: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    by_sms = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    to_person_details(by_sms, say)
    by_sms.pick("confirm")
    by_sms.say(sms.last_code(PHONE))
    clock.advance(timedelta(minutes=2))
    other = start(app, renderer, lang, user_key="tg-42", channel="telegram")
    other.pick("register")
    other.contact(PHONE)
    assert say["has_account"] in other.text
    other.say(sms.last_code(PHONE))
    assert say["signed_in"] in other.text
    other.pick("account")
    assert say["masked"] in other.text
    with app.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar() == 1


def test_sms_sender_with_an_account_is_recognised(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    first = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    to_person_details(first, SAY[lang])
    first.pick("confirm")
    first.say(sms.last_code(PHONE))
    again = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms2")
    again.pick("account")
    assert SAY[lang]["masked"] in again.text


def test_back_cancel_and_help_work_mid_registration(
    app: App, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    chat.say("张三")
    chat.say("back" if lang == "en" else "返回")
    assert say["ask_name"] in chat.text
    chat.say("HELP" if lang == "en" else "帮助")
    assert say["ask_name"] in chat.text and len(chat.reply.lines) == 2  # type: ignore[union-attr]
    chat.say("Cancel" if lang == "en" else "取消")
    assert say["cancelled"] in chat.text and say["menu"] in chat.text


def test_language_switches_at_any_step(app: App, renderer: Renderer, lang: str) -> None:
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.say("中文" if lang == "en" else "en")
    assert SAY[lang]["switched"] in chat.text
    other = "zh" if lang == "en" else "en"
    assert SAY[other]["ask_kind"] in chat.text


def test_a_registered_user_switching_language_gets_notices_in_it_too(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """The account keeps the language: notices and codes are written in it."""
    say = SAY[lang]
    chat = start(app, renderer, lang)
    to_person_details(chat, say)
    chat.pick("confirm")
    chat.say(sms.last_code(PHONE))
    assert say["registered"] in chat.text
    other = "zh" if lang == "en" else "en"
    chat.say("中文" if lang == "en" else "en")
    assert SAY[lang]["switched"] in chat.text
    chat.pick("account")
    assert SAY[other]["account"] in chat.text and SAY[other]["masked"] in chat.text
    with app.db.connect() as conn:
        assert conn.execute(sa.select(accounts.c.language)).scalar_one() == other


def test_idle_conversation_expires_to_the_main_menu(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    clock.advance(timedelta(minutes=20, seconds=1))
    chat.say("张三")
    assert SAY[lang]["expired_session"] in chat.text and SAY[lang]["menu"] in chat.text
    chat.pick("register")
    assert SAY[lang]["ask_kind"] in chat.text


def test_choice_that_is_not_offered_any_more_is_reported_stale(
    app: App, renderer: Renderer, lang: str
) -> None:
    chat = start(app, renderer, lang)
    reply = app.dialogs.handle(
        __import__("dialogs.replies").replies.Inbound(
            channel="console", user_key="u1", choice="confirm"
        )
    )
    text = renderer.render(reply)
    assert SAY[lang]["stale"] in text and SAY[lang]["menu"] in text
    assert chat.text


def test_words_out_of_place_ask_for_a_number(app: App, renderer: Renderer, lang: str) -> None:
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.say("maybe")
    assert SAY[lang]["pick"] in chat.text


def test_same_message_delivered_twice_runs_once(app: App, sms: CapturingSender) -> None:
    chat = Transcript(app, sender_phone=PHONE, user_key=PHONE, channel="sms")
    chat.say("hi")
    chat.pick("register")
    chat.pick("person")
    first = app.dialogs.handle(Inbound("sms", PHONE, "张三", message_id="SM1", sender_phone=PHONE))
    again = app.dialogs.handle(Inbound("sms", PHONE, "张三", message_id="SM1", sender_phone=PHONE))
    assert again == first
    after = app.dialogs.handle(
        Inbound("sms", PHONE, PERSON_ID, message_id="SM2", sender_phone=PHONE)
    )
    assert "permit" in after.keys[0] or after.keys == ["reg.ask_permit"]
    with app.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


# -- what a newcomer tripped on (issue 11) and bad input (issue 12) ---------------------------

MORE_SAY = {
    "zh": {
        "name_needs_letters": "须含文字",
        "share_contact": "请点击下方按钮分享您本人的联系方式",
        "region_unknown": "找不到",
    },
    "en": {
        "name_needs_letters": "A name has letters",
        "share_contact": "Please share your own contact",
        "region_unknown": "No region called",
    },
}


def test_my_account_shows_the_owners_own_name_and_masks_id_and_phone(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """Issue 11, bug 4: the owner reads their own name; what a bystander could abuse is masked."""
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    to_person_details(chat, SAY[lang])
    chat.pick("confirm")
    chat.say(sms.last_code(PHONE))
    chat.pick("account")
    assert "张三" in chat.text and "张*" not in chat.text
    assert SAY[lang]["masked"] in chat.text and "+86138****8000" in chat.text
    assert PERSON_ID not in chat.text and PHONE not in chat.text
    assert ("Shenzhen" if lang == "en" else "深圳") in chat.text  # region in their language


def test_a_unit_sees_its_own_name_and_representative_unmasked(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE, channel="sms")
    chat.pick("register")
    chat.pick("unit")
    chat.say("深圳市某某科技有限公司")
    chat.say(USCC)
    chat.say("深圳市南山区科技园1栋")
    chat.say("李四")
    chat.say(REP_ID)  # the credit code names the region: it is not asked
    chat.pick("confirm")
    chat.say(sms.last_code(PHONE))
    chat.pick("account")
    assert "深圳市某某科技有限公司" in chat.text and "李四" in chat.text and "李*" not in chat.text
    assert REP_ID not in chat.text and "4405**********5677" in chat.text


def test_a_name_of_digits_is_refused_as_having_no_letters(
    app: App, renderer: Renderer, lang: str
) -> None:
    """Issue 11: a name of "1" is neither a choice nor "1 to 60 characters"."""
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    chat.say("1")
    assert MORE_SAY[lang]["name_needs_letters"] in chat.text and SAY[lang]["ask_name"] in chat.text
    chat.say("张三")
    assert SAY[lang]["ask_id"] in chat.text


def test_telegram_takes_only_the_users_own_shared_contact(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """Issue 12, defect 5: a typed number on Telegram could be anyone's: no code is sent."""
    chat = start(app, renderer, lang, user_key="tg-7", channel="telegram")
    chat.pick("register")
    chat.say("13800138000")
    assert MORE_SAY[lang]["share_contact"] in chat.text
    assert chat.reply is not None and chat.reply.ask_contact
    chat.contact(PHONE)
    assert SAY[lang]["ask_kind"] in chat.text


@pytest.mark.parametrize("odd", ["❶", "፩", "٣", "³❶", "9" * 40, "1" * 5000, "\ud800", "x\udfff"])
def test_odd_digits_at_a_choice_get_the_hint_and_keep_the_step(
    app: App, renderer: Renderer, lang: str, odd: str
) -> None:
    """Issue 12, defect 4: ``❶`` passes ``isdigit()`` and fails ``int()``: never a reset."""
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.say(odd)
    assert chat.reply is not None and "error.internal" not in chat.reply.keys
    assert SAY[lang]["ask_kind"] in chat.text
    chat.pick("person")
    assert SAY[lang]["ask_name"] in chat.text


@pytest.mark.parametrize("typed", ["1" * 2000, "123456", "110199", "❶❶❶❶❶❶"])
def test_a_region_of_digits_must_be_a_real_division_code(
    app: App, renderer: Renderer, lang: str, typed: str
) -> None:
    """Issue 12, defect 10: "1"×2000 is not 北京市, "123456" not 天津市."""
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    chat.say("张三")
    chat.say(PERSON_ID)
    chat.say(PERMIT)  # with a permit the certificate location is asked
    assert SAY[lang]["region"] in chat.text
    chat.say(typed)
    assert MORE_SAY[lang]["region_unknown"] in chat.text
    assert "北京市" not in chat.text and "天津市" not in chat.text
    chat.say("440305")
    assert SAY[lang]["address"] in chat.text


def test_echoed_input_is_cleaned_of_bidi_overrides_and_zero_width_characters(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """Issue 12, defect 10: what is shown back cannot be reordered or hide characters."""
    chat = start(app, renderer, lang, sender_phone=PHONE, user_key=PHONE)
    chat.pick("register")
    chat.pick("person")
    chat.say("张\u202e三\u200b\u2066")
    chat.say(PERSON_ID)
    chat.say(PERMIT)  # with a permit the certificate location is asked
    assert SAY[lang]["region"] in chat.text
    chat.say("Atl\u202eantis\ufeff")
    assert "Atlantis" in chat.text
    assert not any(ch in chat.text for ch in "\u202e\u200b\u2066\ufeff")
    chat.pick("region:4403")
    chat.say("深圳市福田区深南大道1号")
    chat.pick("category:new_car_owner")
    assert "张三" in chat.text
    assert not any(ch in chat.text for ch in "\u202e\u200b\u2066\ufeff")

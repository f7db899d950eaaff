"""Pre-selection as transcripts (SPEC §4): what the user types and sees, in zh and en, through
every renderer, on every database under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.accounts import Category
from core.clock import OFFICE_TZ, ManualClock
from core.plates import PlateKind
from core.pools import NumberState
from core.timers import Timers
from platebot.bootstrap import App
from store.preselection_tables import preselections
from tests.preselect_world import (
    OTHER_ID,
    OTHER_PHONE,
    PERSON_ID,
    PERSON_PHONE,
    UNIT_PHONE,
    add_accounts,
    add_office,
    add_vehicles,
    cert,
    number_state,
    person,
    snapshot,
    standard_world,
    vin,
)
from tests.support import CapturingSender, Renderer, Transcript

POOL = [f"{10000 + i}" for i in range(30)]

SAY = {
    "zh": {
        "intro": "逾期作废",
        "local_only": "只能选证件所在地的车管所",
        "office": "粤D 汕头市车辆管理所",
        "publicity": "小型汽车：30个",
        "notice": "请如实填写车辆信息",
        "agree": "已阅读并同意",
        "ask_vin": "请输入车辆识别代号",
        "vin_help": "合格证",
        "vin_checksum": "校验位（第9位）不正确",
        "not_found": "合格证信息库中没有该车辆识别代号",
        "mismatch": "合格证编号与该车辆不符",
        "not_yours": "所有人不是您本人",
        "ask_cert": "请输入合格证编号",
        "selection_notice": "还可自编{self}个号牌，换一批还剩{batches}次",
        "code": "请输入短信发送至+86138****8000的6位验证码",
        "choose": "请选择选号方式",
        "batch": "保留20分钟",
        "own": "请输入最多5个自编号码",
        "own_none": "都不可用，扣{spent}次，还可自编{left}个",
        "result": "预选成功：粤D·{serial}",
        "deadline": "2026-11-26（周四）24时前有效",
        "closed": "选号时间为每天09:00-21:00，现在不能选号",
        "no_chances": "自编机会和换一批次数都已用完",
        "blocked": "2028-11-27（周一）前不能网上预选号牌",
        "practice": "【模拟选号，不保存】",
        "practice_code": "请输入任意6位数字",
        "practice_result": "模拟选中：粤D·",
        "session_ended": "保留的号码已释放",
        "need_account": "该业务需要账户",
        "menu": "主菜单",
    },
    "en": {
        "intro": "Confirm at the office",
        "local_only": "own region only",
        "office": "Yue D Shantou Vehicle Management Office",
        "publicity": "Small car: 30",
        "notice": "请如实填写车辆信息",
        "agree": "Read and agree",
        "ask_vin": "Enter the VIN",
        "vin_help": "vehicle certificate",
        "vin_checksum": "check digit (9th character) is wrong",
        "not_found": "not in the vehicle certificate registry",
        "mismatch": "does not match the vehicle",
        "not_yours": "not registered to you",
        "ask_cert": "certificate number",
        "selection_notice": "{self} own numbers and {batches} batches left",
        "code": "Enter the 6-digit code we sent by SMS to +86138****8000",
        "choose": "How do you want to pick",
        "batch": "Held for you 20 min",
        "own": "Enter up to 5 numbers",
        "own_none": "{spent} used, {left} own numbers left",
        "result": "Pre-selected: Yue D {serial}",
        "deadline": "valid to the end of 2026-11-26 (Thu)",
        "closed": "Numbers can be picked 09:00-21:00 only",
        "no_chances": "has used all its own-number chances and batches",
        "blocked": "barred until 2028-11-27 (Mon)",
        "practice": "[Practice: nothing saved]",
        "practice_code": "enter any 6 digits",
        "practice_result": "Practice pick: Yue D ",
        "session_ended": "the numbers held for you were released",
        "need_account": "You need an account for that",
        "menu": "Main menu",
    },
}


@pytest.fixture
def world(app: App) -> App:
    standard_world(app, POOL)
    return app


def start(app: App, renderer: Renderer, lang: str, phone: str = PERSON_PHONE) -> Transcript:
    """An SMS user of ``phone`` (known to the channel), in ``lang``, at the main menu."""
    chat = Transcript(app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone)
    chat.say("EN" if lang == "en" else "中文")
    return chat


def to_notice(chat: Transcript, say: dict[str, str], n: int = 1) -> None:
    """Stage 1 from the main menu to the selection notice, for vehicle ``n``."""
    chat.pick("preselect")
    assert say["intro"] in chat.text
    chat.pick("start")
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(n))
    chat.say(cert(n))
    assert say["selection_notice"].format(self=20, batches=5) in chat.text


def to_choose(chat: Transcript, say: dict[str, str], sms: CapturingSender, n: int = 1) -> None:
    to_notice(chat, say, n)
    chat.pick("verify")
    chat.say(sms.last_code(chat.user_key))
    assert say["choose"] in chat.text


def picked(chat: Transcript, say: dict[str, str], sms: CapturingSender, serial: str) -> None:
    """The whole journey, ending with ``serial`` chosen as the user's own number."""
    to_choose(chat, say, sms)
    chat.pick("own")
    chat.say(serial)
    assert say["result"].format(serial=serial) in chat.text


def the_preselection(app: App, of_vin: str | None = None) -> dict[str, object]:
    query = sa.select(preselections)
    if of_vin is not None:
        query = query.where(preselections.c.vin == of_vin)
    with app.db.connect() as conn:
        return dict(conn.execute(query).mappings().one())


def test_new_car_owner_pre_selects_a_number_from_a_random_batch(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    add_office(world, code="粤X", name="汕头市第二车辆管理所")
    chat = start(world, renderer, lang)
    chat.pick("preselect")
    assert say["intro"] in chat.text
    chat.pick("start")
    assert say["local_only"] in chat.text and say["office"] in chat.text
    assert [c.id for c in chat.reply.choices] == ["office:粤D", "office:粤X"]  # type: ignore[union-attr]
    chat.pick("office:粤D")
    chat.pick("publicity")
    assert say["publicity"] in chat.text
    chat.pick("next")
    assert say["notice"] in chat.text and say["agree"] in chat.text
    chat.pick("agree")
    assert say["ask_vin"] in chat.text
    chat.say("?")
    assert say["vin_help"] in chat.text
    wrong = vin(1)[:8] + ("1" if vin(1)[8] != "1" else "2") + vin(1)[9:]
    chat.say(wrong)
    assert say["vin_checksum"] in chat.text
    chat.say(vin(1).lower())
    assert say["ask_cert"] in chat.text
    chat.say(cert(1))
    assert say["selection_notice"].format(self=20, batches=5) in chat.text
    chat.pick("verify")
    assert say["code"] in chat.text
    chat.say(sms.last_code(PERSON_PHONE))
    assert say["choose"] in chat.text
    chat.pick("draw")
    assert say["batch"] in chat.text
    first = [c.id for c in chat.reply.choices if c.id.startswith("take:")]  # type: ignore[union-attr]
    assert len(first) == 10
    chat.pick("draw_no4")
    batch = [c.id for c in chat.reply.choices if c.id.startswith("take:")]  # type: ignore[union-attr]
    assert all("4" not in choice for choice in batch)
    chat.pick(batch[2])
    serial = batch[2].removeprefix("take:")
    assert say["result"].format(serial=serial) in chat.text and say["deadline"] in chat.text
    row = the_preselection(world)
    assert (row["state"], row["serial"], row["batches_left"]) == ("selected", serial, 3)
    assert number_state(world, serial) == NumberState.PRESELECTED


def test_own_numbers_none_free_cost_each_then_the_first_free_one_is_taken(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    taken_by_unit = start(world, renderer, lang, phone=UNIT_PHONE)
    to_choose(taken_by_unit, say, sms, n=11)
    taken_by_unit.pick("own")
    taken_by_unit.say("10001")
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("own")
    assert say["own"] in chat.text
    chat.say("粤D·10001，99999")
    assert say["own_none"].format(spent=2, left=18) in chat.text and say["own"] in chat.text
    chat.say("10001 ab123 10002")
    assert say["result"].format(serial="10002") in chat.text
    assert number_state(world, "10001") == NumberState.PRESELECTED


@pytest.mark.parametrize("typed", ["粤d {serial}", "Yue D {serial}", "yue d·{serial}"])
def test_typing_a_number_of_the_batch_takes_it(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str, typed: str
) -> None:
    """As either language writes the plate: English screens show it as ``Yue D 10003``."""
    chat = start(world, renderer, lang)
    to_choose(chat, SAY[lang], sms)
    chat.pick("draw")
    assert lang == "zh" or "粤" not in chat.text  # the serials' prefix on Telegram: (Yue D)
    serial = chat.reply.choices[4].id.removeprefix("take:")  # type: ignore[union-attr]
    chat.say(typed.format(serial=serial))
    assert SAY[lang]["result"].format(serial=serial) in chat.text


def test_coming_back_after_stage_one_goes_straight_to_the_selection_notice(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("draw")
    chat.say("菜单" if lang == "zh" else "MENU")
    chat.pick("preselect")
    assert say["selection_notice"].format(self=20, batches=4) in chat.text


def test_coming_back_after_picking_shows_the_result(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    picked(chat, say, sms, "10003")
    chat.pick("menu")
    chat.pick("preselect")
    assert say["result"].format(serial="10003") in chat.text and say["deadline"] in chat.text


def test_no_chances_left_sends_the_user_to_the_office(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    add_office(app, self_choice_allowance=1, batch_allowance=0)
    add_accounts(app, person())
    add_vehicles(app, [(vin(1), cert(1), PERSON_ID, PlateKind.SMALL)])
    chat = start(app, renderer, lang)
    chat.pick("preselect")
    chat.pick("start")
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(1))
    chat.say(cert(1))
    chat.pick("verify")
    chat.say(sms.last_code(PERSON_PHONE))
    assert [c.id for c in chat.reply.choices] == ["own"]  # type: ignore[union-attr]
    chat.pick("own")
    chat.say("99999")
    assert say["no_chances"] in chat.text
    chat.pick("menu")
    chat.pick("preselect")  # coming back
    assert say["no_chances"] in chat.text


def test_stage_two_outside_selection_hours_is_refused_and_the_information_kept(
    world: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    clock.set(datetime(2026, 11, 23, 22, 0, tzinfo=OFFICE_TZ).astimezone(UTC))
    chat = start(world, renderer, lang)
    to_notice(chat, say)
    chat.pick("verify")
    assert say["closed"] in chat.text
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=OFFICE_TZ).astimezone(UTC))
    chat.say("菜单" if lang == "zh" else "MENU")
    chat.pick("preselect")
    chat.pick("verify")
    assert say["code"] in chat.text


def test_blacklisted_user_is_refused_with_the_lift_date(
    world: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    picked(chat, say, sms, "10003")
    clock.advance(timedelta(days=5))
    assert Timers(world.uow, clock).run_once() == 1
    chat.say("菜单" if lang == "zh" else "MENU")
    chat.pick("preselect")
    assert say["blocked"] in chat.text
    assert [c.id for c in chat.reply.choices] == ["menu"]  # type: ignore[union-attr]


def test_practice_runs_the_same_steps_marked_as_practice_and_saves_nothing(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    chat.pick("preselect")
    before = snapshot(world, skip={"conversations", "inbound_messages"})
    conversations = len(snapshot(world)["conversations"])
    chat.pick("practice")
    screens = [chat.reply]
    for choice in ("start", "publicity", "next", "agree"):
        chat.pick(choice)
        screens.append(chat.reply)
    chat.say("LSVAU2180N2183294".replace("0N", "XN"))  # any real VIN: nothing is checked
    chat.say("NOT-IN-REGISTRY-1")
    chat.pick("kind:small")
    screens.append(chat.reply)
    assert say["selection_notice"].format(self=20, batches=5) in chat.text
    chat.pick("verify")
    assert say["practice_code"] in chat.text and not sms.sent
    chat.say("123456")
    chat.pick("draw")
    screens.append(chat.reply)
    chat.pick("own")
    chat.say("99998 99999")
    assert say["own_none"].format(spent=2, left=18) in chat.text
    chat.pick("draw")
    chat.pick(next(c.id for c in chat.reply.choices if c.id.startswith("take:")))  # type: ignore[union-attr]
    screens.append(chat.reply)
    assert say["practice_result"] in chat.text
    assert all(reply is not None and reply.practice for reply in screens)
    assert all(say["practice"] in renderer.render(r) for r in screens if r is not None)
    # every table is as it was (row for row), but the dialog's own log of messages handled
    assert snapshot(world, skip={"conversations", "inbound_messages"}) == before
    assert len(snapshot(world)["conversations"]) == conversations


def test_office_list_follows_the_users_category(world: App, renderer: Renderer, lang: str) -> None:
    add_office(world, code="粤B", region="4403", name="深圳市车辆管理所")
    chat = start(world, renderer, lang)
    chat.pick("preselect")
    chat.pick("start")  # 粤D is the one office this user may choose: it is not asked for
    assert SAY[lang]["office"] in chat.text
    assert [c.id for c in chat.reply.choices] == ["next", "publicity"]  # type: ignore[union-attr]
    add_accounts(world, person(OTHER_PHONE, OTHER_ID, category=Category.EXISTING_OWNER))
    other = start(world, renderer, lang, phone=OTHER_PHONE)
    other.pick("preselect")
    other.pick("start")
    assert [c.id for c in other.reply.choices] == ["office:粤D", "office:粤B"]  # type: ignore[union-attr]
    other.say("粤b")
    shenzhen = "深圳市车辆管理所" if lang == "zh" else "Shenzhen Vehicle Management Office"
    assert shenzhen in other.text


@pytest.mark.parametrize(
    "case", [(99, cert(99), "not_found"), (1, cert(2), "mismatch"), (11, cert(11), "not_yours")]
)
def test_registry_refusals_say_what_is_wrong_and_ask_again(
    world: App, renderer: Renderer, lang: str, case: tuple[int, str, str]
) -> None:
    say = SAY[lang]
    n, certificate, message = case
    chat = start(world, renderer, lang)
    chat.pick("preselect")
    chat.pick("start")
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(n))
    chat.say(certificate)
    assert say[message] in chat.text and say["ask_cert"] in chat.text


def test_newcomer_registers_first_then_reaches_pre_selection(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    phone = "+8613600136000"
    chat = start(world, renderer, lang, phone=phone)
    chat.pick("preselect")
    assert say["need_account"] in chat.text
    chat.pick("person")
    chat.say("王五")
    chat.say(OTHER_ID)
    chat.pick("skip")
    chat.say("汕头市龙湖区1号")
    chat.pick("category:new_car_owner")
    chat.pick("confirm")
    chat.say(sms.last_code(phone))
    assert chat.reply is not None and chat.reply.keys[-1] == "pre.intro"  # SMS pages it


def test_idle_selection_releases_the_batch_and_asks_to_verify_again(
    world: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("draw")
    held = [c.id.removeprefix("take:") for c in chat.reply.choices if c.id.startswith("take:")]  # type: ignore[union-attr]
    clock.advance(timedelta(minutes=21))
    Timers(world.uow, clock).run_once()
    assert {number_state(world, s) for s in held} == {NumberState.POOLED}
    chat.say("1")  # the conversation ended too: the main menu
    assert say["menu"] in chat.text
    chat.pick("preselect")
    assert say["selection_notice"].format(self=20, batches=4) in chat.text


def test_a_session_that_ended_while_the_chat_stayed_open_leads_back_to_the_notice(
    world: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("draw")
    clock.advance(timedelta(minutes=19))
    chat.pick("own")  # the chat stays open; only drawing and checking numbers use the session
    clock.advance(timedelta(minutes=2))
    chat.say("10001")
    assert say["session_ended"] in chat.text
    assert chat.reply is not None and chat.reply.keys[-1] == "pre.notice"  # SMS pages it
    assert the_preselection(world)["state"] == "started"


def test_going_back_after_the_pick_leads_to_the_result_again(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    picked(chat, say, sms, "10004")
    chat.say("返回" if lang == "zh" else "BACK")
    chat.say("10005")
    assert say["result"].format(serial="10004") in chat.text
    assert number_state(world, "10005") == NumberState.POOLED


# -- what a newcomer tripped on (issue 11), and the wording of issue 12 ------------------------

MORE_SAY = {
    "zh": {
        "still_valid": "仍然有效",
        "not_requested": "尚未发送验证码",
        "verified": "您的手机号刚刚已验证",
        "back_done": "该步骤已完成，不能返回",
        "not_in_pool": "{serial}：不在号池",
        "taken": "{serial}：已被选",
        "vehicle_of_practice": "车辆尾号-",
    },
    "en": {
        "still_valid": "still valid",
        "not_requested": "No code was sent yet",
        "verified": "Your phone was verified a moment ago",
        "back_done": "That step is done",
        "not_in_pool": "{serial}: not in the pool",
        "taken": "{serial}: taken",
        "vehicle_of_practice": "Car ...-",
    },
}


def test_a_newcomer_who_just_registered_is_not_asked_for_a_second_code(
    world: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    """Issue 11, bug 1: registering verified the phone a moment ago; pre-selection goes on
    without another code (never "a code is still valid" for a code that was not sent)."""
    say, more = SAY[lang], MORE_SAY[lang]
    phone = "+8613600136000"
    add_vehicles(world, [(vin(21), cert(21), OTHER_ID, PlateKind.SMALL)])
    chat = start(world, renderer, lang, phone=phone)
    chat.pick("preselect")
    chat.pick("person")
    chat.say("王五")
    chat.say(OTHER_ID)
    chat.pick("skip")  # no permit: the ID names the certificate location, nothing is asked
    chat.say("汕头市龙湖区1号")
    chat.pick("category:new_car_owner")
    chat.pick("confirm")
    chat.say(sms.last_code(phone))
    clock.advance(timedelta(seconds=20))
    chat.pick("start")  # 粤D is the one office this user may choose: it is not asked for
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(21))
    chat.say(cert(21))
    chat.pick("verify")
    assert more["verified"] in chat.text and say["choose"] in chat.text
    assert more["still_valid"] not in chat.text and more["not_requested"] not in chat.text
    assert len(sms.sent) == 1  # the registration code only
    chat.pick("own")
    chat.say("10007")
    assert say["result"].format(serial="10007") in chat.text


def test_after_verifying_minutes_ago_a_new_code_is_sent(
    world: App, sms: CapturingSender, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    """Minutes later the phone is verified again: a new pre-selection code is sent at once,
    whatever codes went to the number before."""
    say = SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.say("菜单" if lang == "zh" else "MENU")
    clock.advance(timedelta(minutes=11))
    chat.pick("preselect")
    chat.pick("verify")
    assert say["code"] in chat.text and len(sms.sent) == 2
    chat.say(sms.last_code(PERSON_PHONE))
    assert say["choose"] in chat.text


def test_back_after_taking_a_number_of_the_batch_never_offers_the_batch_again(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """Issue 11, bug 2: after a completed step, BACK stays where the user stands."""
    say, more = SAY[lang], MORE_SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("draw")
    batch = [c.id for c in chat.reply.choices if c.id.startswith("take:")]  # type: ignore[union-attr]
    chat.pick(batch[0])
    serial = batch[0].removeprefix("take:")
    chat.say("返回" if lang == "zh" else "BACK")
    assert more["back_done"] in chat.text and say["result"].format(serial=serial) in chat.text
    assert say["batch"] not in chat.text
    assert not any(c.id.startswith("take:") for c in chat.reply.choices)  # type: ignore[union-attr]
    chat.say(batch[1].removeprefix("take:"))
    assert say["result"].format(serial=serial) in chat.text
    assert the_preselection(world)["serial"] == serial
    assert number_state(world, batch[1].removeprefix("take:")) == NumberState.POOLED


def test_back_after_the_code_was_used_does_not_ask_for_it_again(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say, more = SAY[lang], MORE_SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.say("返回" if lang == "zh" else "BACK")
    assert more["back_done"] in chat.text and say["choose"] in chat.text
    assert say["code"] not in chat.text


def test_own_numbers_passed_over_are_each_given_a_reason(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    """Issue 11, bug 3: "88888 10001 10002" takes 10002 and says why not the first two."""
    say, more = SAY[lang], MORE_SAY[lang]
    taken_by_unit = start(world, renderer, lang, phone=UNIT_PHONE)
    to_choose(taken_by_unit, say, sms, n=11)
    taken_by_unit.pick("own")
    taken_by_unit.say("10001")
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.pick("own")
    chat.say("88888 10001 10002")
    assert more["not_in_pool"].format(serial="88888") in chat.text
    assert more["taken"].format(serial="10001") in chat.text
    assert the_preselection(world, vin(1))["serial"] == "10002"


def test_numbers_typed_at_the_method_menu_are_checked_as_own_numbers(
    world: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(world, renderer, lang)
    to_choose(chat, say, sms)
    chat.say("10003 10004")
    assert say["result"].format(serial="10003") in chat.text


def test_the_practice_notice_names_no_vehicle_and_is_marked_once(
    world: App, renderer: Renderer, lang: str
) -> None:
    """Issue 12, defect 11: no "Car ...-:" and one practice marker per screen."""
    say, more = SAY[lang], MORE_SAY[lang]
    chat = start(world, renderer, lang)
    chat.pick("preselect")
    chat.pick("practice")
    for choice in ("start", "next", "agree"):  # one office to choose from: it is not asked
        chat.pick(choice)
    chat.say(vin(1))
    chat.say(cert(1))
    chat.pick("kind:small")
    assert say["selection_notice"].format(self=20, batches=5) in chat.text
    assert more["vehicle_of_practice"] not in chat.text
    assert chat.text.count(say["practice"]) == 1
    assert "【练习】" not in chat.text and "[Practice]" not in chat.text  # the SMS mark, once more

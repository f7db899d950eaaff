"""Words work (issue 11, README "The console conversation"): an option is chosen by its number
or by any part of its words that fits it alone, in either language and any case, on every
channel."""

from __future__ import annotations

import pytest

from platebot.bootstrap import App
from tests.preselect_world import PERSON_PHONE, cert, standard_world, vin
from tests.support import CapturingSender, Renderer, Transcript

PHONE = "+8613800138001"

SAY = {
    "zh": {
        "ask_kind": "注册类型",
        "ask_name": "真实姓名",
        "code": "6位验证码",
        "choose": "请选择选号方式",
        "own": "请输入最多5个自编号码",
        "pick": "1到",
        "intro": "逾期作废",
    },
    "en": {
        "ask_kind": "Register as",
        "ask_name": "real name",
        "code": "6-digit code",
        "choose": "How do you want to pick",
        "own": "Enter up to 5 numbers",
        "pick": "1 to",
        "intro": "lapses",
    },
}


def _chat(app: App, renderer: Renderer, lang: str, phone: str = PHONE) -> Transcript:
    chat = Transcript(app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone)
    chat.say("EN" if lang == "en" else "中文")
    return chat


@pytest.mark.parametrize(
    ("words", "then"),
    [
        (("注册", "自然人"), "ask_name"),
        (("register", "natural PERSON"), "ask_name"),
        (("登录", "person"), "ask_name"),  # either language, whatever the user's
        (("Sign in", "个人"), "ask_kind"),  # "个人" is no option's words: asked again
    ],
)
def test_options_are_chosen_by_part_of_their_words_in_either_language(
    app: App, renderer: Renderer, lang: str, words: tuple[str, str], then: str
) -> None:
    chat = _chat(app, renderer, lang)
    chat.say(words[0])
    assert SAY[lang]["ask_kind"] in chat.text
    chat.say(words[1])
    assert SAY[lang][then] in chat.text


def test_confirm_by_its_words_sends_the_code(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    chat = _chat(app, renderer, lang)
    chat.pick("register")
    chat.pick("person")
    chat.say("张三")
    chat.say("440304199001011233")
    chat.pick("skip")
    chat.say("深圳")
    chat.say("深圳市福田区深南大道1号")
    chat.pick("category:new_car_owner")
    chat.say("确认" if lang == "zh" else "ok")
    assert SAY[lang]["code"] in chat.text and len(sms.sent) == 1


def test_own_numbers_by_their_words_at_the_method_menu(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    standard_world(app)
    chat = _chat(app, renderer, lang, phone=PERSON_PHONE)
    chat.say("预选" if lang == "zh" else "pre-select")
    assert SAY[lang]["intro"] in chat.text
    chat.pick("start")  # one office of the user's region: it is not asked
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(1))
    chat.say(cert(1))
    chat.pick("verify")
    chat.say(sms.last_code(PERSON_PHONE))
    assert SAY[lang]["choose"] in chat.text
    chat.say("随机" if lang == "zh" else "random")  # both random batches: which one?
    assert SAY[lang]["pick"] in chat.text and SAY[lang]["choose"] in chat.text
    chat.say("号")  # one character is too little to tell
    assert SAY[lang]["pick"] in chat.text
    chat.say("自编号码" if lang == "zh" else "own numbers")
    assert SAY[lang]["own"] in chat.text


@pytest.mark.parametrize(
    ("word", "shows"),
    [
        ("auction", {"zh": "报名记录", "en": "Signup history"}),  # "Plate auctions"
        ("Order", {"zh": "没有待支付的订单", "en": "No orders to pay"}),  # "My orders"
        ("plate auction", {"zh": "报名记录", "en": "Signup history"}),
    ],
)
def test_an_english_word_fits_an_option_that_has_it_in_the_plural(
    app: App, renderer: Renderer, lang: str, word: str, shows: dict[str, str]
) -> None:
    standard_world(app)
    chat = _chat(app, renderer, lang, phone=PERSON_PHONE)
    chat.say(word)
    assert shows[lang] in chat.text

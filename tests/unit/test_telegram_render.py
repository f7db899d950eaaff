"""How replies look on Telegram: buttons that carry their prompt, the contact keyboard."""

from __future__ import annotations

import re
import string

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.render import callback_data, commands, kept, read_callback, render
from core.accounts import Language
from dialogs.catalog import CATALOGS, render_text
from dialogs.replies import Choice, Link, Reply, Text

MENU = Reply(
    lines=(Text("welcome"), Text("menu.title")),
    choices=(Choice("register", Text("menu.register")), Choice("lang", Text("lang.other"))),
    prompt_token="7",
)


def test_choices_become_numbered_buttons_that_carry_the_prompt_token() -> None:
    message = render(MENU)
    assert message.text.startswith("欢迎使用号牌助手") and message.text.endswith("主菜单：")
    assert [(b.label, b.data) for b in message.buttons] == [
        ("1 注册/登录", "7|register"),
        ("2 English", "7|lang"),
    ]
    markup = message.markup()
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [row[0].callback_data for row in markup.inline_keyboard] == ["7|register", "7|lang"]
    assert message.editable


def test_a_reply_in_english_is_shown_in_english() -> None:
    message = render(Reply(lines=(Text("menu.title"),), language=Language.EN))
    assert message.text == "Main menu:"


def test_asking_for_the_contact_shows_the_request_contact_keyboard_and_cannot_be_an_edit() -> None:
    message = render(Reply(lines=(Text("reg.ask_phone"),), ask_contact=True, prompt_token="3"))
    markup = message.markup()
    assert isinstance(markup, ReplyKeyboardMarkup)
    [[button]] = markup.keyboard
    assert button.request_contact and button.text == "📱 发送我的手机号"
    assert markup.one_time_keyboard and not message.editable


def test_a_reply_without_choices_takes_a_contact_keyboard_away() -> None:
    message = render(Reply(lines=(Text("reg.ask_real_name"),)))
    assert isinstance(message.markup(), ReplyKeyboardRemove)
    assert message.inline_keyboard() is None


def test_a_pressed_button_gives_back_its_token_and_choice() -> None:
    assert read_callback(callback_data("12", "region:4403")) == ("12", "region:4403")
    assert read_callback(callback_data(None, "skip")) == (None, "skip")
    assert read_callback(callback_data("12", "confirm", keep=True)) == ("12", "confirm")


def test_buttons_of_a_screen_to_keep_say_so() -> None:
    summary = Reply(
        lines=(Text("raw", {"text": "请核对"}),),
        choices=(Choice("confirm", Text("reg.confirm")),),
        prompt_token="5",
        keep=True,
    )
    [button] = render(summary).buttons
    assert kept(button.data) and read_callback(button.data) == ("5", "confirm")
    assert not kept(render(MENU).buttons[0].data)


# What only an SMS says: one replies to it (Telegram has buttons to press and text to type).
SMS_WORDING = re.compile(r"回复|\breply\b", re.IGNORECASE)


@pytest.mark.parametrize("language", list(Language))
def test_no_text_shown_on_telegram_tells_to_reply_as_to_an_sms(language: Language) -> None:
    """Every catalog text, rendered as Telegram renders it (its own wording where it has one).
    The SMS channel's own texts never go to Telegram."""
    catalog = CATALOGS[language]
    smsy = [
        key
        for key in catalog
        if "/" not in key
        and not key.startswith("sms.")
        and SMS_WORDING.search(render_text(Text(key, _dummy(catalog[key])), language, "telegram"))
    ]
    assert smsy == []


def test_callback_data_not_made_by_the_bot_reads_as_stale() -> None:
    token, choice = read_callback("register")
    assert choice == "register" and token == "?"


def test_a_choice_id_too_long_for_telegram_is_caught_when_rendered() -> None:
    with pytest.raises(ValueError, match="too long"):
        callback_data("1", "x" * 63)


def test_overlong_text_is_cut_to_telegrams_limit() -> None:
    message = render(Reply(lines=(Text("raw", {"text": "号" * 5000}),)))
    assert len(message.text) == 4096 and message.text.endswith("…")


def test_the_command_menu_has_the_five_commands_in_each_language() -> None:
    for language in Language:
        menu = commands(language)
        assert [c.command for c in menu] == ["start", "menu", "cancel", "help", "lang"]
        assert all(c.description for c in menu)


def _dummy(template: str) -> dict[str, str | int]:
    """A value for each placeholder (``x_key`` ones name a catalog key)."""
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return {name: 1 for name in names}


def test_a_link_is_a_url_button_above_the_choices() -> None:
    reply = Reply(
        lines=(Text("pay.title"),),
        choices=(Choice("lang", Text("lang.other")),),
        links=(Link(Text("pay.title"), "https://office.example/pay/abc"),),
        language=Language.EN,
        prompt_token="3",
    )
    message = render(reply)
    markup = message.markup()
    assert isinstance(markup, InlineKeyboardMarkup)
    first, second = markup.inline_keyboard
    assert (first[0].text, first[0].url) == ("Pay your order", "https://office.example/pay/abc")
    assert first[0].callback_data is None
    assert second[0].callback_data == "3|lang"
    assert "[Pay your order: https://office.example/pay/abc]" in message.as_text()
    assert Reply.from_json(reply.to_json()) == reply

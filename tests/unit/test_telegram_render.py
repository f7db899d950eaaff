"""How replies look on Telegram: buttons that carry their prompt, the contact keyboard."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.render import callback_data, commands, read_callback, render
from core.accounts import Language
from dialogs.replies import Choice, Reply, Text

MENU = Reply(
    lines=(Text("welcome"), Text("menu.title")),
    choices=(Choice("register", Text("menu.register")), Choice("lang", Text("lang.other"))),
    prompt_token="7",
)


def test_choices_become_numbered_buttons_that_carry_the_prompt_token() -> None:
    message = render(MENU)
    assert message.text.startswith("欢迎使用号牌助手") and message.text.endswith(
        "主菜单，请回复序号："
    )
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
    assert message.text == "Main menu. Reply with a number:"


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

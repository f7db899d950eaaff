"""SPEC §13: a plate is kept and passed as Chinese shows it (``粤D·12345``), and what a user
reads in English on a channel (SMS, Telegram, the console) shows it as ``Yue D 12345``: one
Chinese character would make a whole English SMS UCS-2, 70 characters a segment instead of 160.
Staff pages and commands (rendered without a channel) keep the Chinese form. A user picks a
plate by typing either form."""

from __future__ import annotations

import pytest

from bot.render import render
from core.accounts import Language
from core.plates import plates_in_text
from dialogs.catalog import render_text
from dialogs.engine import _match_choice
from dialogs.render import render_plain
from dialogs.replies import Choice, Reply, Text
from sms.render import render_pages
from sms.segments import Encoding, encoding_of, segment_count


def sale_list(language: Language) -> Reply:
    """The plates-for-sale screen, its plates passed as the flow passes them."""
    return Reply(
        lines=(Text("sale.list", {"page": 1, "pages": 1, "total": 2}),),
        choices=(
            Choice("plate:1", Text("sale.item", {"plate": "粤D·12345", "price": "¥12,000"})),
            Choice("plate:2", Text("sale.item", {"plate": "粤D·AB888", "price": "¥8,800"})),
            Choice("menu", Text("menu.back")),
        ),
        language=language,
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("粤D·12345", "Yue D 12345"),
        ("Buy 粤D·16666 for ¥12,000.", "Buy Yue D 16666 for ¥12,000."),
        ("1 京A·D12345 ¥9\n2 琼B·12345D ¥8", "1 Jing A D12345 ¥9\n2 Qiong B 12345D ¥8"),
        ("Held for you 20 min ({prefix}):".format(prefix="粤D·"), "Held for you 20 min (Yue D):"),
        ("Order 1 (粤D·A1234), 粤B·99999", "Order 1 (Yue D A1234), Yue B 99999"),
        ("a·b, 汕头市·龙湖区, 粤d·12345", "a·b, 汕头市·龙湖区, 粤d·12345"),  # no plate
        ("Yue D 12345", "Yue D 12345"),  # already English: as it is
    ],
)
def test_every_plate_in_an_english_text_is_written_as_english_writes_it(
    text: str, shown: str
) -> None:
    assert plates_in_text(text, Language.EN) == shown
    assert plates_in_text(text, Language.ZH) == text


def test_a_plate_alone_is_written_as_english_screens_write_it() -> None:
    shown = {"粤D·12345": "Yue D 12345", "京A·D12345": "Jing A D12345", "蒙K·AB123": "Meng K AB123"}
    for plate, english in shown.items():
        assert plates_in_text(plate, Language.EN) == english


def test_an_english_sms_screen_with_plates_is_gsm7_and_one_segment() -> None:
    [sms] = render_pages(sale_list(Language.EN), budget=2)
    assert "1 Yue D 12345 ¥12,000\n2 Yue D AB888 ¥8,800" in sms
    assert "粤" not in sms and "·" not in sms
    assert encoding_of(sms) is Encoding.GSM7 and segment_count(sms) == 1


def test_a_chinese_sms_screen_keeps_the_plate_as_chinese_writes_it() -> None:
    [sms] = render_pages(sale_list(Language.ZH), budget=2)
    assert "1 粤D·12345 ¥12,000\n2 粤D·AB888 ¥8,800" in sms
    assert encoding_of(sms) is Encoding.UCS2


def test_the_console_and_telegram_show_english_plates_too() -> None:
    assert "1 Yue D 12345 ¥12,000" in render_plain(sale_list(Language.EN))
    assert "1 粤D·12345 ¥12,000" in render_plain(sale_list(Language.ZH))
    buttons = [button.label for button in render(sale_list(Language.EN)).buttons]
    assert buttons[:2] == ["1 Yue D 12345 ¥12,000", "2 Yue D AB888 ¥8,800"]


def test_a_notice_rendered_for_a_channel_is_converted_and_a_staff_page_is_not() -> None:
    """Notices are rendered for their channel when sent (the dispatcher): an order's subject
    kept as ``粤D·A1234`` goes out as ``Yue D A1234``. Staff pages render with no channel."""
    notice = Text("notice.order.expired", {"id": 1, "subject": "粤D·A1234"})
    assert (
        render_text(notice, Language.EN, "sms") == "platebot: order 1 (Yue D A1234) expired unpaid."
    )
    assert "（粤D·A1234）" in render_text(notice, Language.ZH, "sms")
    assert "(粤D·A1234)" in render_text(notice, Language.EN)  # no channel: staff's


@pytest.mark.parametrize(
    ("typed", "picked"),
    [
        ("Yue D 12345", "plate:1"),  # as the English screen shows it
        ("yue d ab888", "plate:2"),
        ("粤D·12345", "plate:1"),  # as the Chinese screen shows it
        ("粤d·AB888", "plate:2"),
        ("AB888", "plate:2"),  # part of it: the serial (one with a letter: digits are a number)
        ("D 12345", "plate:1"),
        ("2", "plate:2"),  # the number, as ever
        ("Yue D", None),  # fits both: asked again
    ],
)
def test_a_plate_is_picked_by_typing_it_in_either_form(typed: str, picked: str | None) -> None:
    assert _match_choice(typed, list(sale_list(Language.EN).choices)) == picked
    assert _match_choice(typed, list(sale_list(Language.ZH).choices)) == picked

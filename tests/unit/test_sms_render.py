"""SMS rendering: numbered choices on their own lines; long replies paged within the budget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.accounts import Language
from dialogs.render import render_plain
from dialogs.replies import Choice, Link, Reply, Text
from sms.render import paginate, render_pages, sms_lines
from sms.segments import segment_count

MORE = "回复N看更多"


def menu(language: Language = Language.ZH, practice: bool = False) -> Reply:
    return Reply(
        lines=(Text("menu.title"),),
        choices=(Choice("register", Text("menu.register")), Choice("help", Text("menu.help"))),
        language=language,
        practice=practice,
    )


def test_each_choice_is_on_its_own_line_starting_with_its_number() -> None:
    assert sms_lines(menu()) == ["主菜单，请回复序号：", "1 注册/登录", "2 帮助"]
    assert render_pages(menu(Language.EN), 2) == [
        "Main menu. Reply with a number:\n1 Register / sign in\n2 Help"
    ]


def test_practice_screens_are_marked_once() -> None:
    """The practice flow's first line says it is practice; the renderer adds no second mark."""
    reply = Reply(lines=(Text("practice.banner"), Text("pre.choose")), practice=True)
    assert sms_lines(reply) == ["【模拟选号，不保存】", "请选择选号方式："]


def test_reply_within_budget_is_one_sms() -> None:
    assert len(render_pages(menu(), 1)) == 1


def test_long_reply_is_paged_with_reply_n_for_more_on_all_but_the_last_page() -> None:
    lines = [f"第{n}条公告：明日九时起办理号牌业务。" for n in range(1, 11)]
    pages = paginate(lines, budget=1, more=MORE)
    assert len(pages) > 1
    assert all(page.endswith("\n" + MORE) for page in pages[:-1])
    assert not pages[-1].endswith(MORE)
    assert all(segment_count(page) <= 1 for page in pages)
    assert [line for page in pages for line in page.split("\n") if line != MORE] == lines


def test_a_line_longer_than_a_page_is_cut_at_a_space() -> None:
    line = " ".join(["word"] * 100)
    pages = paginate([line], budget=1, more="Reply N for more")
    assert all(segment_count(page) == 1 for page in pages)
    assert all(not page.split("\n")[0].endswith("wor") for page in pages)
    assert " ".join(page.removesuffix("\nReply N for more") for page in pages) == line


lines_strategy = st.lists(
    st.text(alphabet=st.sampled_from(list("abc xyz12€[中文号牌🙂,.")), min_size=0, max_size=200),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(lines=lines_strategy, budget=st.integers(min_value=1, max_value=3))
def test_every_page_fits_the_budget_and_nothing_is_lost(lines: list[str], budget: int) -> None:
    more = "Reply N for more" if budget % 2 else MORE
    pages = paginate(lines, budget=budget, more=more)
    assert all(segment_count(page) <= budget for page in pages)
    shown = "".join(page.removesuffix("\n" + more) for page in pages)
    assert "".join(shown.split()) == "".join("".join(lines).split())


def test_a_long_line_is_paged_between_sentences_never_inside_one() -> None:
    sentences = [f"第{n}条：车管所明日九时起办理号牌业务，请带好证件。" for n in range(1, 7)]
    pages = paginate(["".join(sentences)], budget=1, more=MORE)
    assert len(pages) > 1
    for page in pages:
        text = page.removesuffix("\n" + MORE)
        assert text.endswith("。")
        assert all(f"{part}。" in sentences for part in text.split("。")[:-1])


def test_a_question_is_on_the_last_page_with_its_choices() -> None:
    reply = Reply(
        lines=(
            Text("raw", {"text": "第一条说明：今天办理新车预选号牌业务的人较多。" * 2}),
            Text("pre.choose"),
        ),
        choices=(Choice("draw", Text("pre.draw_no4")), Choice("own", Text("pre.own_short"))),
    )
    pages = render_pages(reply, 1)
    assert len(pages) == 2
    assert pages[0].endswith(MORE) and "请选择选号方式" not in pages[0]
    assert pages[1] == "请选择选号方式：\n1 随机选号（不含4）\n2 自编号码"


def test_a_confirmation_longer_than_a_page_ends_with_its_choices_and_no_choice_is_paged_alone() -> (
    None
):
    summary = "请核对：" + "，".join(["广东省汕头市龙湖区长平路一号"] * 6)
    reply = Reply(
        lines=(Text("raw", {"text": summary}),),
        choices=(Choice("confirm", Text("reg.confirm")), Choice("restart", Text("reg.restart"))),
    )
    pages = render_pages(reply, 1)
    assert pages[-1].endswith("1 确认并发送验证码\n2 重新填写")
    assert pages[-1].split("\n")[0] not in ("1 确认并发送验证码", "")  # the end of it, with them
    assert all(segment_count(page) <= 1 for page in pages)


def test_sms_and_the_console_use_the_shorter_sms_wording() -> None:
    reply = Reply(lines=(Text("welcome"),), language=Language.EN)
    assert render_pages(reply, 2) == ["Welcome to platebot."]


def test_a_link_is_shown_as_label_and_address_before_the_question() -> None:
    reply = Reply(
        lines=(Text("pay.title"), Text("menu.title")),
        choices=(Choice("help", Text("menu.help")),),
        links=(Link(Text("pay.title"), "https://o.example/pay/abc"),),
        language=Language.EN,
    )
    (page,) = render_pages(reply, budget=3)
    lines = page.split("\n")
    assert lines[1] == "Pay your order: https://o.example/pay/abc"
    assert lines.index("Pay your order: https://o.example/pay/abc") < lines.index("1 Help")
    assert render_plain(reply) == page  # the console shows it as SMS does

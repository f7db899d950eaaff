"""SMS rendering: the reply's lines, then each choice on its own line starting with its number,
within a budget of segments; what does not fit is paged ("回复N看更多")."""

from __future__ import annotations

from dialogs.catalog import render_text
from dialogs.replies import Reply, Text
from sms.segments import fits


def sms_lines(reply: Reply) -> list[str]:
    language = reply.language
    lines: list[str] = []  # a practice screen says so in its own first line (no second marker)
    for line in reply.lines:
        lines += render_text(line, language).split("\n")
    lines += [
        f"{number} {render_text(choice.label, language)}"
        for number, choice in enumerate(reply.choices, start=1)
    ]
    return lines


def render_pages(reply: Reply, budget: int) -> list[str]:
    """The SMS a reply is sent as: one if it fits ``budget`` segments, else pages that each end
    with the "reply N for more" line, every one within the budget."""
    more = render_text(Text("sms.more"), reply.language)
    return paginate(sms_lines(reply), budget=budget, more=more)


def paginate(lines: list[str], *, budget: int, more: str) -> list[str]:
    """Pack whole lines into pages; a line too long for a page of its own is cut."""
    if fits("\n".join(lines), budget):
        return ["\n".join(lines)]
    pieces = [piece for line in lines for piece in _pieces(line, budget, more)]
    pages: list[str] = []
    start = 0
    while start < len(pieces):
        if fits("\n".join(pieces[start:]), budget):
            pages.append("\n".join(pieces[start:]))
            break
        end = start + 1  # each piece fits a page with the footer on its own
        while end < len(pieces) and fits("\n".join([*pieces[start : end + 1], more]), budget):
            end += 1
        pages.append("\n".join([*pieces[start:end], more]))
        start = end
    return pages


def _pieces(line: str, budget: int, more: str) -> list[str]:
    """``line`` as it is, or cut (at a space where one is near) into pieces that each fit a page
    together with the footer."""
    if fits(f"{line}\n{more}", budget):
        return [line]
    pieces: list[str] = []
    rest = line
    while rest:
        size = 1
        while size < len(rest) and fits(f"{rest[: size + 1]}\n{more}", budget):
            size += 1
        if size < len(rest):
            space = rest.rfind(" ", 0, size + 1)
            if space > size // 2:
                size = space + 1
        pieces.append(rest[:size].rstrip(" "))
        rest = rest[size:]
    return pieces

"""SMS rendering: the reply's lines, then each choice on its own line starting with its number,
within a budget of segments, in the SMS wording of the catalogs (``sms/<key>``).

What does not fit is paged ("回复N看更多"), by these rules: a page breaks between lines, or
between sentences of a long line, never inside a sentence (only a sentence longer than a page
is cut, at a space where one is near); and the question (the reply's last line) is on the
same page as its choices, the last one, so the page the user answers from shows what to reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.accounts import Language
from core.broadcasts import BODY_KEY
from dialogs.catalog import render_text
from dialogs.replies import Reply, Text
from sms.segments import fits, segment_count

CHANNEL = "sms"

# A sentence ends after 。！？； (Chinese) or after . ! ? ; followed by a space (English).
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?;])(?= )")


def sms_lines(reply: Reply) -> list[str]:
    body, tail = _parts(reply)
    return [line for text in (*body, *tail) for line in text.split("\n")]


def _parts(reply: Reply) -> tuple[list[str], list[str]]:
    """(what comes before the question, the question and its numbered choices)."""
    language = reply.language
    # a practice screen says so in its own first line (no second marker)
    texts = [render_text(line, language, CHANNEL) for line in reply.lines]
    choices = [
        f"{number} {render_text(choice.label, language, CHANNEL)}"
        for number, choice in enumerate(reply.choices, start=1)
    ]
    links = [f"{render_text(link.label, language, CHANNEL)}: {link.url}" for link in reply.links]
    if not texts:
        return links, choices
    return [*texts[:-1], *links], [texts[-1], *choices]


def render_pages(reply: Reply, budget: int) -> list[str]:
    """The SMS a reply is sent as: one if it fits ``budget`` segments, else pages that each end
    with the "reply N for more" line, every one within the budget."""
    more = render_text(Text("sms.more"), reply.language, CHANNEL)
    body, tail = _parts(reply)
    return paginate(body, budget=budget, more=more, tail=tail)


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    joins: bool
    """Continues the piece before it on the same line (a later sentence of one line)."""


def _join(pieces: list[_Piece]) -> str:
    out = ""
    for piece in pieces:
        if out and not piece.joins:
            out += "\n"
        out += piece.text
    return "\n".join(line.strip(" ") for line in out.split("\n"))


def paginate(
    lines: list[str], *, budget: int, more: str, tail: list[str] | None = None
) -> list[str]:
    """Pack ``lines`` and then ``tail`` into pages; ``tail`` (a question and its choices) is
    kept whole on the last page when it fits one."""
    tail = tail or []
    everything = "\n".join([*lines, *tail])
    if fits(everything, budget):
        return [everything]
    body = _pieces(lines, budget, more)
    ending: list[_Piece] = []
    if tail and fits("\n".join(tail), budget):
        ending = [_Piece("\n".join(tail), joins=False)]
    elif tail:  # a question longer than a page: as much of its end as fits goes with the choices
        body += _pieces(tail[:1], budget, more)
        ending = [_Piece(line, joins=False) for line in tail[1:]]
        if not fits(_join(ending), budget):  # more choices than a page holds: paged as lines
            body += _pieces(tail[1:], budget, more)
            ending = []
        while body and ending and fits(_join([body[-1], *ending]), budget):
            ending.insert(0, body.pop())
    pages: list[str] = []
    start = 0
    while start < len(body) or ending:
        rest = body[start:]
        if fits(_join([*rest, *ending]), budget):
            pages.append(_join([*rest, *ending]))
            break
        end = start + 1  # each piece fits a page with the footer on its own
        while end < len(body) and fits(_join([*body[start : end + 1], _more(more)]), budget):
            end += 1
        pages.append(_join([*body[start:end], _more(more)]))
        start = end
        if start >= len(body):  # the body is done: the ending is the last page
            if ending:
                pages.append(_join(ending))
            break
    return pages


def _more(more: str) -> _Piece:
    return _Piece(more, joins=False)


def _pieces(lines: list[str], budget: int, more: str) -> list[_Piece]:
    """Each line whole when it fits a page with the footer; else its sentences."""
    pieces: list[_Piece] = []
    for text in lines:
        for line in text.split("\n"):
            if fits(f"{line}\n{more}", budget):
                pieces.append(_Piece(line, joins=False))
                continue
            first = True
            for sentence in _SENTENCE_END.split(line):
                if not sentence:
                    continue
                for cut in _cut(sentence, budget, more):
                    pieces.append(_Piece(cut, joins=not first))
                    first = False
    return pieces


def _cut(sentence: str, budget: int, more: str) -> list[str]:
    """A sentence as it is, or cut (at a space where one is near) into pieces that each fit a
    page together with the footer."""
    if fits(f"{sentence.strip()}\n{more}", budget):
        return [sentence]
    pieces: list[str] = []
    rest = sentence
    while rest:
        size = 1
        while size < len(rest) and fits(f"{rest[: size + 1]}\n{more}", budget):
            size += 1
        if size < len(rest):
            space = rest.rfind(" ", 0, size + 1)
            if space > size // 2:
                size = space + 1
        pieces.append(rest[:size])
        rest = rest[size:]
    return pieces


def broadcast_segments(text: str, language: Language) -> int:
    """The segments one SMS of a staff broadcast costs: its text as the SMS channel renders it
    (``core.broadcasts.SegmentCounter``)."""
    return segment_count(render_text(Text(BODY_KEY, {"text": text}), language, "sms"))

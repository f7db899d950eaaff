"""Plain-text rendering of a reply, as SMS and the console show it: the lines, then each choice
on its own line starting with its number."""

from __future__ import annotations

from dialogs.catalog import render_text
from dialogs.replies import Reply


def render_plain(reply: Reply) -> str:
    language = reply.language
    lines = [render_text(line, language) for line in reply.lines]
    lines += [
        f"{number} {render_text(choice.label, language)}"
        for number, choice in enumerate(reply.choices, start=1)
    ]
    return "\n".join(lines)

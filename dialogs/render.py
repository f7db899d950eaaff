"""Plain-text rendering of a reply, as the console shows it: the lines (each link as
``label: url`` before the last one, the question, as SMS has it), then each choice on its own
line starting with its number, in SMS wording (the console is read as SMS would be)."""

from __future__ import annotations

from dialogs.catalog import render_text
from dialogs.replies import Reply


def render_plain(reply: Reply) -> str:
    language = reply.language
    lines = [render_text(line, language, "sms") for line in reply.lines]
    links = [f"{render_text(link.label, language, 'sms')}: {link.url}" for link in reply.links]
    lines[max(len(lines) - 1, 0) : max(len(lines) - 1, 0)] = links  # before the question, as SMS
    lines += [
        f"{number} {render_text(choice.label, language, 'sms')}"
        for number, choice in enumerate(reply.choices, start=1)
    ]
    return "\n".join(lines)

"""Information (SPEC §9): guides, contact details of the offices and system announcements that
staff maintain; read-only, in the user's language (Chinese when staff wrote no English).
Lists are shown a page at a time."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, TypeVar

from transitions import EventData

from core.clock import format_local
from core.info import localised
from dialogs.flow import BaseFlow, Turn, turn_of
from dialogs.replies import Choice, Reply, Text

PAGE = 6
T = TypeVar("T")


class State(enum.Enum):
    TOPICS = enum.auto()
    GUIDES = enum.auto()
    GUIDE = enum.auto()
    CONTACTS = enum.auto()
    ANNOUNCEMENTS = enum.auto()
    ANNOUNCEMENT = enum.auto()


S = State
_LISTS = (S.GUIDES, S.CONTACTS, S.ANNOUNCEMENTS)


class InfoFlow(BaseFlow):
    """Guides, office contacts and announcements, a page at a time."""

    name = "info"
    State = State
    help_key = "help.info"

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {
                "trigger": "guides",
                "source": [S.TOPICS, S.GUIDE],
                "dest": S.GUIDES,
                "before": self.first_page,
            },
            {
                "trigger": "contacts",
                "source": S.TOPICS,
                "dest": S.CONTACTS,
                "before": self.first_page,
            },
            {
                "trigger": "announcements",
                "source": [S.TOPICS, S.ANNOUNCEMENT],
                "dest": S.ANNOUNCEMENTS,
                "before": self.first_page,
            },
            {"trigger": "guide", "source": S.GUIDES, "dest": S.GUIDE, "before": self.take_item},
            {
                "trigger": "announcement",
                "source": S.ANNOUNCEMENTS,
                "dest": S.ANNOUNCEMENT,
                "before": self.take_item,
            },
            {"trigger": "more", "source": list(_LISTS), "dest": None, "before": self.next_page},
            {"trigger": "topics", "source": list(S), "dest": S.TOPICS},
            {"trigger": "menu", "source": list(S), "dest": None, "before": self.to_menu},
        ]

    def first_page(self, event: EventData) -> None:
        turn_of(event).data["page"] = 0

    def next_page(self, event: EventData) -> None:
        """The next page of the list (after the last one, the first again)."""
        data = turn_of(event).data
        data["page"] = int(data.get("page", 0)) + 1

    def take_item(self, event: EventData) -> None:
        turn_of(event).data["item"] = int(str(event.kwargs["arg"]))

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    # -- screens -------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        state = turn.state
        if state is S.TOPICS:
            return Reply(
                lines=(Text("info.title"),),
                choices=(
                    Choice("guides", Text("info.guides")),
                    Choice("contacts", Text("info.contacts")),
                    Choice("announcements", Text("info.announcements")),
                    Choice("menu", Text("menu.back")),
                ),
            )
        if state is S.GUIDES:
            return self._guides(turn)
        if state is S.GUIDE:
            return self._guide(turn)
        if state is S.CONTACTS:
            return self._contacts(turn)
        if state is S.ANNOUNCEMENTS:
            return self._announcements(turn)
        return self._announcement(turn)

    def _page(self, turn: Turn, items: Sequence[T]) -> tuple[list[T], bool]:
        pages = max(1, -(-len(items) // PAGE))
        page = int(turn.data.get("page", 0)) % pages
        return list(items[page * PAGE : (page + 1) * PAGE]), pages > 1

    def _footer(self, more: bool) -> tuple[Choice, ...]:
        more_choice = (Choice("more", Text("info.more")),) if more else ()
        return (
            *more_choice,
            Choice("topics", Text("info.back")),
            Choice("menu", Text("menu.back")),
        )

    def _guides(self, turn: Turn) -> Reply:
        guides, more = self._page(turn, turn.uow.info.guides())
        if not guides:
            return Reply(lines=(Text("info.no_guides"),), choices=self._footer(False))
        choices = tuple(
            Choice(
                f"guide:{g.id}",
                Text("raw", {"text": localised(g.title, g.title_en, turn.language)}),
            )
            for g in guides
        )
        return Reply(lines=(Text("info.pick_guide"),), choices=(*choices, *self._footer(more)))

    def _guide(self, turn: Turn) -> Reply:
        guide = turn.uow.info.guide(int(turn.data.get("item", 0)))
        if guide is None:
            return Reply(lines=(Text("info.gone"),), choices=self._footer(False))
        text = Text(
            "info.article",
            {
                "title": localised(guide.title, guide.title_en, turn.language),
                "body": localised(guide.body, guide.body_en, turn.language),
            },
        )
        return Reply(
            lines=(text,),
            choices=(Choice("guides", Text("info.guides")), Choice("menu", Text("menu.back"))),
        )

    def _contacts(self, turn: Turn) -> Reply:
        contacts, more = self._page(turn, turn.uow.info.contacts())
        if not contacts:
            return Reply(lines=(Text("info.no_contacts"),), choices=self._footer(False))
        lines = [Text("info.contacts_title")]
        for contact in contacts:
            params: dict[str, str | int] = {
                "name": localised(contact.name, contact.name_en, turn.language),
                "phone": contact.phone,
                "address": localised(contact.address, contact.address_en, turn.language),
                "hours": contact.hours or "-",
            }
            lines.append(Text("info.contact", params))
        return Reply(lines=tuple(lines), choices=self._footer(more))

    def _announcements(self, turn: Turn) -> Reply:
        shown, more = self._page(turn, turn.uow.info.announcements(now=turn.now))
        if not shown:
            return Reply(lines=(Text("info.no_announcements"),), choices=self._footer(False))
        choices = tuple(
            Choice(
                f"announcement:{a.id}",
                Text("raw", {"text": localised(a.title, a.title_en, turn.language)}),
            )
            for a in shown
        )
        return Reply(
            lines=(Text("info.pick_announcement"),), choices=(*choices, *self._footer(more))
        )

    def _announcement(self, turn: Turn) -> Reply:
        item = turn.uow.info.announcement(int(turn.data.get("item", 0)))
        if item is None or not item.is_shown(turn.now):
            return Reply(lines=(Text("info.gone"),), choices=self._footer(False))
        text = Text(
            "info.announcement",
            {
                "title": localised(item.title, item.title_en, turn.language),
                "body": localised(item.body, item.body_en, turn.language),
                "when": format_local(item.published_at),
            },
        )
        return Reply(
            lines=(text,),
            choices=(
                Choice("announcements", Text("info.announcements")),
                Choice("menu", Text("menu.back")),
            ),
        )

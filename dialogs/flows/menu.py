"""The main menu: only entries that work today."""

from __future__ import annotations

import enum
from typing import Any

from transitions import EventData

from dialogs.flow import BaseFlow, Turn, turn_of
from dialogs.replies import Choice, Reply, Text


class State(enum.Enum):
    MENU = enum.auto()


class MenuFlow(BaseFlow):
    """Main menu → register / my account / language / help."""

    name = "menu"
    State = State

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {
                "trigger": "register",
                "source": State.MENU,
                "dest": None,
                "before": self.open_register,
            },
            {"trigger": "account", "source": State.MENU, "dest": None, "before": self.open_account},
            {"trigger": "preselect", "source": State.MENU, "dest": None, "before": self.open_flow},
            {"trigger": "info", "source": State.MENU, "dest": None, "before": self.open_flow},
            {"trigger": "buy", "source": State.MENU, "dest": None, "before": self.open_sale},
            {"trigger": "orders", "source": State.MENU, "dest": None, "before": self.open_flow},
            {"trigger": "auction", "source": State.MENU, "dest": None, "before": self.open_flow},
            {"trigger": "reserve", "source": State.MENU, "dest": None, "before": self.open_flow},
            {"trigger": "lang", "source": State.MENU, "dest": None, "before": self.toggle_language},
            {"trigger": "help", "source": State.MENU, "dest": None, "before": self.show_help},
        ]

    def prompt(self, turn: Turn) -> Reply:
        # Registering takes the place of "my account", so no number moves once one is registered.
        account = (
            Choice("account", Text("menu.account"))
            if turn.registered
            else Choice("register", Text("menu.register"))
        )
        choices = [
            Choice("preselect", Text("menu.preselect")),
            Choice("info", Text("menu.info")),
            account,
            # The journeys added later come after these, so that no number users know moves
            # (SMS users reply with numbers).
            Choice("buy", Text("menu.buy")),
            Choice("auction", Text("menu.auction")),
            Choice("reserve", Text("menu.reserve")),
            Choice("orders", Text("menu.orders")),
            Choice("lang", Text("lang.other")),
            Choice("help", Text("menu.help")),
        ]
        return Reply(lines=(Text("menu.title"),), choices=tuple(choices))

    def open_register(self, event: EventData) -> None:
        """Register, or sign in with a number that has an account."""
        turn_of(event).go("register")

    def open_flow(self, event: EventData) -> None:
        """The flow named like the choice: pre-selection, information, auctions, reservations,
        my orders."""
        turn_of(event).go(event.event.name)

    def open_sale(self, event: EventData) -> None:
        """Buy a plate at a fixed price."""
        turn_of(event).go("sale")

    def open_account(self, event: EventData) -> None:
        """My account (registration first for a newcomer)."""
        turn_of(event).go("account")

    def toggle_language(self, event: EventData) -> None:
        """Switch between 中文 and English."""
        turn_of(event).toggle_language()

    def show_help(self, event: EventData) -> None:
        """General help."""
        turn_of(event).note("help.general")

"""My account: the user's details and the language setting.

Shown to the account's owner, so only what a bystander reading the screen could abuse is masked
(ID numbers and the phone number); the owner's own name and unit are shown as registered.
"""

from __future__ import annotations

import enum
from typing import Any

from transitions import EventData

from core.accounts import AccountKind, Language
from core.masking import mask_id_number, mask_phone
from core.regions import all_regions
from dialogs.flow import BaseFlow, Turn, turn_of
from dialogs.replies import Choice, Reply, Text


class State(enum.Enum):
    VIEW = enum.auto()


class AccountFlow(BaseFlow):
    """Shows who the user is registered as (ID numbers and phone masked); switches language."""

    name = "account"
    requires_account = True
    State = State

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {"trigger": "lang", "source": State.VIEW, "dest": None, "before": self.toggle_language},
            {"trigger": "menu", "source": State.VIEW, "dest": None, "before": self.to_menu},
        ]

    def prompt(self, turn: Turn) -> Reply:
        account = turn.account
        if account is None:  # the engine leads newcomers through registration first
            return Reply(lines=(Text("error.account.required"),))
        region = all_regions().get(account.region_code)
        params: dict[str, str | int] = {
            "name": account.name,
            "id_number": mask_id_number(account.id_number),
            "phone": mask_phone(account.phone),
            "region": region.name_in(turn.language is Language.EN)
            if region
            else account.region_code,
            "category_key": f"category.{account.category.value}",
            "language_key": "lang.name",
        }
        if account.kind is AccountKind.UNIT:
            params["unit_code"] = account.unit_code or ""
            params["rep_name"] = account.legal_rep_name or ""
            line = Text("account.unit", params)
        else:
            line = Text("account.person", params)
        return Reply(
            lines=(line,),
            choices=(Choice("lang", Text("lang.other")), Choice("menu", Text("menu.back"))),
        )

    def toggle_language(self, event: EventData) -> None:
        """Switch between 中文 and English, for this chat and for notices to the account."""
        turn_of(event).toggle_language()

    def to_menu(self, event: EventData) -> None:
        """Back to the main menu."""
        turn_of(event).go("menu")

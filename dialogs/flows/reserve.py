"""Plate reservation (SPEC §8, manual 003 §6 "号牌预约"): the last five characters of a wanted
plate and a VIN make a pending reservation that staff review; "reservation history" shows each
one's state (and the pay link of a deposit that is due).

Home → (office, when the user may choose among several) → number → VIN → sent. The number is
checked when typed (free, or why not), the VIN too (format and check digit), so every refusal
comes at the step that can fix it.
"""

from __future__ import annotations

import enum
from typing import Any

from transitions import EventData

from core import reservations
from core.clock import as_utc, format_local
from core.offices import Office
from core.orders import OrderState
from core.plate_errors import OfficeUnknown
from core.registry import validate_vin
from core.reservations import Reservation, ReservationState
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.replies import Choice, Inbound, Link, Reply, Text

HISTORY_SHOWN = 10


class State(enum.Enum):
    HOME = enum.auto()
    OFFICE = enum.auto()
    NUMBER = enum.auto()
    VIN = enum.auto()
    SENT = enum.auto()
    HISTORY = enum.auto()


S = State


class ReserveFlow(BaseFlow):
    """Reserve a plate for a later auction; see the reservations made and their states."""

    name = "reserve"
    requires_account = True
    State = State
    help_key = "reservation.help"
    checkpoints = frozenset({"SENT"})  # the reservation is made: BACK does not make another

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {
                "trigger": "start",
                "source": [S.HOME, S.SENT, S.HISTORY],
                "dest": S.NUMBER,
                "conditions": self.one_office,
                "before": self.take_only_office,
            },
            {"trigger": "start", "source": [S.HOME, S.SENT, S.HISTORY], "dest": S.OFFICE},
            {"trigger": "office", "source": S.OFFICE, "dest": S.NUMBER, "before": self.take_office},
            {"trigger": "number", "source": [S.NUMBER, S.VIN], "dest": S.VIN},
            {"trigger": "vin", "source": S.VIN, "dest": S.SENT, "before": self.reserve},
            {"trigger": "history", "source": [S.HOME, S.SENT], "dest": S.HISTORY},
            {"trigger": "menu", "source": list(S), "dest": None, "before": self.to_menu},
        ]

    # -- typed answers -------------------------------------------------------------------------

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        if turn.state is S.NUMBER or (turn.state is S.VIN and "serial" not in turn.data):
            serial = reservations.parse_number(inbound.text)
            account, office = turn.account, self.office(turn)
            if account is None or account.id is None or office is None:
                return None
            reservations.check_free(turn.uow, account_id=account.id, office=office, serial=serial)
            turn.data["serial"] = serial
            return Event("number")
        if turn.state is S.VIN:
            turn.data["vin"] = validate_vin(inbound.text)
            return Event("vin")
        return None

    def help(self, turn: Turn) -> Text:
        if turn.state is S.VIN:
            return Text("pre.help.vin")
        if turn.state is S.NUMBER:
            return Text("reservation.help.number")
        return Text(self.help_key)

    # -- steps ---------------------------------------------------------------------------------

    def offices(self, turn: Turn) -> list[Office]:
        account = turn.account
        return [] if account is None else reservations.offices_to_reserve_at(turn.uow, account)

    def office(self, turn: Turn) -> Office | None:
        """The office chosen; none chosen yet (a conversation that skipped the step), the first
        the user may choose; None when there is none."""
        found = turn.uow.offices.by_code(str(turn.data.get("office", "")))
        if found is None:
            offices = self.offices(turn)
            found = offices[0] if offices else None
            if found is not None:
                turn.data["office"] = found.code
        return found

    def one_office(self, event: EventData) -> bool:
        return len(self.offices(turn_of(event))) == 1

    def take_only_office(self, event: EventData) -> None:
        turn = turn_of(event)
        turn.data["office"] = self.offices(turn)[0].code

    def take_office(self, event: EventData) -> None:
        """One of the offices offered."""
        turn = turn_of(event)
        code = str(event.kwargs.get("arg", ""))
        if code not in {office.code for office in self.offices(turn)}:
            raise OfficeUnknown(office=code[:8])
        turn.data["office"] = code

    def reserve(self, event: EventData) -> None:
        """The number (checked when typed, and again now) and the VIN make the reservation."""
        turn = turn_of(event)
        account, office = turn.account, self.office(turn)
        if account is None or office is None:  # pragma: no cover - checked with the number
            return
        reservation = reservations.reserve(
            turn.uow,
            now=turn.now,
            account=account,
            office_code=office.code,
            serial=turn.data["serial"],
            vin=turn.data["vin"],
        )
        turn.data["plate"] = reservation.plate

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    # -- screens -------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        menu = Choice("menu", Text("menu.back"))
        start = Choice("start", Text("reservation.start"))
        history = Choice("history", Text("reservation.history"))
        if turn.state is S.HOME:
            return Reply(lines=(Text("reservation.home"),), choices=(start, history, menu))
        if turn.state is S.OFFICE:
            offices = self.offices(turn)
            if not offices:
                return Reply(lines=(Text("reservation.no_office"),), choices=(menu,))
            choices = tuple(
                Choice(
                    f"office:{o.code}",
                    Text("raw", {"text": f"{o.code_in(turn.language)} {o.name_in(turn.language)}"}),
                )
                for o in offices
            )
            return Reply(lines=(Text("reservation.ask_office"),), choices=(*choices, menu))
        if turn.state in (S.NUMBER, S.VIN):
            office = self.office(turn)
            if office is None:
                return Reply(lines=(Text("reservation.no_office"),), choices=(menu,))
            if turn.state is S.VIN and "serial" in turn.data:
                plate = office.plate(turn.data["serial"])
                return Reply(lines=(Text("reservation.ask_vin", {"plate": plate}),))
            code = office.code_in(turn.language)
            return Reply(lines=(Text("reservation.ask_number", {"office": code}),))
        if turn.state is S.SENT:
            line = Text("reservation.sent", {"plate": turn.data.get("plate", "")})
            return Reply(lines=(line,), choices=(history, start, menu), keep=True)
        return self._history(turn, (start, menu))

    def _history(self, turn: Turn, choices: tuple[Choice, ...]) -> Reply:
        account = turn.account
        shown = (
            list(reservations.history(turn.uow, account.id))[:HISTORY_SHOWN]
            if account is not None and account.id is not None
            else []
        )
        if not shown:
            return Reply(lines=(Text("reservation.history.none"),), choices=choices)
        lines = [Text("reservation.history.title")]
        links: list[Link] = []
        for reservation in shown:
            line, link = self._entry(turn, reservation)
            lines.append(line)
            if link is not None:
                links.append(link)
        return Reply(lines=tuple(lines), choices=choices, links=tuple(links))

    def _entry(self, turn: Turn, reservation: Reservation) -> tuple[Text, Link | None]:
        """One reservation as the user reads it: the plate, the VIN's last six and its state."""
        params: dict[str, str | int] = {
            "plate": reservation.plate,
            "vin": reservation.vin[-6:],
            "state_key": f"reservation.state.{reservation.state.value}",
        }
        state = reservation.state
        link: Link | None = None
        if state is ReservationState.REJECTED:
            return Text(
                "reservation.entry.rejected", {**params, "reason": reservation.reason or ""}
            ), None
        if state is ReservationState.APPROVED:
            order = reservations.deposit_order(turn.uow, reservation)
            if order is not None and order.state is OrderState.PENDING:
                params.update(amount=order.amount, deadline=format_local(order.deadline))
                payments = turn.services.payments
                if payments is not None:
                    link = Link(
                        Text("reservation.pay", {"plate": reservation.plate}),
                        payments.pay_url(order),
                    )
                return Text("reservation.entry.approved", params), link
        if state is ReservationState.PLACED and reservation.period_id is not None:
            period = turn.uow.auctions.period(reservation.period_id)
            if period is not None:
                params.update(
                    period=period.name_in(turn.language),
                    starts=format_local(as_utc(period.starts_at)),
                )
                return Text("reservation.entry.placed", params), None
        return Text("reservation.entry", params), link


__all__ = ["ReserveFlow", "State"]

"""Pre-selection of a number plate for a new car (SPEC §4, manual 000), and its practice mode.

Stage 1: office (with pool publicity) → business notice ("Read and agree") → VIN →
certificate number (checked against the registry) → selection notice. Stage 2: phone
verification → random batches or self-chosen candidates → the result with the deadline.
Coming back leads straight to where the user stands. ``practice`` runs the same dialog with
nothing saved: no registry check, no SMS, no allowance used, the pool only read.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from transitions import EventData

from core import basic_information, practice
from core.accounts import Language
from core.errors import DomainError
from core.offices import Office
from core.otp import clean_entered_code
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind, clean_serial, split_candidates
from core.preselection import Preselection, PreselectionState
from core.registry import validate_certificate_number, validate_vin
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.flows import preselect_screens as screens
from dialogs.flows.preselect_stage2 import StageTwo
from dialogs.keywords import is_number, normalise
from dialogs.replies import Inbound, Reply, Text


class State(enum.Enum):
    INTRO = enum.auto()
    OFFICE = enum.auto()
    OFFICE_INFO = enum.auto()
    PUBLICITY = enum.auto()
    BUSINESS = enum.auto()
    VIN = enum.auto()
    CERT = enum.auto()
    KIND = enum.auto()
    NOTICE = enum.auto()
    VERIFY = enum.auto()
    CHOOSE = enum.auto()
    BATCH = enum.auto()
    OWN = enum.auto()
    RESULT = enum.auto()
    NO_CHANCES = enum.auto()
    BLOCKED = enum.auto()


S = State
T = TypeVar("T")


class PreselectFlow(StageTwo, BaseFlow):
    """Pre-select a plate for a new car: office, notice, VIN and certificate, selection notice;
    phone code, random batch or own numbers, result. Coming back resumes where one stands."""

    name = "preselect"
    requires_account = True
    State = State
    help_key = "help.preselect"
    practice = False
    # The code is used once the session opens; a number taken, or none left, ends selecting.
    checkpoints = frozenset({"CHOOSE", "RESULT", "NO_CHANCES", "BLOCKED"})

    def transitions(self) -> list[dict[str, Any]]:
        moves: list[dict[str, Any]] = [
            # With one office to choose there is no question: it is taken.
            {
                "trigger": "start",
                "source": S.INTRO,
                "dest": S.OFFICE_INFO,
                "conditions": self.one_office,
                "before": self.take_only_office,
            },
            {"trigger": "start", "source": S.INTRO, "dest": S.OFFICE},
            {
                "trigger": "office",
                "source": S.OFFICE,
                "dest": S.OFFICE_INFO,
                "before": self.take_office,
            },
            {"trigger": "publicity", "source": S.OFFICE_INFO, "dest": S.PUBLICITY},
            {"trigger": "other", "source": [S.OFFICE_INFO, S.PUBLICITY], "dest": S.OFFICE},
            {"trigger": "next", "source": [S.OFFICE_INFO, S.PUBLICITY], "dest": S.BUSINESS},
            {"trigger": "agree", "source": S.BUSINESS, "dest": S.VIN},
            {"trigger": "vin", "source": S.VIN, "dest": S.CERT, "before": self.take_vin},
            {
                "trigger": "verify",
                "source": S.NOTICE,
                "dest": S.CHOOSE,
                "conditions": self.phone_verified,
                "before": self.open_verified_session,
            },
            {"trigger": "verify", "source": S.NOTICE, "dest": S.VERIFY, "before": self.send_code},
            {"trigger": "code", "source": S.VERIFY, "dest": S.CHOOSE, "before": self.open_session},
            {
                "trigger": "draw",
                "source": [S.CHOOSE, S.BATCH, S.OWN],
                "dest": S.BATCH,
                "before": self.draw,
            },
            {
                "trigger": "draw_no4",
                "source": [S.CHOOSE, S.BATCH, S.OWN],
                "dest": S.BATCH,
                "before": self.draw,
            },
            {"trigger": "own", "source": [S.CHOOSE, S.BATCH], "dest": S.OWN},
            {"trigger": "take", "source": S.BATCH, "dest": S.RESULT, "before": self.take},
            {
                "trigger": "candidates",
                "source": [S.OWN, S.CHOOSE],
                "dest": S.RESULT,
                "prepare": self.check_own,
                "conditions": self.own_taken,
            },
            {
                "trigger": "candidates",
                "source": [S.OWN, S.CHOOSE],
                "dest": S.OWN,
                "conditions": self.own_left,
            },
            {
                "trigger": "candidates",
                "source": [S.OWN, S.CHOOSE],
                "dest": S.CHOOSE,
                "conditions": self.batches_left,
            },
            {"trigger": "candidates", "source": [S.OWN, S.CHOOSE], "dest": S.NO_CHANCES},
            {"trigger": "menu", "source": list(S), "dest": None, "before": self.to_menu},
        ]
        if self.practice:
            moves += [
                {
                    "trigger": "cert",
                    "source": [S.CERT, S.VIN],
                    "dest": S.KIND,
                    "before": self.take_cert,
                },
                {
                    "trigger": "kind",
                    "source": S.KIND,
                    "dest": S.NOTICE,
                    "before": self.start_practice,
                },
            ]
        else:
            moves += [
                {
                    "trigger": "practice",
                    "source": S.INTRO,
                    "dest": None,
                    "before": self.to_practice,
                },
                {
                    "trigger": "cert",
                    "source": [S.CERT, S.VIN],
                    "dest": S.NOTICE,
                    "prepare": self.begin,
                    "conditions": self.has_chances,
                },
                {"trigger": "cert", "source": [S.CERT, S.VIN], "dest": S.NO_CHANCES},
                {"trigger": "resend", "source": S.VERIFY, "dest": None, "before": self.resend_code},
                {
                    "trigger": "another",
                    "source": [S.NOTICE, S.RESULT, S.NO_CHANCES],
                    "dest": S.OFFICE_INFO,
                    "conditions": self.one_office,
                    "before": [self.forget, self.take_only_office],
                },
                {
                    "trigger": "another",
                    "source": [S.NOTICE, S.RESULT, S.NO_CHANCES],
                    "dest": S.OFFICE,
                    "before": self.forget,
                },
            ]
        return moves

    # -- where a user coming back stands -------------------------------------------------------

    def entry(self, turn: Turn) -> S:
        account = turn.account
        if self.practice or account is None:
            return S.INTRO
        standing = basic_information.standing(turn.uow, account=account, now=turn.now)
        if standing.blacklist is not None:
            return S.BLOCKED
        current = standing.preselection
        if current is None:
            return S.INTRO
        turn.data["preselection_id"] = current.id
        if current.state is PreselectionState.SELECTED:
            return S.RESULT
        return S.NOTICE if current.has_chances else S.NO_CHANCES

    def help(self, turn: Turn) -> Text:
        if turn.state in (S.VIN, S.CERT):
            return Text("pre.help.vin")
        if turn.state is S.OWN:
            return Text("pre.help.own")
        return Text(self.help_key)

    # -- typed answers -------------------------------------------------------------------------

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        state, text = turn.state, inbound.text
        if state is S.OFFICE:  # an office code typed (a number out of range is not one)
            return None if is_number(normalise(text)) else Event("office", {"arg": text.strip()})
        if state is S.VIN:
            return self._read_vin(turn, text)
        if state is S.CERT:
            turn.data["certificate"] = validate_certificate_number(text)
            return Event("cert")
        if state is S.VERIFY:
            return Event("code", {"arg": clean_entered_code(text)})
        if state is S.BATCH:
            serial = clean_serial(text)
            return Event("take", {"arg": serial}) if serial in turn.data.get("batch", []) else None
        if state is S.OWN or (state is S.CHOOSE and looks_like_numbers(text)):
            return Event("candidates", {"arg": text})  # numbers typed at the menu: own numbers
        return None

    def _read_vin(self, turn: Turn, text: str) -> Event:
        """The VIN, or the VIN and then the certificate number in one message (one turn less,
        which SMS users are told they may do)."""
        try:
            turn.data["vin"] = validate_vin(text)
            return Event("vin")
        except DomainError:
            first, _, last = text.strip().rpartition(" ")
            if not first:
                raise
            try:
                vin = validate_vin(first)
            except DomainError:
                pass
            else:
                certificate = validate_certificate_number(last)
                turn.data.update(vin=vin, certificate=certificate)
                return Event("cert")
            raise

    # -- stage 1 -------------------------------------------------------------------------------

    def take_office(self, event: EventData) -> None:
        """The office for the new car's registration (only those the user may choose)."""
        turn = turn_of(event)
        typed = str(event.kwargs["arg"])
        code, latin = clean_office_code(typed), _latin(typed)
        found = [
            o
            for o in self.offices(turn)
            if code in (o.code, o.letter) or latin == _latin(o.code_in(Language.EN))
        ]
        if len(found) != 1:
            raise OfficeUnknown(office=code)
        turn.data["office"] = found[0].code

    def one_office(self, event: EventData) -> bool:
        return len(self.offices(turn_of(event))) == 1

    def take_only_office(self, event: EventData) -> None:
        turn = turn_of(event)
        turn.data["office"] = self.offices(turn)[0].code

    def take_vin(self, event: EventData) -> None:
        """The VIN was checked when read (format and check digit)."""

    def take_cert(self, event: EventData) -> None:
        """Practice: the certificate number is not checked against the registry."""

    def begin(self, event: EventData) -> None:
        """VIN and certificate checked against the registry; the vehicle gets its allowances."""
        turn = turn_of(event)
        account = turn.account
        if account is None:  # pragma: no cover - the flow requires an account
            return
        preselection = basic_information.begin(
            turn.uow,
            now=turn.now,
            account=account,
            office_code=turn.data["office"],
            vin=turn.data["vin"],
            certificate_no=turn.data["certificate"],
        )
        turn.data["preselection_id"] = preselection.id

    def has_chances(self, event: EventData) -> bool:
        current = self.current(turn_of(event))
        return current is not None and current.has_chances

    def start_practice(self, event: EventData) -> None:
        """Practice: a pretend vehicle of the chosen kind with the office's full allowances."""
        turn = turn_of(event)
        kind = PlateKind(str(event.kwargs["arg"]))
        run = practice.new_run(self.office(turn), kind, turn.now)
        turn.data["run"] = practice.to_data(run)

    def forget(self, event: EventData) -> None:
        """Another vehicle: start again from the office."""
        turn_of(event).data.clear()

    # -- leaving -------------------------------------------------------------------------------

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    def to_practice(self, event: EventData) -> None:
        turn_of(event).go("practice")

    # -- what the screens are about ------------------------------------------------------------

    def offices(self, turn: Turn) -> list[Office]:
        account = turn.account
        return basic_information.offices_open_to(turn.uow, account) if account is not None else []

    def office(self, turn: Turn) -> Office:
        if self.practice and "run" in turn.data:
            office = turn.uow.offices.get(int(turn.data["run"]["office_id"]))
            if office is not None:
                return office
        if "office" in turn.data:
            return basic_information.office_by_code(turn.uow, turn.data["office"])
        current = self.current(turn)
        if current is None:
            raise OfficeUnknown(office="")
        return basic_information.office_of(turn.uow, current)

    def current(self, turn: Turn) -> Preselection | None:
        """The vehicle being pre-selected for (a practice run in practice)."""
        if self.practice:
            return self.run(turn) if "run" in turn.data else None
        account = turn.account
        if account is None:
            return None
        wanted = turn.data.get("preselection_id")
        if wanted is not None:
            found = turn.uow.preselections.get(int(wanted))
            if found is not None and found.account_id == account.id:
                return found
        found = basic_information.standing(turn.uow, account=account, now=turn.now).preselection
        if found is not None:
            turn.data["preselection_id"] = found.id
        return found

    def run(self, turn: Turn) -> Preselection:
        return practice.from_data(turn.data["run"])

    def prompt(self, turn: Turn) -> Reply:
        reply = screens.prompt(self, turn)
        if not self.practice:
            return reply
        return Reply(
            lines=(Text("practice.banner"), *reply.lines),
            choices=reply.choices,
            practice=True,
            language=reply.language,
            keep=reply.keep,
        )


class PracticeFlow(PreselectFlow):
    """Practice selection: the same dialog and rules with nothing saved, marked on every screen."""

    name = "practice"
    practice = True
    help_key = "help.practice"


def looks_like_numbers(text: str) -> bool:
    """Plate numbers typed where a menu was shown: every word 5 or more letters and digits, at
    least 3 of them digits (as every serial has), so that words are never taken for numbers."""
    words = [clean_serial(word) for word in split_candidates(text)]
    return bool(words) and all(
        len(word) >= _SHORTEST_SERIAL
        and word.isascii()
        and word.isalnum()
        and sum(ch.isdigit() for ch in word) >= _FEWEST_DIGITS
        for word in words
    )


_SHORTEST_SERIAL = 5
_FEWEST_DIGITS = 3


def _latin(text: str) -> str:
    """``Yue D``, ``yued`` → ``yued`` (an office code as an English user types it)."""
    return "".join(text.split()).lower()


def clean_office_code(text: str) -> str:
    """``粤d``, ``粤 D`` → ``粤D``; a lone letter stays a letter."""
    return "".join(text.split()).upper()[:2]


__all__ = ["PracticeFlow", "PreselectFlow", "State"]

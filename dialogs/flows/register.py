"""Registration of a natural person or a unit, with phone verification (SPEC §2).

A number that already has an account signs in with a code instead.
"""

from __future__ import annotations

import enum
from itertools import pairwise
from typing import Any

from transitions import EventData

from core import identity, verification
from core.accounts import Category, Language, PersonDetails, UnitDetails
from core.errors import ContactRequired, UnknownRegion
from core.masking import mask_code, mask_id_number, mask_phone
from core.phone import normalise_phone
from core.regions import find_regions, get_region, region_code_of_division
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.replies import Choice, Inbound, Reply, Text


class State(enum.Enum):
    PHONE = enum.auto()
    KIND = enum.auto()
    P_NAME = enum.auto()
    P_ID = enum.auto()
    P_PERMIT = enum.auto()
    P_REGION = enum.auto()
    P_ADDRESS = enum.auto()
    P_CATEGORY = enum.auto()
    U_NAME = enum.auto()
    U_CODE = enum.auto()
    U_ADDRESS = enum.auto()
    U_REP_NAME = enum.auto()
    U_REP_ID = enum.auto()
    U_REGION = enum.auto()
    CONFIRM = enum.auto()
    CODE = enum.auto()
    SIGNIN_CODE = enum.auto()


S = State

# The question asked in each state that takes typed text.
_QUESTIONS: dict[State, str] = {
    S.PHONE: "reg.ask_phone",
    S.P_NAME: "reg.ask_real_name",
    S.P_ID: "reg.ask_id",
    S.P_PERMIT: "reg.ask_permit",
    S.P_ADDRESS: "reg.ask_address",
    S.U_NAME: "reg.ask_unit_name",
    S.U_CODE: "reg.ask_unit_code",
    S.U_ADDRESS: "reg.ask_unit_address",
    S.U_REP_NAME: "reg.ask_rep_name",
    S.U_REP_ID: "reg.ask_rep_id",
}

# Person and unit steps in order: each typed answer moves one step on.
_PERSON = [S.P_NAME, S.P_ID, S.P_PERMIT, S.P_REGION, S.P_ADDRESS, S.P_CATEGORY, S.CONFIRM]
_UNIT = [S.U_NAME, S.U_CODE, S.U_ADDRESS, S.U_REP_NAME, S.U_REP_ID, S.U_REGION, S.CONFIRM]
_REGION_STATES = (S.P_REGION, S.U_REGION)
_CODE_STATES = (S.CODE, S.SIGNIN_CODE)

# Channels that vouch for a number only as the user's own shared contact (the Telegram
# adapter passes on only a contact of the sender themself): a typed number could be anyone's.
CONTACT_CHANNELS = frozenset({"telegram"})


class RegisterFlow(BaseFlow):
    """Phone (unless the channel knows it) → person or unit details → check → SMS code."""

    name = "register"
    State = State
    help_key = "help.register"

    def transitions(self) -> list[dict[str, Any]]:
        moves: list[dict[str, Any]] = [
            # The certificate location is not asked when the ID (no permit given) or the unit
            # code names the only one it can be; the summary shows it, "start over" changes it.
            {
                "trigger": "skip",
                "source": S.P_PERMIT,
                "dest": S.P_ADDRESS,
                "conditions": self.region_known,
                "before": [self.no_permit, self.take_known_region],
            },
            {
                "trigger": "submit",
                "source": S.U_REP_ID,
                "dest": S.CONFIRM,
                "conditions": self.region_known,
                "before": self.take_known_region,
            },
            {
                "trigger": "phone",
                "source": S.PHONE,
                "dest": S.SIGNIN_CODE,
                "conditions": self.phone_has_account,
                "before": self.send_sign_in_code,
            },
            {"trigger": "phone", "source": S.PHONE, "dest": S.KIND},
            {"trigger": "person", "source": S.KIND, "dest": S.P_NAME},
            {"trigger": "unit", "source": S.KIND, "dest": S.U_NAME},
            {"trigger": "skip", "source": S.P_PERMIT, "dest": S.P_REGION, "before": self.no_permit},
            {
                "trigger": "category",
                "source": S.P_CATEGORY,
                "dest": S.CONFIRM,
                "before": self.take_category,
            },
            {
                "trigger": "confirm",
                "source": S.CONFIRM,
                "dest": S.CODE,
                "before": self.send_register_code,
            },
            {"trigger": "restart", "source": S.CONFIRM, "dest": S.KIND, "before": self.forget},
            {"trigger": "code", "source": S.CODE, "dest": None, "before": self.register},
            {"trigger": "code", "source": S.SIGNIN_CODE, "dest": None, "before": self.sign_in},
            {"trigger": "resend", "source": S.CODE, "dest": None, "before": self.resend_register},
            {
                "trigger": "resend",
                "source": S.SIGNIN_CODE,
                "dest": None,
                "before": self.resend_sign_in,
            },
        ]
        for steps in (_PERSON, _UNIT):
            for here, after in pairwise(steps):
                if here in _REGION_STATES:
                    moves.append(
                        {
                            "trigger": "region",
                            "source": here,
                            "dest": after,
                            "before": self.take_region,
                        }
                    )
                    moves.append({"trigger": "options", "source": here, "dest": None})
                elif here is not S.P_CATEGORY:
                    moves.append({"trigger": "submit", "source": here, "dest": after})
        return moves

    def entry(self, turn: Turn) -> S:
        if turn.registered:
            turn.note("reg.already")
            turn.go("account")
            return S.KIND
        if turn.conversation.phone:
            turn.data["phone"] = turn.conversation.phone
            return S.KIND
        return S.PHONE

    def help(self, turn: Turn) -> Text:
        return Text("help.code" if turn.state in _CODE_STATES else self.help_key)

    # -- reading typed answers ---------------------------------------------------------

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        state, text, data = turn.state, inbound.text, turn.data
        if state is S.PHONE:
            if inbound.contact_phone:
                data["phone"] = data["contact_phone"] = normalise_phone(inbound.contact_phone)
            elif inbound.channel in CONTACT_CHANNELS:
                raise ContactRequired()
            else:
                data["phone"] = normalise_phone(text)
            return Event("phone")
        if state in (S.P_NAME, S.U_NAME, S.U_REP_NAME):
            data[{S.P_NAME: "name", S.U_NAME: "name", S.U_REP_NAME: "rep_name"}[state]] = (
                identity.validate_name(text)
            )
        elif state in (S.P_ID, S.U_REP_ID):
            data["id_number"] = identity.validate_resident_id(text, today=turn.today)
            if state is S.P_ID or not data.get("region_options"):
                data["region_options"] = _suggest(identity.region_hint_of_id(data["id_number"]))
                # A person's own ID names their location; a legal representative's does not.
                data["region_sure"] = state is S.P_ID
        elif state is S.P_PERMIT:
            data["permit"] = identity.validate_permit_number(text)
        elif state in (S.P_ADDRESS, S.U_ADDRESS):
            data["address"] = identity.validate_address(text)
        elif state is S.U_CODE:
            data["unit_code"] = identity.validate_unit_code(text)
            data["region_options"] = _suggest(identity.region_hint_of_unit_code(data["unit_code"]))
            data["region_sure"] = True
        elif state in _REGION_STATES:
            found = find_regions(text)
            if not found:
                raise UnknownRegion(query=text.strip()[:20])
            if len(found) == 1:
                return Event("region", {"arg": found[0].code})
            data["region_options"] = [region.code for region in found]
            return Event("options")
        elif state in _CODE_STATES:
            return Event("code", {"arg": text})
        else:
            return None
        return Event("submit")

    # -- guards and actions ------------------------------------------------------------

    def phone_has_account(self, event: EventData) -> bool:
        turn = turn_of(event)
        return turn.uow.accounts.id_by_phone(turn.data["phone"]) is not None

    def send_sign_in_code(self, event: EventData) -> None:
        """The number has an account: send a code to sign in with."""
        self._send(turn_of(event), verification.SIGN_IN, quiet_if_recent=True)

    def no_permit(self, event: EventData) -> None:
        turn_of(event).data["permit"] = None

    def region_known(self, event: EventData) -> bool:
        data = turn_of(event).data
        return bool(data.get("region_sure")) and len(data.get("region_options", [])) == 1

    def take_known_region(self, event: EventData) -> None:
        data = turn_of(event).data
        data["region_code"] = get_region(str(data["region_options"][0])).code

    def take_region(self, event: EventData) -> None:
        turn = turn_of(event)
        turn.data["region_code"] = get_region(str(event.kwargs["arg"])).code

    def take_category(self, event: EventData) -> None:
        turn_of(event).data["category"] = Category(str(event.kwargs["arg"])).value

    def forget(self, event: EventData) -> None:
        """Start the details again; the phone (and whether it was the user's own contact) kept."""
        data = turn_of(event).data
        kept: dict[str, Any] = {n: data[n] for n in ("phone", "contact_phone") if n in data}
        data.clear()
        data.update(kept)

    def send_register_code(self, event: EventData) -> None:
        """Details confirmed: send the code that completes registration."""
        self._send(turn_of(event), verification.REGISTER, quiet_if_recent=True)

    def resend_register(self, event: EventData) -> None:
        self._send(turn_of(event), verification.REGISTER)
        turn_of(event).note("reg.code_resent")

    def resend_sign_in(self, event: EventData) -> None:
        self._send(turn_of(event), verification.SIGN_IN)
        turn_of(event).note("reg.code_resent")

    def register(self, event: EventData) -> None:
        """The code is right: the account is created and this chat is linked to it."""
        turn = turn_of(event)
        data, services = turn.data, turn.services
        common = {
            "uow": turn.uow,
            "clock": services.clock,
            "key": services.code_key,
            "phone": data["phone"],
            "entered_code": str(event.kwargs["arg"]),
            "language": turn.language,
            "requester": turn.requester(data["phone"]),
        }
        if "unit_code" in data:
            account = verification.register_unit(details=_unit(data), **common)
        else:
            account = verification.register_person(details=_person(data), **common)
        turn.link(account)
        turn.note("reg.registered", name=account.name)
        turn.finish()

    def sign_in(self, event: EventData) -> None:
        turn = turn_of(event)
        services = turn.services
        account = verification.sign_in(
            turn.uow,
            clock=services.clock,
            key=services.code_key,
            phone=turn.data["phone"],
            entered_code=str(event.kwargs["arg"]),
            requester=turn.requester(turn.data["phone"]),
        )
        turn.link(account)
        turn.note("reg.signed_in", name=account.name)
        turn.finish()

    def _send(self, turn: Turn, purpose: str, *, quiet_if_recent: bool = False) -> None:
        phone = turn.data["phone"]
        sending = verification.send_code(
            turn.uow,
            clock=turn.services.clock,
            key=turn.services.code_key,
            phone=phone,
            purpose=purpose,
            language=turn.language,
            requester=turn.requester(phone),
            reuse_recent=quiet_if_recent,
        )
        if sending is verification.Sending.STILL_VALID:
            turn.note("reg.code_still_valid")

    # -- prompts -------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        state, data = turn.state, turn.data
        if state in _QUESTIONS:
            choices = (Choice("skip", Text("reg.skip")),) if state is S.P_PERMIT else ()
            return Reply(
                lines=(Text(_QUESTIONS[state]),), choices=choices, ask_contact=state is S.PHONE
            )
        if state is S.KIND:
            return Reply(
                lines=(Text("reg.ask_kind"),),
                choices=(
                    Choice("person", Text("reg.kind.person")),
                    Choice("unit", Text("reg.kind.unit")),
                ),
            )
        if state in _REGION_STATES:
            english = turn.language is Language.EN
            options = [get_region(code) for code in data.get("region_options", [])]
            return Reply(
                lines=(Text("reg.ask_region"), Text("reg.ask_region_type")),
                choices=tuple(
                    Choice(f"region:{r.code}", Text("raw", {"text": r.name_in(english)}))
                    for r in options
                ),
            )
        if state is S.P_CATEGORY:
            return Reply(
                lines=(Text("reg.ask_category"),),
                choices=tuple(
                    Choice(f"category:{c.value}", Text(f"category.{c.value}"))
                    for c in Category
                    if c is not Category.UNIT
                ),
            )
        if state is S.CONFIRM:
            return Reply(
                lines=(_summary(data, turn.language),),
                choices=(
                    Choice("confirm", Text("reg.confirm")),
                    Choice("restart", Text("reg.restart")),
                ),
                keep=True,
            )
        phone = mask_phone(str(data.get("phone", "")))
        key = "reg.enter_code" if state is S.CODE else "reg.signin_code_sent"
        return Reply(
            lines=(Text(key, {"phone": phone}),), choices=(Choice("resend", Text("reg.resend")),)
        )


def _suggest(division: str | None) -> list[str]:
    code = region_code_of_division(division) if division else None
    return [code] if code else []


def _person(data: dict[str, Any]) -> PersonDetails:
    return PersonDetails(
        real_name=data["name"],
        id_number=data["id_number"],
        region_code=data["region_code"],
        address=data["address"],
        category=Category(data["category"]),
        permit_number=data.get("permit"),
    )


def _unit(data: dict[str, Any]) -> UnitDetails:
    return UnitDetails(
        unit_name=data["name"],
        unit_code=data["unit_code"],
        address=data["address"],
        legal_rep_name=data["rep_name"],
        legal_rep_id_number=data["id_number"],
        region_code=data["region_code"],
    )


def _summary(data: dict[str, Any], language: Language) -> Text:
    region_code = data.get("region_code")
    english = language is Language.EN
    params: dict[str, str | int] = {
        "name": str(data.get("name", "")),
        "id_number": mask_id_number(str(data.get("id_number", ""))),
        "region": get_region(region_code).name_in(english) if region_code else "",
        "address": str(data.get("address", "")),
        "phone": mask_phone(str(data.get("phone", ""))),
    }
    if "unit_code" in data:
        params["unit_code"] = mask_code(str(data["unit_code"]))
        params["rep_name"] = str(data.get("rep_name", ""))
        return Text("reg.summary_unit", params)
    permit = data.get("permit")
    if permit:
        params["permit"] = mask_code(str(permit))
    else:
        params["permit_key"] = "reg.none"
    params["category_key"] = f"category.{data.get('category', Category.NEW_CAR_OWNER.value)}"
    return Text("reg.summary_person", params)

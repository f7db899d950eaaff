"""What each step of pre-selection shows: the lines and choices of every state.

Kept apart from the flow's wiring (``preselect.py``); every text is a catalog key. Replies stay
short for SMS: numbers of a batch are shown as bare serials under one ``粤D·`` heading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from babel.dates import format_date

from core.accounts import Language
from core.basic_information import local_day, standing
from core.info import localised
from core.masking import mask_phone
from core.offices import LOCAL_ONLY, Office, last_valid_day
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind
from core.pools import publicity as pool_publicity
from core.preselection import Preselection
from dialogs.flow import Turn
from dialogs.replies import Choice, Reply, Text

if TYPE_CHECKING:
    from dialogs.flows.preselect import PreselectFlow

OFFICES_SHOWN = 8
_LOCALES = {Language.ZH: "zh_CN", Language.EN: "en_GB"}


def hours(office: Office) -> dict[str, str | int]:
    return {"opens": office.opens.strftime("%H:%M"), "closes": office.closes.strftime("%H:%M")}


def day(value: date, language: Language) -> dict[str, str | int]:
    """``{date}`` and ``{weekday}`` of a day, the weekday named in the user's language."""
    return {
        "date": value.isoformat(),
        "weekday": format_date(value, "EEE", locale=_LOCALES[language]),
    }


def vin_tail(preselection: Preselection) -> str:
    return preselection.vin[-6:]


def _menu() -> Choice:
    return Choice("menu", Text("menu.back"))


def _publicity(flow: PreselectFlow, turn: Turn) -> Reply:
    """Pool publicity: how many numbers of each kind are available, with a few examples."""
    office = flow.office(turn)
    lines = [Text("pre.publicity.title", {"office": office.code_in(turn.language)})]
    for shown in pool_publicity(turn.uow, office):
        if shown.available:
            params: dict[str, str | int] = {
                "kind_key": f"plate.kind.{shown.kind.value}",
                "count": shown.available,
                "examples": " ".join(shown.examples),
            }
            lines.append(Text("pre.publicity.kind", params))
    if len(lines) == 1:
        lines.append(Text("pre.publicity.none"))
    return Reply(
        lines=tuple(lines), choices=(Choice("next", Text("pre.next")), *_other(flow, turn))
    )


def _other(flow: PreselectFlow, turn: Turn) -> tuple[Choice, ...]:
    """ "Another office", where there is another to choose."""
    if len(flow.offices(turn)) < 2:
        return ()
    return (Choice("other", Text("pre.other_office")),)


def prompt(flow: PreselectFlow, turn: Turn) -> Reply:
    state = turn.state.name
    screen = _SCREENS[state]
    return screen(flow, turn)


def _intro(flow: PreselectFlow, turn: Turn) -> Reply:
    choices = [Choice("start", Text("pre.start"))]
    if not flow.practice:
        choices.append(Choice("practice", Text("pre.practice")))
    choices.append(_menu())
    return Reply(lines=(Text("pre.intro"),), choices=tuple(choices))


def _office(flow: PreselectFlow, turn: Turn) -> Reply:
    offices = flow.offices(turn)
    account = turn.account
    lines = [Text("pre.office.ask")]
    if account is not None and account.category in LOCAL_ONLY and not account.window_user:
        lines.append(Text("pre.office.local_only"))
    if not offices:
        return Reply(lines=(Text("pre.office.none"),), choices=(_menu(),))
    if len(offices) > OFFICES_SHOWN:
        lines.append(Text("pre.office.type_code"))
    language = turn.language
    choices = tuple(
        Choice(
            f"office:{o.code}",
            Text("raw", {"text": f"{o.code_in(language)} {o.name_in(language)}"}),
        )
        for o in offices[:OFFICES_SHOWN]
    )
    return Reply(lines=tuple(lines), choices=choices)


def _office_info(flow: PreselectFlow, turn: Turn) -> Reply:
    office = flow.office(turn)
    language = turn.language
    params = {
        "office": office.code_in(language),
        "name": office.name_in(language),
        "address": office.address_in(language),
        **hours(office),
    }
    return Reply(
        lines=(Text("pre.office.info", params),),
        choices=(
            Choice("next", Text("pre.next")),
            Choice("publicity", Text("pre.publicity")),
            *_other(flow, turn),
        ),
    )


def _business(flow: PreselectFlow, turn: Turn) -> Reply:
    office = flow.office(turn)
    notice = localised(office.notice, office.notice_en, turn.language)
    line = (
        Text("pre.business", {"office": office.code_in(turn.language), "notice": notice})
        if notice
        else Text("pre.business.default", {"office": office.code_in(turn.language)})
    )
    return Reply(lines=(line,), choices=(Choice("agree", Text("pre.agree")),), keep=True)


def _vin(flow: PreselectFlow, turn: Turn) -> Reply:
    return Reply(lines=(Text("pre.ask_vin"),))


def _cert(flow: PreselectFlow, turn: Turn) -> Reply:
    return Reply(lines=(Text("pre.ask_cert"),))


def _kind(flow: PreselectFlow, turn: Turn) -> Reply:
    return Reply(
        lines=(Text("pre.ask_kind"),),
        choices=tuple(Choice(f"kind:{k.value}", Text(f"plate.kind.{k.value}")) for k in PlateKind),
    )


def _allowances(flow: PreselectFlow, turn: Turn) -> tuple[Office, Preselection | None]:
    return flow.office(turn), flow.current(turn)


def _notice(flow: PreselectFlow, turn: Turn) -> Reply:
    office, current = _allowances(flow, turn)
    params: dict[str, str | int] = {
        "office": office.code,
        "self": current.self_choice_left if current else 0,
        "batches": current.batches_left if current else 0,
        "per": office.candidates_per_check,
        "size": office.batch_size,
        "days": office.validity_working_days,
        **hours(office),
    }
    if not flow.practice:  # a practice run has no vehicle to name
        params["vin"] = vin_tail(current) if current else "-"
    choices = [Choice("verify", Text("pre.verify"))]
    if not flow.practice:
        choices.append(Choice("another", Text("pre.another")))
    choices.append(_menu())
    key = "practice.notice" if flow.practice else "pre.notice"
    return Reply(lines=(Text(key, params),), choices=tuple(choices), keep=True)


def _verify(flow: PreselectFlow, turn: Turn) -> Reply:
    if flow.practice:
        return Reply(lines=(Text("practice.enter_code"),))
    phone = mask_phone(turn.account.phone if turn.account else "")
    return Reply(
        lines=(Text("pre.enter_code", {"phone": phone}),),
        choices=(Choice("resend", Text("reg.resend")),),
    )


def _ways(current: Preselection | None, *, own: bool, again: bool = False) -> list[Choice]:
    """Ways to pick that are left: random batches (again, once a batch is shown) and own."""
    choices = []
    prefix = "pre.again" if again else "pre.draw"
    if current is not None and current.batches_left > 0:
        choices += [
            Choice("draw", Text(prefix, {"batches": current.batches_left})),
            Choice("draw_no4", Text(f"{prefix}_no4")),
        ]
    if own and current is not None and current.self_choice_left > 0:
        label = (
            Text("pre.own_short") if again else Text("pre.own", {"left": current.self_choice_left})
        )
        choices.append(Choice("own", label))
    return choices


def _choose(flow: PreselectFlow, turn: Turn) -> Reply:
    current = flow.current(turn)
    return Reply(lines=(Text("pre.choose"),), choices=tuple(_ways(current, own=True)))


def _batch(flow: PreselectFlow, turn: Turn) -> Reply:
    office, current = _allowances(flow, turn)
    batch = list(turn.data.get("batch", []))
    params: dict[str, str | int] = {"prefix": office.plate("").rstrip(), "minutes": 20}
    choices = [Choice(f"take:{serial}", Text("raw", {"text": serial})) for serial in batch]
    return Reply(
        lines=(Text("pre.batch", params),),
        choices=(*choices, *_ways(current, own=True, again=True)),
    )


def _own(flow: PreselectFlow, turn: Turn) -> Reply:
    office, current = _allowances(flow, turn)
    left = current.self_choice_left if current else 0
    kind = current.plate_kind if current else PlateKind.SMALL
    params: dict[str, str | int] = {
        "per": min(office.candidates_per_check, left),
        "left": left,
        "format_key": f"plate.format.{kind.value}",
    }
    lines = [Text("pre.own.ask", params)]
    if kind.ordinary and office.patterns:
        lines.append(Text("pre.own.patterns", {"patterns": " ".join(office.patterns)}))
    return Reply(lines=tuple(lines), choices=tuple(_ways(current, own=False)))


def _result(flow: PreselectFlow, turn: Turn) -> Reply:
    office, current = _allowances(flow, turn)
    if current is None or current.serial is None or current.deadline is None:
        return Reply(lines=(Text("pre.intro"),), choices=(_menu(),))
    params: dict[str, str | int] = {
        "plate": office.plate(current.serial),
        "vin": vin_tail(current),
        "name": office.name_in(turn.language),
        "address": office.address_in(turn.language),
        **day(last_valid_day(current.deadline), turn.language),
    }
    if flow.practice:
        return Reply(lines=(Text("practice.result", params),), choices=(_menu(),), keep=True)
    return Reply(
        lines=(Text("pre.result", params),),
        choices=(_menu(), Choice("another", Text("pre.another"))),
        keep=True,
    )


def _no_chances(flow: PreselectFlow, turn: Turn) -> Reply:
    choices = [] if flow.practice else [Choice("another", Text("pre.another"))]
    try:
        office, current = _allowances(flow, turn)
    except OfficeUnknown:  # the vehicle is no longer known: the office cannot be named
        return Reply(lines=(Text("pre.no_chances_any"),), choices=(*choices, _menu()))
    params: dict[str, str | int] = {
        "vin": vin_tail(current) if current else "-",
        "name": office.name_in(turn.language),
        "address": office.address_in(turn.language),
    }
    return Reply(lines=(Text("pre.no_chances", params),), choices=(*choices, _menu()))


def _blocked(flow: PreselectFlow, turn: Turn) -> Reply:
    account = turn.account
    entry = standing(turn.uow, account=account, now=turn.now).blacklist if account else None
    lifts = local_day(entry.lifts_at) if entry is not None else turn.today
    return Reply(lines=(Text("pre.blocked", day(lifts, turn.language)),), choices=(_menu(),))


_SCREENS: dict[str, Callable[[PreselectFlow, Turn], Reply]] = {
    "INTRO": _intro,
    "OFFICE": _office,
    "OFFICE_INFO": _office_info,
    "PUBLICITY": _publicity,
    "BUSINESS": _business,
    "VIN": _vin,
    "CERT": _cert,
    "KIND": _kind,
    "NOTICE": _notice,
    "VERIFY": _verify,
    "CHOOSE": _choose,
    "BATCH": _batch,
    "OWN": _own,
    "RESULT": _result,
    "NO_CHANCES": _no_chances,
    "BLOCKED": _blocked,
}

"""``platebot staff …``: the office's staff operations on the server's command line (SPEC §10).

Offices, number pools, the vehicle certificate registry, counter confirmations, the blacklist,
guides, contact details and announcements. Lists print as tables (``--json`` for programs).
Commands import what they need when they run, so that ``platebot`` starts fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from platebot.staff_cli_auctions import auction_app
from platebot.staff_cli_broadcasts import broadcast_app
from platebot.staff_cli_orders import order_app
from platebot.staff_cli_reservations import reservation_app
from platebot.staff_cli_sale import report_app, sale_app
from platebot.staff_cli_support import JsonOption, err, out, read_csv, refusals, run, show
from platebot.staff_cli_users import user_app
from platebot.staff_info_cli import announce_app, contact_app, guide_app

if TYPE_CHECKING:
    pass

T = TypeVar("T")

staff_app = typer.Typer(
    help="Staff operations: offices, pools, registry, counter.", no_args_is_help=True
)
office_app = typer.Typer(help="Vehicle management offices.", no_args_is_help=True)
pool_app = typer.Typer(help="Number pools.", no_args_is_help=True)
registry_app = typer.Typer(help="The vehicle certificate registry.", no_args_is_help=True)
blacklist_app = typer.Typer(help="The online pre-selection blacklist.", no_args_is_help=True)
for sub, name in (
    (office_app, "office"),
    (pool_app, "pool"),
    (registry_app, "registry"),
    (blacklist_app, "blacklist"),
    (guide_app, "guide"),
    (contact_app, "contact"),
    (announce_app, "announcement"),
    (order_app, "order"),
    (sale_app, "sale"),
    (report_app, "report"),
    (auction_app, "auction"),
    (reservation_app, "reservation"),
    (broadcast_app, "broadcast"),
    (user_app, "user"),
):
    staff_app.add_typer(sub, name=name)

# -- offices ----------------------------------------------------------------------------------

HoursOption = Annotated[str | None, typer.Option(help="Selection hours, e.g. 09:00-21:00.")]
PatternOption = Annotated[
    list[str] | None, typer.Option("--pattern", help="Self-choice pattern (L letter, D digit).")
]


def _settings(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@office_app.command("list")
def office_list(as_json: JsonOption = False) -> None:
    """List the offices and their settings."""
    show(run(lambda s: s.offices()), as_json)


# Office settings, the same for creating and changing an office.
NoticeOption = Annotated[str | None, typer.Option(help="Business notice (Chinese).")]
NoticeEnOption = Annotated[str | None, typer.Option(help="Business notice (English).")]
NameEnOption = Annotated[
    str | None, typer.Option(help="The office's name in English (default: from its region's).")
]
AddressEnOption = Annotated[str | None, typer.Option(help="The address in English.")]
SelfChoiceOption = Annotated[int | None, typer.Option(help="Self-chosen numbers per vehicle.")]
BatchesOption = Annotated[int | None, typer.Option(help="Random batches per vehicle.")]
BatchSizeOption = Annotated[int | None, typer.Option(help="Numbers per random batch.")]
PerCheckOption = Annotated[int | None, typer.Option(help="Self-chosen candidates per check.")]
ValidityOption = Annotated[int | None, typer.Option(help="Working days to confirm.")]


@office_app.command("add")
def office_add(
    *,
    code: Annotated[str, typer.Argument(help="Province character and office letter, e.g. 粤D.")],
    name: Annotated[str, typer.Option(help="The office's name.")],
    region: Annotated[
        str, typer.Option(help="Region code of its certificate location, e.g. 4405.")
    ],
    address: Annotated[str, typer.Option(help="Where users go.")] = "",
    name_en: NameEnOption = None,
    address_en: AddressEnOption = None,
    hours: HoursOption = None,
    notice: NoticeOption = None,
    notice_en: NoticeEnOption = None,
    self_choice: SelfChoiceOption = None,
    batches: BatchesOption = None,
    batch_size: BatchSizeOption = None,
    per_check: PerCheckOption = None,
    validity_days: ValidityOption = None,
    pattern: PatternOption = None,
) -> None:
    """Create an office (settings not given take SPEC's defaults)."""
    values = _settings(
        address=address,
        name_en=name_en,
        address_en=address_en,
        hours=hours,
        notice=notice,
        notice_en=notice_en,
        self_choice_allowance=self_choice,
        batch_allowance=batches,
        batch_size=batch_size,
        candidates_per_check=per_check,
        validity_working_days=validity_days,
        patterns=pattern,
    )
    show(run(lambda s: s.create_office(code=code, name=name, region_code=region, **values)))


@office_app.command("set")
def office_set(
    *,
    code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")],
    name: Annotated[str | None, typer.Option(help="The office's name.")] = None,
    region: Annotated[str | None, typer.Option(help="Region code, e.g. 4405.")] = None,
    address: Annotated[str | None, typer.Option(help="Where users go.")] = None,
    name_en: NameEnOption = None,
    address_en: AddressEnOption = None,
    hours: HoursOption = None,
    notice: NoticeOption = None,
    notice_en: NoticeEnOption = None,
    self_choice: SelfChoiceOption = None,
    batches: BatchesOption = None,
    batch_size: BatchSizeOption = None,
    per_check: PerCheckOption = None,
    validity_days: ValidityOption = None,
    pattern: PatternOption = None,
) -> None:
    """Change an office's settings (only those given)."""
    values = _settings(
        name=name,
        region_code=region,
        address=address,
        name_en=name_en,
        address_en=address_en,
        hours=hours,
        notice=notice,
        notice_en=notice_en,
        self_choice_allowance=self_choice,
        batch_allowance=batches,
        batch_size=batch_size,
        candidates_per_check=per_check,
        validity_working_days=validity_days,
        patterns=pattern,
    )
    show(run(lambda s: s.change_office(code, **values)))


@office_app.command("holiday")
def office_holiday(
    *,
    code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")],
    days: Annotated[list[str], typer.Argument(help="Dates, e.g. 2026-10-01.")],
    remove: Annotated[bool, typer.Option("--remove", help="Remove these holidays.")] = False,
) -> None:
    """Add office holidays (no working days for validity deadlines)."""
    try:
        parsed = [date.fromisoformat(day) for day in days]
    except ValueError as exc:
        err.print(f"[red]Not a date[/red] {exc}")
        raise typer.Exit(2) from exc
    run(lambda s: s.set_holidays(code, parsed, on=not remove))
    out.print(f"{code}: {len(parsed)} holiday(s) {'removed' if remove else 'added'}")


# -- pools and registry -----------------------------------------------------------------------


@pool_app.command("load")
def pool_load(
    *,
    code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")],
    kind: Annotated[str, typer.Option(help="small, large, small_nev or large_nev.")] = "small",
    ranges: Annotated[list[str] | None, typer.Option("--range", help="e.g. 10000-19999.")] = None,
    patterns: Annotated[list[str] | None, typer.Option("--pattern", help="e.g. LDDDD.")] = None,
    serials: Annotated[list[str] | None, typer.Option("--serial", help="One number.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV, serial first.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Held back, e.g. 88888.")] = None,
) -> None:
    """Release numbers into an office's pool (numbers already known are left alone)."""
    from core.plates import parse_kind
    from core.pools import serials_from_csv

    listed = list(serials or [])
    if csv_file is not None:
        listed += serials_from_csv(read_csv(csv_file))
    with refusals():
        plate_kind = parse_kind(kind)
    report = run(
        lambda s: s.load_pool(
            code,
            plate_kind,
            ranges=ranges or [],
            patterns=patterns or [],
            serials=listed,
            exclude=exclude or [],
        )
    )
    from platebot.staff_service import message_of

    out.print(
        f"{code} {plate_kind.value}: {report.added} added, {report.already} already known,"
        f" {report.excluded} held back, {len(report.refused)} refused"
    )
    for refusal in report.refused:
        out.print(f"{refusal.serial}: {message_of(refusal.code, refusal.params)}", markup=False)


@pool_app.command("show")
def poolshow(code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")]) -> None:
    """Pooled numbers per plate kind."""
    show(run(lambda s: s.pool_counts(code)))


@registry_app.command("import")
def registry_import(
    csv_file: Annotated[
        Path, typer.Argument(help="vin,certificate_no,owner_id,plate_kind[,registered,model]")
    ],
) -> None:
    """Import vehicles from CSV: bad rows are reported by line, good rows kept."""
    from platebot.staff_service import message_of

    report = run(lambda s: s.import_registry(read_csv(csv_file)))
    out.print(f"{report.added} added, {report.updated} updated, {len(report.errors)} bad row(s)")
    for problem in report.errors:
        err.print(
            f"line {problem['line']}: {message_of(problem['code'], problem['params'])}",
            markup=False,
        )
    if report.errors:
        raise typer.Exit(1)


# -- counter and blacklist --------------------------------------------------------------------


@staff_app.command("confirm")
def confirm(vin: Annotated[str, typer.Argument(help="The vehicle's VIN.")]) -> None:
    """Confirm a pre-selection at the counter: the number is issued to the vehicle."""
    show(run(lambda s: s.confirm(vin)))


@staff_app.command("preselections")
def preselections(
    *,
    state: Annotated[
        str | None, typer.Option(help="started, selected, confirmed, cancelled.")
    ] = None,
    office: Annotated[str | None, typer.Option(help="Only this office, e.g. 粤D.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List pre-selections by state."""
    from core.preselection import PreselectionState

    try:
        wanted = PreselectionState(state) if state else None
    except ValueError as exc:
        err.print(
            f"[red]No state[/red] {state}: use {', '.join(s.value for s in PreselectionState)}"
        )
        raise typer.Exit(2) from exc
    show(run(lambda s: s.preselections(state=wanted, office=office, limit=limit)), as_json)


@blacklist_app.command("list")
def blacklist_list(as_json: JsonOption = False) -> None:
    """Accounts barred from online pre-selection now."""
    show(run(lambda s: s.blacklist()), as_json)


@blacklist_app.command("lift")
def blacklist_lift(
    phone: Annotated[str, typer.Argument(help="The account's mobile number.")],
) -> None:
    """Lift an account's blacklist before its two years are over."""
    show(run(lambda s: s.lift(phone)))

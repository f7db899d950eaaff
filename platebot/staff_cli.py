"""``platebot staff …``: the office's staff operations on the server's command line (SPEC §10).

Offices, number pools, the vehicle certificate registry, counter confirmations, the blacklist,
guides, contact details and announcements. Lists print as tables (``--json`` for programs).
Commands import what they need when they run, so that ``platebot`` starts fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from platebot.staff_service import StaffService

T = TypeVar("T")

staff_app = typer.Typer(
    help="Staff operations: offices, pools, registry, counter.", no_args_is_help=True
)
office_app = typer.Typer(help="Vehicle management offices.", no_args_is_help=True)
pool_app = typer.Typer(help="Number pools.", no_args_is_help=True)
registry_app = typer.Typer(help="The vehicle certificate registry.", no_args_is_help=True)
blacklist_app = typer.Typer(help="The online pre-selection blacklist.", no_args_is_help=True)
guide_app = typer.Typer(help="Guides users read in the dialog.", no_args_is_help=True)
contact_app = typer.Typer(help="Contact details users read in the dialog.", no_args_is_help=True)
announce_app = typer.Typer(help="System announcements.", no_args_is_help=True)
for sub, name in (
    (office_app, "office"),
    (pool_app, "pool"),
    (registry_app, "registry"),
    (blacklist_app, "blacklist"),
    (guide_app, "guide"),
    (contact_app, "contact"),
    (announce_app, "announcement"),
):
    staff_app.add_typer(sub, name=name)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def _service() -> Iterator[StaffService]:
    """The staff service on the configured database (migrated first), closed afterwards."""
    from core.clock import SystemClock
    from platebot.settings import SettingsError, load_settings
    from platebot.staff_service import StaffService
    from store import migrate
    from store.db import create_engine
    from store.uow import UnitOfWorkFactory

    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(f"[red]Configuration error[/red] {exc}")
        raise typer.Exit(2) from exc
    engine = create_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        yield StaffService(UnitOfWorkFactory(engine), SystemClock())
    finally:
        engine.dispose()


@contextmanager
def _refusals() -> Iterator[None]:
    """A refusal of the office's rules is printed in words, with exit status 1."""
    from core.errors import DomainError
    from platebot.staff_service import message_of

    try:
        yield
    except DomainError as error:
        err.print(f"[red]Refused[/red] {message_of(error.code, error.params)}")
        raise typer.Exit(1) from error


def _run(action: Callable[[StaffService], T]) -> T:
    with _refusals(), _service() as service:
        return action(service)


def _show(rows: list[dict[str, Any]] | dict[str, Any], as_json: bool = False) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if isinstance(rows, dict):
        for key, value in rows.items():
            out.print(f"{key}: {value}", markup=False)
        return
    if not rows:
        out.print("(none)")
        return
    if len(rows[0]) > 7:  # too wide for a table: one block per row
        for row in rows:
            _show(row)
            out.print()
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(value) if value is not None else "" for value in row.values()))
    out.print(table)


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
    _show(_run(lambda s: s.offices()), as_json)


@office_app.command("add")
def office_add(
    *,
    code: Annotated[str, typer.Argument(help="Province character and office letter, e.g. 粤D.")],
    name: Annotated[str, typer.Option(help="The office's name.")],
    region: Annotated[
        str, typer.Option(help="Region code of its certificate location, e.g. 4405.")
    ],
    address: Annotated[str, typer.Option(help="Where users go.")] = "",
    hours: HoursOption = None,
    notice: Annotated[str | None, typer.Option(help="Business notice (Chinese).")] = None,
    notice_en: Annotated[str | None, typer.Option(help="Business notice (English).")] = None,
    self_choice: Annotated[
        int | None, typer.Option(help="Self-chosen numbers per vehicle.")
    ] = None,
    batches: Annotated[int | None, typer.Option(help="Random batches per vehicle.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Numbers per random batch.")] = None,
    per_check: Annotated[int | None, typer.Option(help="Self-chosen candidates per check.")] = None,
    validity_days: Annotated[int | None, typer.Option(help="Working days to confirm.")] = None,
    pattern: PatternOption = None,
) -> None:
    """Create an office (settings not given take SPEC's defaults)."""
    values = _settings(
        address=address,
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
    _show(_run(lambda s: s.create_office(code=code, name=name, region_code=region, **values)))


@office_app.command("set")
def office_set(
    *,
    code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")],
    name: Annotated[str | None, typer.Option(help="The office's name.")] = None,
    region: Annotated[str | None, typer.Option(help="Region code, e.g. 4405.")] = None,
    address: Annotated[str | None, typer.Option(help="Where users go.")] = None,
    hours: HoursOption = None,
    notice: Annotated[str | None, typer.Option(help="Business notice (Chinese).")] = None,
    notice_en: Annotated[str | None, typer.Option(help="Business notice (English).")] = None,
    self_choice: Annotated[
        int | None, typer.Option(help="Self-chosen numbers per vehicle.")
    ] = None,
    batches: Annotated[int | None, typer.Option(help="Random batches per vehicle.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Numbers per random batch.")] = None,
    per_check: Annotated[int | None, typer.Option(help="Self-chosen candidates per check.")] = None,
    validity_days: Annotated[int | None, typer.Option(help="Working days to confirm.")] = None,
    pattern: PatternOption = None,
) -> None:
    """Change an office's settings (only those given)."""
    values = _settings(
        name=name,
        region_code=region,
        address=address,
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
    _show(_run(lambda s: s.change_office(code, **values)))


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
    _run(lambda s: s.set_holidays(code, parsed, on=not remove))
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
        listed += serials_from_csv(csv_file.read_text(encoding="utf-8-sig"))
    with _refusals():
        plate_kind = parse_kind(kind)
    report = _run(
        lambda s: s.load_pool(
            code,
            plate_kind,
            ranges=ranges or [],
            patterns=patterns or [],
            serials=listed,
            exclude=exclude or [],
        )
    )
    out.print(
        f"{code} {plate_kind.value}: {report.added} added, {report.already} already known,"
        f" {report.excluded} held back"
    )


@pool_app.command("show")
def pool_show(code: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")]) -> None:
    """Pooled numbers per plate kind."""
    _show(_run(lambda s: s.pool_counts(code)))


@registry_app.command("import")
def registry_import(
    csv_file: Annotated[
        Path, typer.Argument(help="vin,certificate_no,owner_id,plate_kind[,registered,model]")
    ],
) -> None:
    """Import vehicles from CSV: bad rows are reported by line, good rows kept."""
    from platebot.staff_service import message_of

    report = _run(lambda s: s.import_registry(csv_file.read_text(encoding="utf-8-sig")))
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
    _show(_run(lambda s: s.confirm(vin)))


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
    _show(_run(lambda s: s.preselections(state=wanted, office=office, limit=limit)), as_json)


@blacklist_app.command("list")
def blacklist_list(as_json: JsonOption = False) -> None:
    """Accounts barred from online pre-selection now."""
    _show(_run(lambda s: s.blacklist()), as_json)


@blacklist_app.command("lift")
def blacklist_lift(
    phone: Annotated[str, typer.Argument(help="The account's mobile number.")],
) -> None:
    """Lift an account's blacklist before its two years are over."""
    _show(_run(lambda s: s.lift(phone)))


# -- guides, contacts, announcements ----------------------------------------------------------

TitleOption = Annotated[str, typer.Option(help="Title (Chinese).")]
BodyOption = Annotated[str, typer.Option(help="Text (Chinese).")]
TitleEnOption = Annotated[str, typer.Option(help="Title (English).")]
BodyEnOption = Annotated[str, typer.Option(help="Text (English).")]
IdArgument = Annotated[int, typer.Argument(help="Its number (see list).")]


@guide_app.command("add")
def guide_add(
    *,
    title: TitleOption,
    body: BodyOption,
    title_en: TitleEnOption = "",
    body_en: BodyEnOption = "",
    position: Annotated[int, typer.Option(help="Order in the list.")] = 0,
) -> None:
    """Add a guide."""
    _show(
        _run(
            lambda s: s.add_guide(
                title=title, body=body, title_en=title_en, body_en=body_en, position=position
            )
        )
    )


@contact_app.command("add")
def contact_add(
    *,
    name: Annotated[str, typer.Option(help="Who (Chinese).")],
    phone: Annotated[str, typer.Option(help="Telephone.")],
    address: Annotated[str, typer.Option(help="Address (Chinese).")],
    hours: Annotated[str, typer.Option(help="Opening hours.")] = "",
    office: Annotated[str | None, typer.Option(help="The office, e.g. 粤D.")] = None,
    name_en: Annotated[str, typer.Option(help="Who (English).")] = "",
    address_en: Annotated[str, typer.Option(help="Address (English).")] = "",
) -> None:
    """Add contact details."""
    _show(
        _run(
            lambda s: s.add_contact(
                name=name,
                phone=phone,
                address=address,
                hours=hours,
                office_code=office,
                name_en=name_en,
                address_en=address_en,
            )
        )
    )


@announce_app.command("add")
def announcement_add(
    *,
    title: TitleOption,
    body: BodyOption,
    title_en: TitleEnOption = "",
    body_en: BodyEnOption = "",
) -> None:
    """Publish an announcement now."""
    _show(_run(lambda s: s.announce(title=title, body=body, title_en=title_en, body_en=body_en)))


@announce_app.command("withdraw")
def announcement_withdraw(item_id: IdArgument) -> None:
    """Withdraw an announcement (users no longer see it)."""
    _show(_run(lambda s: s.withdraw(item_id)))


def _list_and_remove(app: typer.Typer, kind: str) -> None:
    @app.command("list")
    def listed(as_json: JsonOption = False) -> None:
        """List them."""
        _show(_run(lambda s: s.items(kind)), as_json)

    @app.command("remove")
    def remove(item_id: IdArgument) -> None:
        """Remove one."""
        _run(lambda s: s.remove_item(kind, item_id))
        out.print(f"{kind} {item_id} removed")


for _sub, _kind in ((guide_app, "guide"), (contact_app, "contact"), (announce_app, "announcement")):
    _list_and_remove(_sub, _kind)

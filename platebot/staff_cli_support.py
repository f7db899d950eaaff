"""What the staff commands share: the staff service on the configured database, refusals said
in words, and printing (tables, key: value blocks, or JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from core.clock import Clock
    from core.payments import PaymentProvider
    from platebot.settings import Settings
    from platebot.staff_service import StaffService
    from store.uow import UnitOfWorkFactory

T = TypeVar("T")
S = TypeVar("S")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def configured() -> Iterator[tuple[Settings, Engine]]:
    """The settings and the configured database (migrated first), closed afterwards; a
    malformed setting stops the command (exit status 2)."""
    from platebot.settings import SettingsError, load_settings
    from store import migrate
    from store.db import create_engine

    try:
        settings = load_settings()
    except SettingsError as exc:
        err.print(f"[red]Configuration error[/red] {exc}")
        raise typer.Exit(2) from exc
    engine = create_engine(settings.database_url)
    try:
        migrate.upgrade(engine)
        yield settings, engine
    finally:
        engine.dispose()


def payment_provider_of(settings: Settings, engine: Engine) -> PaymentProvider:
    """The configured payment provider (a refund goes back through it; it makes pay links)."""
    from platebot.bootstrap import payment_provider
    from store import migrate

    key = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key is not None
        else migrate.secret_key(engine)
    )
    return payment_provider(settings, key)


@contextmanager
def with_payments() -> Iterator[tuple[UnitOfWorkFactory, Clock, PaymentProvider]]:
    """The configured database (migrated first), the clock and the configured payment provider
    (refunds of gateway payments go back through it), closed afterwards."""
    from core.clock import SystemClock
    from store.uow import UnitOfWorkFactory

    with configured() as (settings, engine):
        uow = UnitOfWorkFactory(engine, channels=settings.channels)  # notices as the server's
        yield uow, SystemClock(), payment_provider_of(settings, engine)


def run_staff(
    make: Callable[[UnitOfWorkFactory, Clock, PaymentProvider], S], action: Callable[[S], T]
) -> T:
    """``action`` on a staff service made on the configured database, clock and payment
    provider (``with_payments``); a refusal of the office's rules is printed (exit status 1)."""
    with refusals(), with_payments() as (uow, clock, provider):
        return action(make(uow, clock, provider))


@contextmanager
def service() -> Iterator[StaffService]:
    """The staff service on the configured database (migrated first), closed afterwards."""
    from core.clock import SystemClock
    from platebot.staff_service import StaffService
    from store.uow import UnitOfWorkFactory

    with configured() as (settings, engine):
        yield StaffService(UnitOfWorkFactory(engine, channels=settings.channels), SystemClock())


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal of the office's rules is printed in words, with exit status 1."""
    from core.errors import DomainError
    from platebot.staff_service import message_of

    try:
        yield
    except DomainError as error:
        err.print(f"[red]Refused[/red] {message_of(error.code, error.params)}")
        raise typer.Exit(1) from error


def read_csv(path: Path) -> str:
    """A CSV file's text; one that cannot be read, or is not UTF-8, is refused with what to do
    about it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:  # not there, a folder, not readable
        reason = exc.strerror or type(exc).__name__
        err.print(f"[red]Refused[/red] cannot read {path}: {reason}; nothing was imported or sent.")
        raise typer.Exit(2) from exc
    except UnicodeDecodeError as exc:
        err.print(
            f"[red]Refused[/red] {path} is not UTF-8 text (byte {exc.start}). Save it as "
            '"CSV UTF-8 (Comma delimited)" in Excel or WPS and try again; nothing was imported.'
        )
        raise typer.Exit(2) from exc


def run(action: Callable[[StaffService], T]) -> T:
    with refusals(), service() as staff:
        return action(staff)


def show(rows: list[dict[str, Any]] | dict[str, Any], as_json: bool = False) -> None:
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
            show(row)
            out.print()
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(value) if value is not None else "" for value in row.values()))
    out.print(table)


def fen_of(yuan: str) -> int:
    """``5000`` or ``5000.50`` yuan in fen; anything else stops the command."""
    try:
        value = Decimal(yuan) * 100
    except InvalidOperation as exc:
        err.print(f"[red]Not an amount[/red] {yuan}: give yuan, e.g. 5000 or 5000.50")
        raise typer.Exit(2) from exc
    if value != value.to_integral_value() or value <= 0:
        err.print(f"[red]Not an amount[/red] {yuan}: give yuan, e.g. 5000 or 5000.50")
        raise typer.Exit(2)
    return int(value)

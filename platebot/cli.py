"""``platebot``: the command line of the product (chat, database, diagrams, …)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from core.accounts import Language
from platebot.settings import LOG_FORMAT, Settings, SettingsError, load_settings
from platebot.staff_cli import staff_app

app = typer.Typer(help="platebot: licence-plate business by chat and SMS.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        err.print(f"[red]Configuration error[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def chat(
    phone: Annotated[
        str | None, typer.Option(help="Act as an SMS user of this number (e.g. 13800138000).")
    ] = None,
    lang: Annotated[Language | None, typer.Option(help="Start in this language.")] = None,
) -> None:
    """Talk to platebot in this terminal, rendered as SMS shows it.

    Without a terminal, reads one message per line from standard input and prints each reply.
    """
    from core.errors import InvalidPhone
    from core.phone import normalise_phone
    from platebot.console import run_console

    settings = _settings()
    if phone is not None:
        try:
            phone = normalise_phone(phone)
        except InvalidPhone as exc:
            err.print(f"[red]Not a mobile number:[/red] {phone}")
            raise typer.Exit(2) from exc
    logging.basicConfig(level=logging.WARNING)
    run_console(settings, phone=phone, language=lang)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (share the database).")] = 1,
    telegram_polling: Annotated[
        bool,
        typer.Option(
            "--telegram-polling",
            help="Fetch Telegram updates by polling instead of the webhook (development without "
            "a public URL; one process).",
        ),
    ] = False,
) -> None:
    """Run the HTTP server: SMS and Telegram webhooks, pay pages, staff API, background jobs."""
    import uvicorn

    from platebot.bootstrap import build_app

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if telegram_polling and (settings.telegram_token is None or workers != 1):
        err.print("[red]--telegram-polling[/red] needs PLATEBOT_TELEGRAM_TOKEN and --workers 1")
        raise typer.Exit(2)
    try:  # migrates once before the workers start
        built = build_app(settings, telegram_polling=telegram_polling)
    except SettingsError as exc:
        err.print(f"[red]Configuration error[/red] {exc}")
        raise typer.Exit(2) from exc
    if telegram_polling:  # one process, which polls: serve the app built here
        from platebot.server import create_web_app

        uvicorn.run(create_web_app(built), host=host, port=port, log_level="info")
        return
    uvicorn.run(
        "platebot.server:create_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    from store import migrate
    from store.db import create_engine

    engine = create_engine(_settings().database_url)
    migrate.upgrade(engine)
    typer.echo(f"database at revision {', '.join(sorted(migrate.current_revisions(engine)))}")


@app.command("demo-data")
def demo_data() -> None:
    """Load demo accounts, an office, a pool, vehicles and guides (safe to run again) and print
    how to try the pre-selection journey."""
    from core.clock import SystemClock
    from platebot.demo import how_to_try, load_demo_data
    from store import migrate
    from store.db import create_engine
    from store.uow import UnitOfWorkFactory

    engine = create_engine(_settings().database_url)
    migrate.upgrade(engine)
    summary = load_demo_data(UnitOfWorkFactory(engine), SystemClock())
    engine.dispose()
    for line in how_to_try(summary):
        typer.echo(line)


@app.command()
def diagram(flow: Annotated[str, typer.Argument(help="Flow name, e.g. register.")]) -> None:
    """Print a Mermaid diagram of a flow, made from its state machine."""
    from dialogs.diagram import mermaid
    from platebot.bootstrap import all_flows

    flows = {f.name: f for f in all_flows()}
    if flow not in flows:
        err.print(f"[red]No flow {flow!r}.[/red] Flows: {', '.join(sorted(flows))}")
        raise typer.Exit(2)
    typer.echo(mermaid(flows[flow]))


@app.command()
def docs() -> None:
    """Rewrite docs/flows.md: the diagram of every flow."""
    from pathlib import Path

    from dialogs.diagram import flows_markdown
    from platebot.bootstrap import all_flows

    path = Path("docs/flows.md")
    path.parent.mkdir(exist_ok=True)
    path.write_text(flows_markdown(all_flows()), encoding="utf-8")
    typer.echo(f"wrote {path}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

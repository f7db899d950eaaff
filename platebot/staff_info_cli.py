"""``platebot staff guide|contact|announcement …``: the information users read (SPEC §9)."""

from __future__ import annotations

from typing import Annotated

import typer

from platebot.staff_cli_broadcasts import audience_of, channels_of, run_broadcasts
from platebot.staff_cli_support import JsonOption, err, out, run, show

guide_app = typer.Typer(help="Guides users read in the dialog.", no_args_is_help=True)
contact_app = typer.Typer(help="Contact details users read in the dialog.", no_args_is_help=True)
announce_app = typer.Typer(help="System announcements.", no_args_is_help=True)

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
    show(
        run(
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
    show(
        run(
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
    broadcast: Annotated[
        str | None,
        typer.Option(
            help="Also send it now as a broadcast to: everyone, region, bidders or "
            "unfinished-orders (see `platebot staff broadcast compose`)."
        ),
    ] = None,
    region: Annotated[str | None, typer.Option(help="--broadcast region: the region.")] = None,
    period: Annotated[int | None, typer.Option(help="--broadcast bidders: the period.")] = None,
    channels: Annotated[
        str, typer.Option(help="--broadcast: telegram-else-sms, sms or telegram.")
    ] = "telegram-else-sms",
    by: Annotated[str, typer.Option("--by", help="Your name (kept with a broadcast).")] = "staff",
    yes: Annotated[
        bool, typer.Option("--yes", help="--broadcast: send without asking after the preview.")
    ] = False,
) -> None:
    """Publish an announcement now (and send it as a broadcast with --broadcast: you see who
    gets it and what the SMS cost, and are asked, before anything is published or sent)."""
    values = {"title": title, "body": body, "title_en": title_en, "body_en": body_en}
    if broadcast is None:
        if region is not None or period is not None:
            err.print("[red]Refused[/red] --region and --period are for --broadcast; add it")
            raise typer.Exit(2)
        show(run(lambda s: s.announce(broadcast=None, **values)))
        return
    if broadcast == "numbers":
        err.print(
            "[red]Refused[/red] an announcement goes to everyone, a region, bidders or "
            "unfinished-orders; for a list of numbers, publish it, then use "
            "`platebot staff broadcast compose --numbers FILE.csv`"
        )
        raise typer.Exit(2)
    chosen = audience_of(broadcast, region=region, period=period, numbers=None)
    via = channels_of(channels)
    preview = run_broadcasts(
        lambda s: s.preview_announcement(audience=chosen, channels=via, **values)
    )
    show(preview)
    if not yes and not typer.confirm(
        f"Publish it and send it now to {preview['recipients']} recipients "
        f"({preview['sms_segments']} SMS segments)?"
    ):
        err.print("Not published; nothing was sent.")
        raise typer.Exit(1)
    show(run(lambda s: s.announce(broadcast=(chosen, via, by), **values)))


@announce_app.command("withdraw")
def announcement_withdraw(item_id: IdArgument) -> None:
    """Withdraw an announcement (users no longer see it)."""
    show(run(lambda s: s.withdraw(item_id)))


def _list_and_remove(app: typer.Typer, kind: str) -> None:
    @app.command("list")
    def listed(as_json: JsonOption = False) -> None:
        """List them."""
        show(run(lambda s: s.items(kind)), as_json)

    @app.command("remove")
    def remove(item_id: IdArgument) -> None:
        """Remove one."""
        run(lambda s: s.remove_item(kind, item_id))
        out.print(f"{kind} {item_id} removed")


for _sub, _kind in ((guide_app, "guide"), (contact_app, "contact"), (announce_app, "announcement")):
    _list_and_remove(_sub, _kind)

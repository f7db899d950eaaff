"""``platebot staff broadcast …``: compose a notice to many people, see who gets it and what the
SMS cost, send it now or at a set time, follow it with a progress bar, pause, resume or cancel
it, and read every recipient's outcome (SPEC §10). The server's command line acts as an admin
(``platebot.staff_acting``): it composes for every office and lists and acts on every office's
broadcasts; what a supervisor's office may send to is refused in ``core.broadcasts``, on every way
in, and printed as any refusal is."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from platebot.staff_cli_support import JsonOption, err, out, read_csv, refusals, service, show

if TYPE_CHECKING:
    from core.broadcast_ports import Audience
    from platebot.staff_broadcasts import StaffBroadcasts

T = TypeVar("T")

broadcast_app = typer.Typer(
    help="Broadcasts: one notice to many people by Telegram and SMS.", no_args_is_help=True
)

IdArgument = Annotated[int, typer.Argument(help="The broadcast's number.")]
FollowOption = Annotated[
    bool, typer.Option("--follow", help="Show a progress bar until it has been sent.")
]
AUDIENCES = ("everyone", "region", "bidders", "unfinished-orders", "numbers")
OPTION_OF = {"region": "region", "bidders": "period", "numbers": "numbers"}
CHANNELS = ("telegram-else-sms", "sms", "telegram")


@contextmanager
def _broadcasts() -> Iterator[StaffBroadcasts]:
    from platebot.staff_broadcasts import StaffBroadcasts
    from sms.render import broadcast_segments

    with refusals(), service() as staff:
        yield StaffBroadcasts(staff.uow_factory, staff.clock, broadcast_segments)


def run_broadcasts(action: Callable[[StaffBroadcasts], T]) -> T:
    with _broadcasts() as staff:
        return action(staff)


def audience_of(
    kind: str | None, *, region: str | None, period: int | None, numbers: Path | None
) -> Audience:
    """The audience the options name: ``kind``, or the one the other options point to when it
    is not given (``--region`` alone: that region); a missing region, period or list is
    refused here. All that is given goes on: one given for another audience is refused by
    ``core.broadcasts`` (``--region`` with everyone must not quietly send to everyone)."""
    from core.broadcast_ports import Audience, AudienceKind
    from core.broadcasts import phones_from_csv

    given = {"region": region, "bidders": period, "numbers": numbers}
    pointed = [name for name, value in given.items() if value is not None]
    if kind is None:
        if len(pointed) > 1:
            options = " and ".join(f"--{OPTION_OF[name]}" for name in pointed)
            err.print(f"[red]Refused[/red] {options} name different audiences: give one")
            raise typer.Exit(2)
        kind = pointed[0] if pointed else "everyone"
    kind = kind.lower().replace("_", "-")  # also as the API and the broadcast's view write it
    if kind not in AUDIENCES:
        err.print(f"[red]Refused[/red] --audience is one of {', '.join(AUDIENCES)}")
        raise typer.Exit(2)
    if kind in OPTION_OF and given[kind] is None:
        example = {"region": "4405 or --region 汕头", "bidders": "3", "numbers": "FILE.csv"}
        option = OPTION_OF[kind]
        err.print(
            f"[red]Refused[/red] --audience {kind} needs --{option}, e.g. --{option} "
            f"{example[kind]}"
        )
        raise typer.Exit(2)
    with refusals():
        phones = phones_from_csv(read_csv(numbers)) if numbers is not None else ()
    return Audience(
        AudienceKind(kind.replace("-", "_")), region_code=region, period_id=period, phones=phones
    )


def channels_of(name: str) -> Any:
    from core.broadcast_ports import Channels

    name = name.lower().replace("_", "-")  # also as the API and the broadcast's view write it
    if name not in CHANNELS:
        err.print(f"[red]Refused[/red] --channels is one of {', '.join(CHANNELS)}")
        raise typer.Exit(2)
    return Channels(name.replace("-", "_"))


AudienceOption = Annotated[
    str | None,
    typer.Option(
        help=f"Who gets it: {', '.join(AUDIENCES)}. Default: the one --region, --period or "
        "--numbers names, else everyone.",
        show_default=False,
    ),
]
ChannelsOption = Annotated[
    str,
    typer.Option(help="telegram-else-sms (Telegram where linked, else SMS), sms or telegram."),
]
RegionOption = Annotated[
    str | None, typer.Option(help="The region: its code (4405) or its city (汕头, Shantou).")
]
PeriodOption = Annotated[int | None, typer.Option(help="The auction period's number.")]
NumbersOption = Annotated[
    Path | None, typer.Option(help="A CSV file: one phone number a line (first column).")
]
ByOption = Annotated[str, typer.Option("--by", help="Your name (kept with the broadcast).")]


@broadcast_app.command("compose")
def compose(
    *,
    zh: Annotated[str, typer.Option(help="The text in Chinese.")],
    en: Annotated[str, typer.Option(help="The text in English.")],
    audience: AudienceOption = None,
    region: RegionOption = None,
    period: PeriodOption = None,
    numbers: NumbersOption = None,
    channels: ChannelsOption = "telegram-else-sms",
    by: ByOption = "staff",
    as_json: JsonOption = False,
) -> None:
    """Compose a broadcast (kept as a draft) and show who gets it and what the SMS cost."""
    chosen = audience_of(audience, region=region, period=period, numbers=numbers)
    via = channels_of(channels)
    preview = run_broadcasts(
        lambda s: s.compose(text_zh=zh, text_en=en, audience=chosen, channels=via, created_by=by)
    )
    show(preview, as_json)
    if not as_json:
        out.print(f"Send it with: platebot staff broadcast send {preview['id']} --follow")


@broadcast_app.command("preview")
def preview(broadcast_id: IdArgument, as_json: JsonOption = False) -> None:
    """Who a broadcast goes to (per channel) and the SMS segments it costs, as of now."""
    show(run_broadcasts(lambda s: s.preview(broadcast_id)), as_json)


@broadcast_app.command("send")
def send(
    broadcast_id: IdArgument,
    at: Annotated[
        str | None,
        typer.Option(help="Send at this time, China time (e.g. '2026-12-08 09:00'); default now."),
    ] = None,
    follow: FollowOption = False,
    as_json: JsonOption = False,
) -> None:
    """Send a composed broadcast now, or at a set time."""
    when = _china_time(at) if at else None
    shown = run_broadcasts(lambda s: s.send(broadcast_id, at=when))
    if follow and shown["status"] in ("sending", "finished"):
        _follow(broadcast_id)
        return
    show(shown, as_json)


@broadcast_app.command("progress")
def progress(
    broadcast_id: IdArgument, follow: FollowOption = False, as_json: JsonOption = False
) -> None:
    """Sent, delivered, failed, opted out, left, the rate and the time to finish."""
    if follow:
        _follow(broadcast_id)
        return
    show(run_broadcasts(lambda s: s.progress(broadcast_id)), as_json)


@broadcast_app.command("list")
def listed(as_json: JsonOption = False) -> None:
    """The recent broadcasts and how far each is."""
    show(run_broadcasts(lambda s: s.recent()), as_json)


@broadcast_app.command("pause")
def pause(broadcast_id: IdArgument) -> None:
    """Hold what is left of a broadcast being sent."""
    show(run_broadcasts(lambda s: s.pause(broadcast_id)))


@broadcast_app.command("resume")
def resume(broadcast_id: IdArgument) -> None:
    """Send what is left of a paused broadcast."""
    show(run_broadcasts(lambda s: s.resume(broadcast_id)))


@broadcast_app.command("cancel")
def cancel(broadcast_id: IdArgument) -> None:
    """Send nothing more of a broadcast (a draft, one set for later, or one being sent)."""
    show(run_broadcasts(lambda s: s.cancel(broadcast_id)))


@broadcast_app.command("report")
def report(broadcast_id: IdArgument, as_json: JsonOption = False) -> None:
    """Every recipient's outcome, with what Twilio reported of each SMS."""
    show(run_broadcasts(lambda s: s.report(broadcast_id)), as_json)


def _china_time(text: str) -> datetime:
    from core.clock import OFFICE_TZ

    written = text.strip()
    # An hour of one digit ("2026-12-09 9:00") is read as "09:00".
    written = re.sub(r"([ T])(\d):", r"\g<1>0\2:", written, count=1)
    try:
        value = datetime.fromisoformat(written)
    except ValueError as exc:
        err.print(f"[red]Refused[/red] --at {text!r} is not a time: write e.g. '2026-12-08 09:00'")
        raise typer.Exit(2) from exc
    return value.replace(tzinfo=OFFICE_TZ) if value.tzinfo is None else value


def _follow(broadcast_id: int, every: float = 1.0) -> None:
    """A progress bar until nothing is left (or the broadcast is paused or cancelled)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("broadcast {task.fields[id]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn(
            "sent {task.fields[sent]} delivered {task.fields[delivered]} "
            "failed {task.fields[failed]} opted out {task.fields[opted_out]} "
            "left {task.fields[left]} {task.fields[rate_per_second]}/s"
        ),
        TimeRemainingColumn(),
    )
    with _broadcasts() as staff, Progress(*columns, console=out) as bar:
        shown = staff.progress(broadcast_id)
        task = bar.add_task("", **shown)  # its "total" is the bar's total
        while True:
            bar.update(task, completed=shown["total"] - shown["left"], **shown)
            if shown["status"] != "sending":
                break
            time.sleep(every)
            shown = staff.progress(broadcast_id)
    out.print(f"broadcast {broadcast_id}: {shown['status']}")

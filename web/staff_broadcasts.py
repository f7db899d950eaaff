"""Staff API of broadcasts (``/staff/api/broadcasts/…``, SPEC §10): compose with a preview, send
now or at a set time, progress (the figures of ``platebot staff broadcast send --follow``),
pause, resume, cancel, and the report of every recipient's outcome. Included in the staff API's
router (``web.staff.mount``): the same bearer token and the same refusals (``web/staff_errors.py``:
a ``Problem``; 404 no such broadcast, 409 not in a state that allows it, 422 a bad value).

The bearer token is a program's, which acts as an admin (``platebot.staff_acting``): it composes
for every office (``office_code`` null) and sees and acts on every office's broadcasts. What a
supervisor of one office may send is refused in ``core.broadcasts``, on every way in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.broadcast_ports import Audience, AudienceKind, Channels
from core.broadcasts import TEXT_MAX
from platebot.staff_broadcasts import StaffBroadcasts
from web.staff import StaffRouter
from web.staff_errors import JSON_BODY, refusals
from web.staff_models import INT_MAX, NO_NUL

NUMBERS_MAX = 200_000

BroadcastId = Annotated[
    int, Path(ge=1, le=INT_MAX, description="The broadcast's number.", examples=[1])
]


class Target(BaseModel):
    """Who a broadcast goes to, and how."""

    model_config = ConfigDict(extra="forbid")

    audience: AudienceKind = Field(description="everyone, region, bidders, unfinished_orders…")
    region_code: str | None = Field(
        default=None,
        max_length=40,
        pattern=NO_NUL,
        description="audience region: its code (4405) or its city (汕头, Shantou).",
    )
    period_id: int | None = Field(
        default=None, ge=1, le=INT_MAX, description="audience bidders: the auction period."
    )
    channels: Channels = Field(
        default=Channels.TELEGRAM_ELSE_SMS,
        description="telegram_else_sms (Telegram where linked, else SMS), sms or telegram.",
    )
    created_by: str = Field(
        default="staff", min_length=1, max_length=80, pattern=NO_NUL, description="Who sends it."
    )

    def audience_of(self, phones: list[str] | None = None) -> Audience:
        """As given: ``core.broadcasts`` checks it (numbers read as E.164, a region, a period
        or numbers for another audience refused)."""
        return Audience(
            self.audience,
            region_code=self.region_code,
            period_id=self.period_id,
            phones=tuple(phones or ()),
        )


class BroadcastIn(Target):
    text_zh: str = Field(min_length=1, max_length=TEXT_MAX, pattern=NO_NUL)
    text_en: str = Field(min_length=1, max_length=TEXT_MAX, pattern=NO_NUL)
    phones: list[Annotated[str, Field(max_length=40, pattern=NO_NUL)]] = Field(
        default_factory=list,
        max_length=NUMBERS_MAX,
        description="audience numbers: the phone numbers.",
    )


class PreviewOut(BaseModel):
    id: int
    office_code: str | None = Field(
        description="The office it belongs to (a supervisor's); null: every office's (an admin's)."
    )
    state: str
    audience: str
    channels: str
    text_zh: str
    text_en: str
    created_by: str
    created_at: str = Field(description="Asia/Shanghai.")
    send_at: str | None
    recipients: int = Field(description="Who will be sent it, on either channel.")
    telegram: int
    sms: int
    sms_segments: int = Field(description="The SMS segments it will cost.")
    opted_out: int = Field(description="Numbers that sent STOP: not sent.")
    blocked: int = Field(description="Telegram only: chats that blocked the bot.")
    unreachable: int = Field(description="Telegram only: accounts without a linked chat.")


class ProgressOut(BaseModel):
    id: int
    office_code: str | None = Field(
        description="The office it belongs to (a supervisor's); null: every office's (an admin's)."
    )
    status: str = Field(description="draft, scheduled, sending, finished, paused, cancelled.")
    audience: str
    send_at: str | None = Field(description="When it was or is to be sent (Asia/Shanghai).")
    total: int
    sent: int
    delivered: int
    failed: int
    opted_out: int = Field(description="SMS numbers that sent STOP: not sent.")
    blocked: int = Field(description="Telegram only: chats that blocked the bot.")
    unreachable: int = Field(description="Telegram only: accounts without a linked chat.")
    cancelled: int
    left: int
    rate_per_second: float = Field(
        description="Sent a second, over the last minute (or since it started, if sooner)."
    )
    seconds_to_finish: int | None = Field(
        description="At that rate; null: not started, or not sending now."
    )


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(
        default=None, description="When to send it (with its offset); unset: now."
    )


class OutcomeOut(BaseModel):
    channel: str
    address: str
    account_id: int | None
    language: str
    status: str = Field(description="sent, failed, skipped, or pending/sending: not yet.")
    delivery: str | None = Field(description="What Twilio's status callback said (SMS).")
    error: str | None
    sent_at: str | None


def router(staff: StaffBroadcasts, new_router: StaffRouter) -> APIRouter:
    api = new_router("/broadcasts", tags=["staff: broadcasts"])

    @api.post(
        "",
        status_code=201,
        summary="Compose a broadcast (a draft) and preview who gets it and the SMS cost",
        responses=refusals(*JSON_BODY),
    )
    def compose(body: BroadcastIn) -> PreviewOut:
        return PreviewOut(
            **staff.compose(
                text_zh=body.text_zh,
                text_en=body.text_en,
                audience=body.audience_of(body.phones),
                channels=body.channels,
                created_by=body.created_by,
            )
        )

    @api.get("", summary="Recent broadcasts and how far each is")
    def recent() -> list[ProgressOut]:
        return [ProgressOut(**p) for p in staff.recent()]

    @api.get("/{broadcast_id}", summary="A broadcast's progress", responses=refusals(404, 422))
    def progress(broadcast_id: BroadcastId) -> ProgressOut:
        return ProgressOut(**staff.progress(broadcast_id))

    @api.get(
        "/{broadcast_id}/preview",
        summary="Who a broadcast goes to and the SMS cost, as of now",
        responses=refusals(404, 422),
    )
    def preview(broadcast_id: BroadcastId) -> PreviewOut:
        return PreviewOut(**staff.preview(broadcast_id))

    @api.post(
        "/{broadcast_id}/send",
        summary="Send a composed broadcast now or at a set time",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def send(broadcast_id: BroadcastId, body: SendIn) -> ProgressOut:
        return ProgressOut(**staff.send(broadcast_id, at=body.at))

    def change(name: str, summary: str, action: Callable[[int], dict[str, object]]) -> None:
        @api.post(
            f"/{{broadcast_id}}/{name}",
            summary=summary,
            responses=refusals(404, 409, 422),
            operation_id=f"broadcast_{name}",
        )
        def changed(broadcast_id: BroadcastId) -> ProgressOut:
            return ProgressOut(**action(broadcast_id))

    change("pause", "Pause a broadcast being sent", staff.pause)
    change("resume", "Resume a paused broadcast", staff.resume)
    change("cancel", "Cancel a broadcast: nothing more of it is sent", staff.cancel)

    @api.get(
        "/{broadcast_id}/report",
        summary="Every recipient's outcome",
        responses=refusals(404, 422),
    )
    def report(broadcast_id: BroadcastId) -> list[OutcomeOut]:
        return [OutcomeOut(**row) for row in staff.report(broadcast_id)]

    return api

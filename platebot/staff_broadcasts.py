"""Staff broadcasts (SPEC §10) as one service over ``core.broadcasts``: each method is one
transaction and returns plain data. Shared by the staff CLI (``platebot staff broadcast …``), the
staff HTTP API (``/staff/api/broadcasts``) and the Telegram staff commands. The SMS cost of a
preview is counted by the function it is given (``sms.render.broadcast_segments``). Broadcasts
are a supervisor's work, of their office, and an admin's, of every office (``core.broadcasts``
says what an office's broadcast may go to); a clerk is refused them all, even to look. Composing,
sending, pausing, resuming and cancelling are recorded in the audit in the same transaction
(``platebot.staff_acting``); the web console's pages too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from core import broadcasts
from core.broadcast_ports import Audience, AudienceKind, Broadcast, Channels
from core.broadcasts import Preview, Progress
from core.clock import Clock, format_local
from core.ports import UnitOfWork
from core.staff import Actor, Audit, Permission
from platebot.staff_acting import Acting


def audience_of(audience: Audience) -> dict[str, Any]:
    """The audience as the console words it in the page's language
    (``staffweb.broadcasts.audience.<kind>``); ``audience`` is its English description."""
    kind = audience.kind.value
    if audience.kind is AudienceKind.UNFINISHED_ORDERS and audience.office_code:
        kind = "unfinished_orders_at"
    return {
        "kind": kind,
        "region": audience.region_code or "",
        "period": audience.period_id or 0,
        "count": len(audience.phones),
        "office": audience.office_code or "",
    }


def broadcast_view(b: Broadcast) -> dict[str, Any]:
    return {
        "id": b.id,
        "office_code": b.office_code,
        "state": b.state.value,
        "audience": b.audience.describe(),
        "audience_of": audience_of(b.audience),
        "channels": b.channels.value,
        "text_zh": b.text_zh,
        "text_en": b.text_en,
        "created_by": b.created_by,
        "created_at": format_local(b.created_at),
        "send_at": format_local(b.send_at) if b.send_at else None,
    }


def preview_view(b: Broadcast, p: Preview) -> dict[str, Any]:
    return broadcast_view(b) | counts_view(p)


def counts_view(p: Preview) -> dict[str, Any]:
    return {
        "recipients": p.recipients,
        "telegram": p.telegram,
        "sms": p.sms,
        "sms_segments": p.sms_segments,
        "opted_out": p.opted_out,
        "blocked": p.blocked,
        "unreachable": p.unreachable,
    }


def progress_view(p: Progress) -> dict[str, Any]:
    t = p.tally
    return {
        "id": p.broadcast.id,
        "office_code": p.broadcast.office_code,
        "status": p.status,
        "audience": p.broadcast.audience.describe(),
        "audience_of": audience_of(p.broadcast.audience),
        "send_at": format_local(p.broadcast.send_at) if p.broadcast.send_at else None,
        "total": t.total,
        "sent": t.sent,
        "delivered": t.delivered,
        "failed": t.failed,
        "opted_out": t.opted_out,
        "blocked": t.blocked,
        "unreachable": t.unreachable,
        "cancelled": t.cancelled,
        "left": t.left,
        "rate_per_second": round(p.rate, 1),
        "seconds_to_finish": (
            int(p.time_to_finish.total_seconds()) if p.time_to_finish is not None else None
        ),
    }


class StaffBroadcasts(Acting):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        segments: broadcasts.SegmentCounter,
        actor: Actor | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, actor)
        self.segments = segments

    def _office(self) -> str | None:
        """The office the actor broadcasts for (None: every office, an admin); a clerk is
        refused."""
        self.require(Permission.OFFICE)
        return self.actor.own_office()

    def compose(
        self,
        *,
        text_zh: str,
        text_en: str,
        audience: Audience,
        channels: Channels,
        created_by: str,
    ) -> dict[str, Any]:
        """A draft of the actor's office (an admin's: of every office), with its preview."""
        office = self._office()

        def composed(uow: UnitOfWork) -> dict[str, Any]:
            draft = broadcasts.compose(
                uow,
                text_zh=text_zh,
                text_en=text_en,
                audience=audience,
                channels=channels,
                created_by=created_by,
                office_code=office,
                now=self.clock.now(),
            )
            assert draft.id is not None  # noqa: S101 - kept: it has its id
            shown = broadcasts.preview(uow, draft.id, self.segments, office_code=office)
            return preview_view(*shown)

        return self._do(composed, lambda v: self._audit("compose", v, v["audience"]))

    @staticmethod
    def _audit(action: str, view: dict[str, Any], detail: str = "") -> Audit:
        """In the audit of the broadcast's office."""
        return Audit(f"broadcast.{action}", f"#{view['id']}", view["office_code"], detail)

    def preview_announcement(
        self, *, audience: Audience, channels: Channels, **texts: str
    ) -> dict[str, Any]:
        """Who an announcement sent as a broadcast would reach and what its SMS would cost
        (``texts``: title, body, title_en, body_en); nothing is kept."""
        office = self._office()

        def counted(uow: UnitOfWork) -> dict[str, Any]:
            p = broadcasts.preview_announcement(
                uow,
                audience=audience,
                channels=channels,
                segments=self.segments,
                office_code=office,
                **texts,
            )
            about = {"audience": audience.describe(), "audience_of": audience_of(audience)}
            return about | {"channels": channels.value} | counts_view(p)

        return self._do(counted)

    def preview(self, broadcast_id: int) -> dict[str, Any]:
        office = self._office()
        return self._do(
            lambda uow: preview_view(
                *broadcasts.preview(uow, broadcast_id, self.segments, office_code=office)
            )
        )

    def send(self, broadcast_id: int, at: datetime | None = None) -> dict[str, Any]:
        office = self._office()

        def sent(uow: UnitOfWork) -> dict[str, Any]:
            broadcasts.send(uow, broadcast_id, office_code=office, now=self.clock.now(), at=at)
            return self._progress(uow, broadcast_id, office)

        return self._do(
            sent,
            lambda v: self._audit(
                "send",
                v,
                f"{v['total']} recipients" + (f", at {format_local(at)}" if at else ""),
            ),
        )

    def _progress(self, uow: UnitOfWork, broadcast_id: int, office: str | None) -> dict[str, Any]:
        now = self.clock.now()
        return progress_view(broadcasts.progress(uow, broadcast_id, office_code=office, now=now))

    def progress(self, broadcast_id: int) -> dict[str, Any]:
        office = self._office()
        return self._do(lambda uow: self._progress(uow, broadcast_id, office))

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest broadcasts of the actor's office (an admin: of every office)."""
        office = self._office()
        return self._do(
            lambda uow: [
                progress_view(p)
                for p in broadcasts.recent(
                    uow, office_code=office, now=self.clock.now(), limit=limit
                )
            ]
        )

    def pause(self, broadcast_id: int) -> dict[str, Any]:
        return self._change(broadcasts.pause, broadcast_id)

    def resume(self, broadcast_id: int) -> dict[str, Any]:
        return self._change(broadcasts.resume, broadcast_id)

    def cancel(self, broadcast_id: int) -> dict[str, Any]:
        return self._change(broadcasts.cancel, broadcast_id)

    def _change(self, action: Callable[..., Broadcast], broadcast_id: int) -> dict[str, Any]:
        office = self._office()

        def changed(uow: UnitOfWork) -> dict[str, Any]:
            action(uow, broadcast_id, office_code=office, now=self.clock.now())
            return self._progress(uow, broadcast_id, office)

        return self._do(changed, lambda v: self._audit(action.__name__, v))

    def report(self, broadcast_id: int) -> list[dict[str, Any]]:
        """Every recipient's outcome."""
        office = self._office()

        def rows(uow: UnitOfWork) -> list[dict[str, Any]]:
            _broadcast, outcomes = broadcasts.report(uow, broadcast_id, office_code=office)
            return [
                {
                    "channel": o.channel.value,
                    "address": o.address,
                    "account_id": o.account_id,
                    "language": o.language.value,
                    "status": o.status,
                    "delivery": o.delivery,
                    "error": o.error,
                    "sent_at": format_local(o.sent_at) if o.sent_at else None,
                }
                for o in outcomes
            ]

        return self._do(rows)

    def today(self) -> dict[str, Any]:
        def counted(uow: UnitOfWork) -> dict[str, Any]:
            day, counts = broadcasts.today(uow, now=self.clock.now())
            return {
                "day": day.isoformat(),
                "registrations": counts.registrations,
                "preselections": counts.preselections,
                "sales": counts.sales,
                "bids": counts.bids,
            }

        return self._do(counted)

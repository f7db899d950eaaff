"""Staff broadcasts (SPEC §10): a notice in Chinese and English to an audience, over the channels
staff choose, now or at a set time, after a preview of who gets it and what the SMS cost.

- **Compose** (``compose``): both texts, an ``Audience`` (everyone, the accounts of one region,
  the bidders of one auction period, the accounts with an unfinished order, or a list of phone
  numbers) and the ``Channels`` (Telegram where a chat is linked and has not blocked the bot,
  else SMS; SMS only; Telegram only). It is a draft until sent.
- **Preview** (``preview``): recipients per channel, the ones passed over (SMS numbers that sent
  STOP, chats that blocked the bot, accounts without a chat for Telegram only) and the SMS
  segments it will cost, counted by the ``SegmentCounter`` the caller gives (core imports no
  channel). The store routes the audience (who goes by which channel, who is passed over) in
  the database, rules in ``BroadcastRepository.routes``; the preview counts that routing.
- **Send** (``send``): now, or at a set time (``start_due``, a timer step, starts it then). It is
  fanned out into outbox rows at ``Priority.BROADCAST`` in one transaction, by one statement
  that routes the audience as the preview counted it;
  each recipient's row has the unique key ``broadcast:<id>:<channel>:<address>``, so nobody is
  written twice (a broadcast is started once: its state is checked under its row lock), and the
  outbox's leases let a restarted server go on where the dead one
  stopped. Recipients who cannot be reached get a row settled as skipped at once: every
  recipient's outcome is in the report.
- **Pause, resume, cancel**: the broadcast's rows still waiting are held (due at ``HELD``),
  released (due now) or settled as skipped; a batch a dispatcher has already claimed still goes.
- **Progress** (``progress``): sent, delivered, failed, opted out, left, the rate over the last
  minute and the time to finish at that rate.
- **Offices** (SPEC §10: a supervisor does everything *of their office*): a broadcast belongs to
  the office it is composed for (``office_code``), or to none, every office's, which is an
  admin's. An office's broadcast goes to the region that office serves, the bidders of a period
  whose lots are all that office's, the unfinished orders at that office, or a list of numbers;
  never to everyone (``_for_office``). Staff acting for an office see and act on its broadcasts
  only: another's is not found for them, as if it did not exist.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from core.accounts import Language
from core.broadcast_ports import (
    BLOCKED,
    CANCELLED,
    NO_CHAT,
    OPTED_OUT,
    TELEGRAM_OFF,
    AnnouncementTooLong,
    Audience,
    AudienceInvalid,
    AudienceKind,
    AudienceMismatch,
    Broadcast,
    BroadcastNotFound,
    BroadcastState,
    BroadcastStateRefused,
    BroadcastTextInvalid,
    Channels,
    DayCounts,
    EveryoneNotForAnOffice,
    NumbersInvalid,
    Outcome,
    PeriodNotYours,
    RegionAmbiguous,
    RegionNotYours,
    SendTimePassed,
    Tally,
)
from core.clock import OFFICE_TZ
from core.errors import InvalidPhone, UnknownRegion
from core.info import Announcement
from core.outbox import Channel, Priority, message
from core.phone import normalise_phone
from core.ports import UnitOfWork
from core.regions import find_regions
from core.staff import AuditEntry, NotAllowed
from core.timers import TimerStep
from core.wiring import Wiring

TEXT_MAX = 1000  # characters of each language's text
RATE_WINDOW = timedelta(minutes=1)
BODY_KEY = "broadcast.body"  # the catalog text a delivery shows: the text in its language


# ``SegmentCounter``: how many SMS segments a text costs (``sms.segments.segment_count`` with
# the channel's rendering around it).
SegmentCounter = Callable[[str, Language], int]


# -- use cases ---------------------------------------------------------------------------------


def _text(value: str, language: str) -> str:
    text = value.strip()
    if not text or len(text) > TEXT_MAX or "\x00" in text:
        raise BroadcastTextInvalid(language_key=f"broadcast.language.{language}", maximum=TEXT_MAX)
    return text


def _audience(uow: UnitOfWork, audience: Audience) -> Audience:
    """The audience checked: a region, a period or numbers given for an audience that does not
    use them is refused, not ignored (the staff member meant another audience)."""
    given = {
        AudienceKind.REGION: audience.region_code is not None,
        AudienceKind.BIDDERS: audience.period_id is not None,
        AudienceKind.NUMBERS: bool(audience.phones),
    }
    for kind, present in given.items():
        if present and kind is not audience.kind:
            raise AudienceMismatch(
                given_key=f"broadcast.given.{kind.value}",
                audience_key=f"broadcast.audience.{audience.kind.value}",
            )
    if audience.kind is AudienceKind.REGION:
        return Audience(AudienceKind.REGION, region_code=region_code(audience.region_code or ""))
    if audience.kind is AudienceKind.BIDDERS:
        period = audience.period_id
        if period is None or not uow.broadcasts.period_exists(period):
            raise AudienceInvalid(reason_key="broadcast.reason.period")
        return Audience(AudienceKind.BIDDERS, period_id=period)
    if audience.kind is AudienceKind.NUMBERS:
        # Every way in (a CSV, the API's list, the web console's box) ends here: each number
        # in E.164, so that an opted-out number and a number's account are found whatever way
        # it was typed, and anything that is not a mobile number refuses the list.
        return Audience(AudienceKind.NUMBERS, phones=phones_from(enumerate(audience.phones, 1)))
    return Audience(audience.kind)


def audiences_for(office_code: str | None) -> list[AudienceKind]:
    """The audiences a broadcast of ``office_code`` may have (None: of every office: all)."""
    return [k for k in AudienceKind if office_code is None or k is not AudienceKind.EVERYONE]


def _for_office(uow: UnitOfWork, audience: Audience, office_code: str | None) -> Audience:
    """The audience, checked for a broadcast of ``office_code`` (None: of every office, an
    admin's: any audience): the region that office serves, the bidders of a period whose lots
    are all that office's, the unfinished orders at that office (the audience narrowed to them)
    or a list of numbers. Everyone is every office's people: refused, naming the region."""
    if office_code is None:
        return audience
    office = uow.offices.by_code(office_code)
    own = office.region_code if office is not None else ""
    if audience.kind not in audiences_for(office_code):
        raise EveryoneNotForAnOffice(office=office_code, region=own)
    if audience.kind is AudienceKind.REGION and audience.region_code != own:
        raise RegionNotYours(region=audience.region_code or "", office=office_code, own=own)
    if audience.kind is AudienceKind.BIDDERS:
        lots = uow.auctions.lots(audience.period_id or 0)
        if office is None or not lots or any(lot.office_id != office.id for lot in lots):
            raise PeriodNotYours(period=audience.period_id or 0, office=office_code)
    if audience.kind is AudienceKind.UNFINISHED_ORDERS:
        return replace(audience, office_code=office_code)
    return audience


def region_code(query: str) -> str:
    """A region as staff name it: its code (``4405``), or its city in Chinese or English
    (``汕头``, ``Shantou``); refused when unknown, or when the name fits several."""
    text = query.strip()
    if not text:
        raise AudienceInvalid(reason_key="broadcast.reason.region")
    found = find_regions(text)  # a code that is not a region's finds none
    if not found:
        raise UnknownRegion(query=text)
    if len(found) > 1:
        raise RegionAmbiguous(
            query=text, choices=", ".join(f"{r.code} {r.name}" for r in found[:5])
        )
    return found[0].code


def phones_from_csv(text: str) -> tuple[str, ...]:
    """The phone numbers of a CSV (the first column; a header line is allowed), each once, in
    E.164. Lines that are not mobile numbers refuse the whole list, naming the first few."""
    cells = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = row[0].strip() if row else ""
        if cell and not (line == 1 and not any(ch.isdigit() for ch in cell)):
            cells.append((line, cell))
    return phones_from(cells)


def phones_from(cells: Iterable[tuple[int, str]]) -> tuple[str, ...]:
    """The numbers of (line, text) pairs, each once, in E.164; lines that are not mobile
    numbers refuse the whole list, naming the first few."""
    phones: list[str] = []
    bad: list[int] = []
    for line, cell in cells:
        try:
            phones.append(normalise_phone(cell))
        except InvalidPhone:
            bad.append(line)
    if bad:
        raise NumbersInvalid(lines=", ".join(map(str, bad[:5])), count=len(bad))
    if not phones:
        raise AudienceInvalid(reason_key="broadcast.reason.numbers")
    return tuple(dict.fromkeys(phones))


def compose(
    uow: UnitOfWork,
    *,
    text_zh: str,
    text_en: str,
    audience: Audience,
    channels: Channels,
    created_by: str,
    office_code: str | None,
    now: datetime,
) -> Broadcast:
    """A draft of ``office_code`` (None: of every office, an admin's): checked, kept, not sent.
    A region, a period or numbers given for another audience are refused before what the
    office may send to (``_for_office``)."""
    checked = _for_office(uow, _audience(uow, audience), office_code)
    broadcast = Broadcast(
        text_zh=_text(text_zh, "zh"),
        text_en=_text(text_en, "en"),
        audience_kind=checked.kind,
        channels=channels,
        created_by=created_by.strip()[:80] or "staff",
        created_at=now,
        region_code=checked.region_code,
        period_id=checked.period_id,
        phones=list(checked.phones),
        office_code=office_code,
    )
    uow.broadcasts.add(broadcast)
    return broadcast


@dataclass(frozen=True)
class Preview:
    recipients: int  # who will be sent it, on either channel
    sms: int
    telegram: int
    opted_out: int  # SMS numbers that sent STOP
    blocked: int  # Telegram only: chats that blocked the bot
    unreachable: int  # Telegram only: no chat linked (or Telegram off on this server)
    sms_segments: int  # what the SMS will cost, in segments


def preview(
    uow: UnitOfWork, broadcast_id: int, segments: SegmentCounter, *, office_code: str | None
) -> tuple[Broadcast, Preview]:
    broadcast = _get(uow, broadcast_id, office_code)
    texts = {language: broadcast.text(language) for language in Language}
    return broadcast, _counted(uow, broadcast.audience, broadcast.channels, texts, segments)


def preview_announcement(
    uow: UnitOfWork,
    *,
    title: str,
    body: str,
    title_en: str,
    body_en: str,
    audience: Audience,
    channels: Channels,
    segments: SegmentCounter,
    office_code: str | None,
) -> Preview:
    """What an announcement sent as a broadcast (``of_announcement``) of ``office_code`` would
    reach and cost, before it is published: nothing is kept."""
    zh, en = announcement_texts(title, body, title_en, body_en)
    texts = {Language.ZH: zh, Language.EN: en}
    checked = _for_office(uow, _audience(uow, audience), office_code)
    return _counted(uow, checked, channels, texts, segments)


def _counted(
    uow: UnitOfWork,
    audience: Audience,
    channels: Channels,
    texts: dict[Language, str],
    segments: SegmentCounter,
) -> Preview:
    cost = {language: segments(texts[language], language) for language in Language}
    sms = telegram = opted_out = blocked = unreachable = sms_segments = 0
    for route in uow.broadcasts.routes(audience, channels):
        if route.skip in (NO_CHAT, TELEGRAM_OFF):
            unreachable += route.recipients
        elif route.skip == OPTED_OUT:
            opted_out += route.recipients
        elif route.skip == BLOCKED:
            blocked += route.recipients
        elif route.channel is Channel.SMS:
            sms += route.recipients
            sms_segments += route.recipients * cost[route.language]
        else:
            telegram += route.recipients
    return Preview(
        recipients=sms + telegram,
        sms=sms,
        telegram=telegram,
        opted_out=opted_out,
        blocked=blocked,
        unreachable=unreachable,
        sms_segments=sms_segments,
    )


def send(
    uow: UnitOfWork,
    broadcast_id: int,
    *,
    office_code: str | None,
    now: datetime,
    at: datetime | None = None,
) -> Broadcast:
    """Send a draft now (its rows are written in this transaction) or at ``at``. What its office
    may send to is checked again: a period's lots may have changed since it was composed."""
    broadcast = _get(uow, broadcast_id, office_code, lock=True)
    broadcast._refuse_unless(BroadcastState.DRAFT)
    _for_office(uow, broadcast.audience, broadcast.office_code)
    if at is not None and at > now:
        broadcast.state = BroadcastState.SCHEDULED
        broadcast.send_at = at
        return broadcast
    if at is not None and at < now - timedelta(minutes=1):
        raise SendTimePassed()
    broadcast.send_at = now
    _start(uow, broadcast, now)
    return broadcast


def of_announcement(
    uow: UnitOfWork,
    announcement: Announcement,
    *,
    audience: Audience,
    channels: Channels,
    created_by: str,
    office_code: str | None,
    now: datetime,
) -> Broadcast:
    """An announcement just published, sent now as a broadcast of ``office_code`` (in the same
    transaction): its title and text in each recipient's language (``announcement_texts``)."""
    zh, en = announcement_texts(
        announcement.title, announcement.body, announcement.title_en, announcement.body_en
    )
    broadcast = compose(
        uow,
        text_zh=zh,
        text_en=en,
        audience=audience,
        channels=channels,
        created_by=created_by,
        office_code=office_code,
        now=now,
    )
    return send(uow, _id(broadcast), office_code=office_code, now=now)


def announcement_texts(title: str, body: str, title_en: str, body_en: str) -> tuple[str, str]:
    """An announcement as a broadcast's texts: title and body, the English one with the Chinese
    title or body where it has no English one (as the information screens show it). Longer
    than a broadcast takes (``TEXT_MAX``) is refused: it would be published but not sent."""
    zh = f"{title.strip()}\n{body.strip()}"
    en = f"{(title_en.strip() or title.strip())}\n{(body_en.strip() or body.strip())}"
    for language, text in ((Language.ZH, zh), (Language.EN, en)):
        if len(text) > TEXT_MAX:
            raise AnnouncementTooLong(
                language_key=f"broadcast.language.{language.value}", maximum=TEXT_MAX
            )
    return zh, en


def _id(broadcast: Broadcast) -> int:
    if broadcast.id is None:  # pragma: no cover - a broadcast is kept before it is sent
        raise BroadcastNotFound(id=0)
    return broadcast.id


def _start(uow: UnitOfWork, broadcast: Broadcast, now: datetime) -> int:
    """Write every recipient's row; returns how many were written."""
    broadcast_id = _id(broadcast)
    broadcast.state = BroadcastState.SENDING
    broadcast.started_at = now
    params = {language: {"text": broadcast.text(language)} for language in Language}
    template = message(
        channel=Channel.SMS,
        recipient="",
        key=BODY_KEY,
        params={},
        language=Language.ZH,
        now=now,
        dedupe_key="",
        priority=Priority.BROADCAST,
    )
    template.broadcast_id = broadcast_id
    return uow.broadcasts.enqueue(template, broadcast.audience, broadcast.channels, params)


def start_due(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: scheduled broadcasts whose time has come are started. What their office may
    send to is checked again, as ``send`` does: one no longer allowed (a period given another
    office's lot meanwhile) is cancelled instead, and the audit says why."""
    due = uow.broadcasts.claim_due(now, limit)
    for broadcast in due:
        if broadcast.state is not BroadcastState.SCHEDULED:
            continue
        try:
            _for_office(uow, broadcast.audience, broadcast.office_code)
        except NotAllowed as refused:
            broadcast.state = BroadcastState.CANCELLED
            broadcast.cancelled_at = now
            uow.staff.add_audit(
                AuditEntry(
                    at=now,
                    actor="platebot",
                    source="timer",
                    address="",
                    action="broadcast.cancel",
                    target=f"#{_id(broadcast)}",
                    office_code=broadcast.office_code,
                    detail=f"not sent at its time: {refused.code} {refused.params}",
                )
            )
            continue
        _start(uow, broadcast, now)
    return len(due)


def pause(
    uow: UnitOfWork, broadcast_id: int, *, office_code: str | None, now: datetime
) -> Broadcast:
    broadcast = _get(uow, broadcast_id, office_code, lock=True)
    broadcast._refuse_unless(BroadcastState.SENDING)
    _refuse_if_finished(uow, broadcast, now)
    broadcast.state = BroadcastState.PAUSED
    broadcast.paused_at = now
    uow.broadcasts.hold(broadcast_id)
    return broadcast


def resume(
    uow: UnitOfWork, broadcast_id: int, *, office_code: str | None, now: datetime
) -> Broadcast:
    broadcast = _get(uow, broadcast_id, office_code, lock=True)
    broadcast._refuse_unless(BroadcastState.PAUSED)
    broadcast.state = BroadcastState.SENDING
    broadcast.paused_at = None
    uow.broadcasts.release(broadcast_id, now)
    return broadcast


def cancel(
    uow: UnitOfWork, broadcast_id: int, *, office_code: str | None, now: datetime
) -> Broadcast:
    """A draft, a scheduled one, or one sending or paused: nothing more of it is sent."""
    broadcast = _get(uow, broadcast_id, office_code, lock=True)
    broadcast._refuse_unless(
        BroadcastState.DRAFT,
        BroadcastState.SCHEDULED,
        BroadcastState.SENDING,
        BroadcastState.PAUSED,
    )
    if broadcast.state is BroadcastState.SENDING:
        _refuse_if_finished(uow, broadcast, now)
    broadcast.state = BroadcastState.CANCELLED
    broadcast.cancelled_at = now
    uow.broadcasts.drop_waiting(broadcast_id, CANCELLED)
    return broadcast


def _refuse_if_finished(uow: UnitOfWork, broadcast: Broadcast, now: datetime) -> None:
    """One sending with nothing left to send has been sent: it cannot be paused or cancelled."""
    if uow.broadcasts.tally(_id(broadcast), now).left == 0:
        raise BroadcastStateRefused(state_key="broadcast.state.finished")


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    tally: Tally
    rate: float  # messages sent a second, over the last minute
    time_to_finish: timedelta | None  # at that rate; None when nothing is being sent

    @property
    def finished(self) -> bool:
        return self.broadcast.state is BroadcastState.SENDING and self.tally.left == 0

    @property
    def status(self) -> str:
        """The state, with ``finished`` for one sending that has nothing left."""
        return "finished" if self.finished else self.broadcast.state.value


def progress(
    uow: UnitOfWork, broadcast_id: int, *, office_code: str | None, now: datetime
) -> Progress:
    """The rate is over the last minute, or over the time since it started when that is
    shorter (at least a second); the time to finish is at that rate, None until it starts."""
    broadcast = _get(uow, broadcast_id, office_code)
    window = RATE_WINDOW
    if broadcast.started_at is not None:
        window = max(min(window, now - broadcast.started_at), timedelta(seconds=1))
    tally = uow.broadcasts.tally(broadcast_id, now - window)
    rate = tally.sent_recently / window.total_seconds()
    to_finish: timedelta | None = None
    if broadcast.started_at is not None and tally.left == 0:
        to_finish = timedelta(0)
    elif rate > 0 and broadcast.state is BroadcastState.SENDING:
        to_finish = timedelta(seconds=math.ceil(tally.left / rate))
    return Progress(broadcast, tally, rate, to_finish)


def recent(
    uow: UnitOfWork, *, office_code: str | None, now: datetime, limit: int = 10
) -> list[Progress]:
    """The newest broadcasts of ``office_code`` (None: of every office and of none)."""
    return [
        progress(uow, b.id, office_code=office_code, now=now)
        for b in uow.broadcasts.recent(limit, office_code)
        if b.id is not None
    ]


def report(
    uow: UnitOfWork, broadcast_id: int, *, office_code: str | None
) -> tuple[Broadcast, list[Outcome]]:
    """Every recipient's outcome."""
    broadcast = _get(uow, broadcast_id, office_code)
    return broadcast, uow.broadcasts.outcomes(broadcast_id)


def today(uow: UnitOfWork, *, now: datetime) -> tuple[date, DayCounts]:
    """Today's counts, the day as the office keeps it (China time)."""
    day = now.astimezone(OFFICE_TZ).date()
    start = datetime.combine(day, time(0), OFFICE_TZ)
    return day, uow.broadcasts.day_counts(start, start + timedelta(days=1))


def _get(
    uow: UnitOfWork, broadcast_id: int, office_code: str | None, *, lock: bool = False
) -> Broadcast:
    """The broadcast, for staff acting for ``office_code`` (None: for every office): another
    office's, or one of every office's, is not found for them."""
    broadcast = uow.broadcasts.get(broadcast_id, lock=lock)
    if broadcast is None or (office_code is not None and broadcast.office_code != office_code):
        raise BroadcastNotFound(id=broadcast_id)
    return broadcast


def wire(wiring: Wiring) -> None:
    wiring.timer(TimerStep("start scheduled broadcasts", start_due))

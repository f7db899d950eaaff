"""Test helpers for staff broadcasts: people with SMS numbers, linked Telegram chats, opt-outs
and blocked chats; an app whose SMS and Telegram senders keep what they are given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.broadcast_ports import Audience, AudienceKind, Channels
from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from platebot.staff_broadcasts import StaffBroadcasts
from sms.render import broadcast_segments
from store.sms_tables import sms_opt_outs
from store.tables import outbox
from store.telegram_tables import telegram_chats
from tests.preselect_world import add_accounts, person
from tests.support import CapturingSender

EVERYONE = Audience(AudienceKind.EVERYONE)


@dataclass
class BroadcastWorld:
    """An app with capturing senders on both channels, and the staff's broadcast service."""

    db: Engine
    clock: ManualClock
    sms: CapturingSender = field(default_factory=CapturingSender)
    telegram: CapturingSender = field(default_factory=CapturingSender)

    def __post_init__(self) -> None:
        settings = Settings(database_url=str(self.db.url), secret_key="test-secret")
        self.app: App = build_app(
            settings,
            clock=self.clock,
            senders={Channel.SMS: self.sms, Channel.TELEGRAM: self.telegram},
            db=self.db,
            upgrade=False,
        )
        self.staff = StaffBroadcasts(self.app.uow, self.clock, broadcast_segments)
        self._people = 0

    def person(
        self,
        *,
        language: Language = Language.ZH,
        region: str = "4405",
        chat: str | None = None,
        blocked: bool = False,
        opted_out: bool = False,
    ) -> tuple[int, str]:
        """An account (its id and number), with a linked chat if ``chat`` is given."""
        self._people += 1
        phone = self.phone(self._people)
        account = person(phone=phone, id_number=_id_number(self._people), region_code=region)
        account.language = language
        account_id = add_accounts(self.app, account)[0]
        now = self.clock.now()
        with self.app.uow() as uow:
            if chat is not None:
                uow.contacts.link(channel="telegram", address=chat, account_id=account_id, now=now)
            uow.commit()
        if chat is not None:
            self.chat_seen(chat, blocked=blocked)
        if opted_out:
            self.opt_out(phone)
        return account_id, phone

    @staticmethod
    def phone(n: int) -> str:
        """The number of the ``n``-th person made."""
        return f"+86139{n:08d}"

    def chat_seen(self, chat: str, *, blocked: bool = False) -> None:
        now = self.clock.now()
        with self.db.begin() as conn:
            conn.execute(
                sa.insert(telegram_chats).values(
                    chat_id=chat,
                    first_seen_at=now,
                    last_seen_at=now,
                    unreachable_since=now if blocked else None,
                    unreachable_reason="Forbidden: bot was blocked by the user"
                    if blocked
                    else None,
                )
            )

    def opt_out(self, phone: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                sa.insert(sms_opt_outs).values(
                    phone=phone, reason="STOP", opted_out_at=self.clock.now()
                )
            )

    def compose(
        self,
        audience: Audience = EVERYONE,
        channels: Channels = Channels.TELEGRAM_ELSE_SMS,
        *,
        zh: str = "明天上午车管所系统维护，暂停办理。",
        en: str = "The office system is down for maintenance tomorrow morning.",
    ) -> dict[str, Any]:
        return self.staff.compose(
            text_zh=zh, text_en=en, audience=audience, channels=channels, created_by="王科长"
        )

    def dispatch(self) -> int:
        """Dispatcher rounds until nothing more is due now."""
        total = 0
        while (done := self.app.dispatcher.run_once()) > 0:
            total += done
        return total

    def rows(self, broadcast_id: int) -> list[tuple[str, str, str]]:
        """(channel, recipient, status) of the broadcast's outbox rows."""
        with self.db.connect() as conn:
            query = (
                sa.select(outbox.c.channel, outbox.c.recipient, outbox.c.status)
                .where(outbox.c.broadcast_id == broadcast_id)
                .order_by(outbox.c.id)
            )
            return [(str(c), r, str(s)) for c, r, s in conn.execute(query)]


def _id_number(n: int) -> str:
    """A valid resident ID number per person (the check digit computed)."""
    from stdnum.cn import ric  # noqa: PLC0415

    body = f"44030419900101{n:03d}"
    return body + ric.calc_check_digit(body)

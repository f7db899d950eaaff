"""The SMS channel: one inbound SMS in, the SMS to answer it with out.

The channel answers STOP, START, HELP and "N" (next page) itself; everything else is a turn of the
dialogs. The sender's number is the user (``user_key``) and the account's number. A MessageSid
delivered twice by the same number is answered with the same messages and changes nothing: the
dialog engine drops a duplicate turn and gives back the reply it kept, and the channel keeps its
own answers (to STOP, START, HELP, "N") under the number and the MessageSid. The same MessageSid
from another number is another message (a duplicate is recognised by sender and id).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine as SqlEngine

from core.accounts import Language
from core.clock import Clock
from core.masking import describe_error, mask_phone
from core.notices import NoticeKind, notify
from dialogs.catalog import render_text
from dialogs.engine import Engine
from dialogs.replies import Inbound, Reply, Text
from sms.keywords import SmsWord, sms_word
from sms.records import CHANNEL, Pages, SmsRecords
from sms.render import render_pages
from store.db import reading_only

INBOUND_PATH = "/sms/twilio"  # Twilio's webhook for inbound SMS
STATUS_PATH = "/sms/twilio/status"  # and for the status of messages we sent
UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"

log = logging.getLogger(__name__)

# "Busy, send it again" when the sender's language cannot be known (it is in the database).
BUSY_IN_EVERY_LANGUAGE = "\n".join(render_text(Text("sms.busy"), language) for language in Language)


@dataclass(frozen=True, slots=True)
class IncomingSms:
    """An inbound SMS as Twilio posts it: MessageSid, From (E.164), Body, OptOutType."""

    message_sid: str
    phone: str
    text: str
    opt_out_type: str | None = None


class SmsChannel:
    def __init__(
        self,
        dialogs: Engine,
        db: SqlEngine,
        clock: Clock,
        *,
        budget: int,
        default_language: Language,
        idle_minutes: int,
    ) -> None:
        self.dialogs = dialogs
        self.db = db
        self.clock = clock
        self.budget = budget
        self.default_language = default_language
        self.pages_last = timedelta(minutes=idle_minutes)

    def receive(self, sms: IncomingSms) -> list[str]:
        """Handle one inbound SMS; returns the SMS to answer with (in the TwiML response)."""
        word = sms_word(sms.text, sms.opt_out_type)
        if word is None:  # the usual case: one dialog turn, nothing else to keep
            return self._answer(sms, self._turn(sms, sms.text))
        answered = self._answered(sms)
        if answered is not None:
            return answered
        if word is SmsWord.STOP:
            return self._stop(sms)
        if word is SmsWord.START:
            return self._start(sms)
        if word is SmsWord.HELP:  # what the service is and how to stop, then where one stands
            help_first = _with_first(Text("sms.help"), self._turn(sms, ""))
            return self._answer(sms, help_first, remember=True)
        return self._next_page(sms) or self._answer(sms, self._turn(sms, sms.text))

    def record_status(
        self, message_sid: str, status: str, error_code: int | None, phone: str | None
    ) -> None:
        """Twilio's delivery status of a message we sent; 21610 means the number opted out."""
        now = self.clock.now()
        with SmsRecords.begin(self.db) as records:
            records.record_status(message_sid, status, error_code, now)
            if (
                error_code == UNSUBSCRIBED
                and phone
                and records.opt_out(phone, reason="twilio 21610", now=now)
            ):
                log.info("%s opted out (Twilio 21610)", mask_phone(phone))

    def busy(self, phone: str) -> str:
        """ "Busy, send it again" in the language of the number's conversation: read without
        waiting for the write lock (which may be what keeps the turn from running); in every
        language if even that fails."""
        try:
            with reading_only(), SmsRecords.begin(self.db) as records:
                language = records.language_of(phone) or self.default_language
        except Exception as error:
            log.warning(
                "the language of %s is unknown: %s", mask_phone(phone), describe_error(error)
            )
            return BUSY_IN_EVERY_LANGUAGE
        return render_text(Text("sms.busy"), language)

    def send_later(self, phone: str, messages: list[str]) -> None:
        """``messages`` go to ``phone`` as SMS through the outbox (an answer the webhook could
        no longer give)."""
        now = self.clock.now()
        with self.dialogs.uow_factory() as uow:
            for number, text in enumerate(messages):
                notify(
                    uow,
                    phone=phone,
                    kind=NoticeKind.URGENT,  # a reply: ahead of broadcasts
                    key="raw",
                    params={"text": text},
                    dedupe_key=f"late-reply:{phone}:{now.isoformat()}:{number}",
                    language=self.default_language,
                    now=now,
                )
            uow.commit()

    # -- the words the channel answers itself --------------------------------------------

    def _answered(self, sms: IncomingSms) -> list[str] | None:
        with SmsRecords.begin(self.db) as records:
            return records.answered(sms.phone, sms.message_sid)

    def _stop(self, sms: IncomingSms) -> list[str]:
        now = self.clock.now()
        with SmsRecords.begin(self.db) as records:
            language = records.language_of(sms.phone) or self.default_language
            messages = [render_text(Text("sms.stopped"), language)]
            if not records.remember(sms.message_sid, sms.phone, messages, now):
                return records.answered(sms.phone, sms.message_sid) or []
            if records.opt_out(sms.phone, reason="stop", now=now):
                log.info("%s opted out of SMS", mask_phone(sms.phone))
            return messages

    def _start(self, sms: IncomingSms) -> list[str]:
        with SmsRecords.begin(self.db) as records:
            was_out = records.opt_in(sms.phone)
        if was_out:
            log.info("%s opted in to SMS again", mask_phone(sms.phone))
        reply = self._turn(sms, "start")  # the main menu
        if was_out:
            reply = _with_first(Text("sms.started"), reply)
        return self._answer(sms, reply, remember=True)

    def _next_page(self, sms: IncomingSms) -> list[str] | None:
        """The next page of the prompt the user sees now, if one waits."""
        now = self.clock.now()
        with SmsRecords.begin(self.db) as records:
            waiting = records.pages(sms.phone)
            if (
                waiting is None
                or now - waiting.created_at > self.pages_last
                or waiting.token != records.prompt_token(sms.phone)
            ):
                return None
            page, *rest = waiting.pages
            if not records.remember(sms.message_sid, sms.phone, [page], now):
                return records.answered(sms.phone, sms.message_sid) or []
            records.turn_pages(sms.phone, rest)
            return [page]

    # -- a dialog turn -------------------------------------------------------------------

    def _turn(self, sms: IncomingSms, text: str) -> Reply:
        return self.dialogs.handle(
            Inbound(
                channel=CHANNEL,
                user_key=sms.phone,
                text=text,
                message_id=sms.message_sid,
                sender_phone=sms.phone,
            )
        )

    def _answer(self, sms: IncomingSms, reply: Reply, *, remember: bool = False) -> list[str]:
        """The first page of ``reply``; the rest waits for "N".

        A dialog turn that fits one SMS writes nothing more: a second delivery of its MessageSid
        gets the reply the engine kept, rendered the same way. Pages belong to the prompt they
        were made for, so a second delivery of an older turn cannot bring them back.
        ``remember``: keep the answer under the MessageSid (the channel's own words)."""
        first, *rest = render_pages(reply, self.budget)
        if not rest and not remember:
            return [first]
        now = self.clock.now()
        with SmsRecords.begin(self.db) as records:
            if remember and not records.remember(sms.message_sid, sms.phone, [first], now):
                return records.answered(sms.phone, sms.message_sid) or []
            token = reply.prompt_token or records.prompt_token(sms.phone)
            if rest and token is not None:
                records.keep_pages(sms.phone, Pages(rest, token, reply.language, now))
        return [first]


def _with_first(line: Text, reply: Reply) -> Reply:
    return dataclasses.replace(reply, lines=(line, *reply.lines))

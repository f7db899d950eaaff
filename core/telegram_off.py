"""Notices queued for a Telegram chat while no process sends Telegram (the server restarted
without its bot token): nothing would send them, and none may be lost. New notices are routed by
SMS already (``core.notices``: no chat is reachable then); what was queued before is settled
here, by the process that sends SMS, each row with what replaces it in one transaction:

- a personal notice (an outbid notice, a lot's result, a payment due, an order's news) goes to
  the account's SMS number instead: a new SMS row keyed after the Telegram one (``:sms``), with
  its priority and coalesce key, and the Telegram row skipped (``SENT_BY_SMS``). The SMS row is
  a notice like any other: a number that sent STOP is skipped when its turn comes;
- a live message (the auction room's) edits a message in the chat: skipped (``LIVE_TELEGRAM_OFF``),
  as SMS users ask for the room's state instead;
- a code (a bidder's number and room code) is written for the SMS number anyway, the chat's
  being a copy: skipped (``CODE_BY_SMS``), not sent by SMS twice;
- a broadcast's message goes by SMS when the staff chose Telegram where linked, else SMS (the
  chat cannot be reached: SMS is what that choice means then), and a broadcast for Telegram only
  reaches nobody (``TELEGRAM_OFF``, counted as a broadcast sent on such a server counts it).

Only rows due for a while, and only while no dispatcher has held Telegram's lane for as long:
a server process with Telegram beside this one (or one starting) sends them itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from core import otp
from core.broadcast_ports import TELEGRAM_OFF, Channels
from core.outbox import REPLACED_BY_LATER, Channel, OutboxMessage, OutboxStatus, Priority

if TYPE_CHECKING:
    from core.ports import UnitOfWork

SENT_BY_SMS = "Telegram is not configured on this server: sent by SMS instead"
LIVE_TELEGRAM_OFF = "Telegram is not configured on this server: a live message has no SMS form"
CODE_BY_SMS = "Telegram is not configured on this server: a code goes by SMS, as this one did"
NO_NUMBER = "Telegram is not configured on this server, and no SMS number to send it to"
_KEY_MOST = 120  # the outbox's dedupe key column


def send_by_sms_instead(uow: UnitOfWork, *, now: datetime, since: datetime, limit: int) -> int:
    """Settle up to ``limit`` Telegram rows due by ``since`` as above, if no dispatcher has held
    Telegram's lane since then; returns how many were settled. The SMS rows are due ``now``."""
    if not uow.outbox.lane_free(Channel.TELEGRAM, since):
        return 0
    due = uow.outbox.claim_due(Channel.TELEGRAM, since, limit)
    if not due:
        return 0
    accounts = uow.accounts.views(
        {item.message.account_id for item in due if item.message.account_id is not None}
    )
    chosen: dict[int, Channels | None] = {}
    changes: list[tuple[OutboxMessage, OutboxStatus, int]] = []
    instead: list[tuple[int | None, OutboxMessage]] = []  # (the Telegram row, its SMS)
    for item in due:
        message = item.message
        changes.append((message, message.status, message.attempts))
        account = accounts.get(message.account_id) if message.account_id is not None else None
        if item.superseded:  # a later one about the same thing stands (or went) instead
            message.skipped(REPLACED_BY_LATER)
        elif message.live_key is not None:
            message.skipped(LIVE_TELEGRAM_OFF)
        elif message.priority <= Priority.CODE or otp.NONCE_PARAM in message.params:
            message.skipped(CODE_BY_SMS)
        elif (
            message.broadcast_id is not None
            and _channels(uow, message.broadcast_id, chosen) is not Channels.TELEGRAM_ELSE_SMS
        ):
            message.skipped(TELEGRAM_OFF)
        elif account is None:
            message.skipped(NO_NUMBER)
        else:
            instead.append((message.id, _by_sms(message, account.phone, now)))  # params kept
            message.skipped(SENT_BY_SMS)
    written = uow.outbox.update_all(changes)
    for message_id, sms in instead:
        if message_id in written:  # still as claimed: its SMS is this transaction's to write
            uow.outbox.add(sms)
    return len(written)


def _channels(
    uow: UnitOfWork, broadcast_id: int, chosen: dict[int, Channels | None]
) -> Channels | None:
    """The channels staff chose for the broadcast (read once a batch)."""
    if broadcast_id not in chosen:
        broadcast = uow.broadcasts.get(broadcast_id)
        chosen[broadcast_id] = broadcast.channels if broadcast is not None else None
    return chosen[broadcast_id]


def _by_sms(message: OutboxMessage, phone: str, now: datetime) -> OutboxMessage:
    """The same notice to ``phone``, due now; written when the Telegram one was (so a notice
    written since, under the same coalesce key, still stands over it)."""
    return replace(
        message,
        channel=Channel.SMS,
        recipient=phone,
        dedupe_key=_sms_key(message.dedupe_key),
        params=dict(message.params),
        choices=list(message.choices),
        live_key=None,
        status=OutboxStatus.PENDING,
        due_at=now,
        attempts=0,
        sent_at=None,
        last_error=None,
        provider_id=None,
        sending_since=None,
        in_doubt=False,
        id=None,
    )


def _sms_key(key: str) -> str:
    """The SMS row's dedupe key: the Telegram row's with ``:sms`` (a digest of it if that would
    not fit the column), so the notice is sent by SMS once however often this runs."""
    derived = f"{key}:sms"
    if len(derived) <= _KEY_MOST:
        return derived
    return f"sms:{hashlib.sha256(key.encode()).hexdigest()}"

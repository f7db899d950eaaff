"""Messages that are not the direct reply (codes, notices): written in the turn's transaction,
sent later by the dispatcher, so a crash never loses them.

A row says to which channel address it goes (fanned out from a notice to an account by
``core.notices``), what (catalog key and params, choices), why (``dedupe_key``, unique: the same
notice written twice is one row), how urgent (``priority``: lower goes first on its channel),
which live message it replaces (``live_key``: a later update of the same live message on the same
chat edits the message sent before, and pending updates of it coalesce into the latest), and
which notice it stands for until it is sent (``coalesce_key``: a later notice with the same key,
written while this one still waits, takes its place in the row, a new message all the same once
sent; and the notice can be withdrawn while it waits).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.accounts import Language

MAX_ATTEMPTS = 8
_BACKOFF = (2, 5, 15, 30, 60, 120, 300)
# A claimed message whose dispatcher died is claimed again after its lease. An urgent one (a
# one-time code lives 5 minutes) gets a lease of seconds: the sender's longest request plus
# this margin; the others a few minutes, so a slow batch is never claimed twice.
LEASE = timedelta(minutes=5)
URGENT_MARGIN = timedelta(seconds=5)


# A choice of a message: a catalog key (its own id), or ``choice(id, key, **params)``: a button
# whose id is not a catalog key (``bid:100000``) with a label filled from the catalog.
ChoiceSpec = str | dict[str, Any]
# A param named ``<name>_until`` (an ISO time) becomes ``<name>``, the whole seconds left until
# then, when the message is rendered to be sent (``at_send``): a live screen's countdown is
# right at the moment it is shown, not when it was written.
_UNTIL = "_until"


def choice(id_: str, key: str, **params: str | int) -> dict[str, Any]:
    """A choice whose id (what a press gives the dialogs) is not its label's catalog key."""
    return {"id": id_, "key": key, "params": params}


def choice_parts(spec: ChoiceSpec) -> tuple[str, str, dict[str, Any]]:
    """(id, label's catalog key, label's params) of a choice."""
    if isinstance(spec, str):
        return spec, spec, {}
    return str(spec["id"]), str(spec["key"]), dict(spec.get("params", {}))


def at_send(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """``params`` as shown at ``now``: each ``<name>_until`` replaced by ``<name>``, the whole
    seconds left until it (0 once it has passed)."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith(_UNTIL) and isinstance(value, str):
            left = (datetime.fromisoformat(value) - now).total_seconds()
            shown[name.removesuffix(_UNTIL)] = max(0, math.ceil(left))
        else:
            shown[name] = value
    return shown


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Channel(enum.StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"


class Priority(enum.IntEnum):
    """Order of sending on each channel: lower first, whatever else is queued."""

    CODE = 0  # one-time codes: they expire in minutes
    URGENT = 10  # auction notices (outbid, lot result), payment due
    LIVE = 15  # live screens (the auction room's message), edited in place
    NOTICE = 20  # other personal notices (a lapsed pre-selection)
    BROADCAST = 90  # staff broadcasts: what is left of the channel's pace


@dataclass(eq=False)
class OutboxMessage:
    """One message to one channel address. ``key``/``params`` name a catalog text, rendered at
    send time in ``language``; ``choices`` are catalog keys shown as buttons (Telegram) or
    numbered lines (SMS). ``sensitive`` params (a one-time code) are wiped once it is settled.

    A claimed row (``SENDING``, since ``sending_since``) is settled by its dispatcher; one found
    still claimed when its lease has run out was claimed by a dispatcher that died, perhaps in
    the middle of sending it: it is ``in_doubt``, and is reconciled with the provider (where the
    provider can be asked) before it is sent again."""

    channel: Channel
    recipient: str
    key: str
    params: dict[str, Any]
    language: Language
    created_at: datetime
    due_at: datetime
    dedupe_key: str
    priority: int = Priority.NOTICE
    account_id: int | None = None
    choices: list[ChoiceSpec] = field(default_factory=list)
    live_key: str | None = None
    coalesce_key: str | None = None
    sensitive: bool = False
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    provider_id: str | None = None
    sending_since: datetime | None = None
    in_doubt: bool = False
    broadcast_id: int | None = None  # the staff broadcast it is one delivery of
    id: int | None = None

    @property
    def urgent(self) -> bool:
        """Ahead of the sender's own queue, with a short lease (one-time codes)."""
        return self.priority <= Priority.CODE

    def claim(self, now: datetime, lease: timedelta) -> None:
        """Taken by one dispatcher; another one skips it until the lease runs out. Claimed again
        after a lease ran out (its dispatcher died): it is in doubt from then on."""
        if self.status is OutboxStatus.SENDING:
            self.in_doubt = True
        self.status = OutboxStatus.SENDING
        self.attempts += 1
        self.due_at = now + lease
        self.sending_since = now

    def delivered(self, now: datetime, provider_id: str | None = None) -> None:
        self.status = OutboxStatus.SENT
        self.sent_at = now
        self.provider_id = provider_id
        self.last_error = None
        self._settle()

    def retry_later(self, now: datetime, error: str, after: timedelta | None = None) -> None:
        """A passing failure (rate limit, server error): try again after a backoff."""
        self.last_error = error[:500]
        if self.attempts >= MAX_ATTEMPTS:
            self.status = OutboxStatus.FAILED
            self._settle()
            return
        self.status = OutboxStatus.PENDING
        self.sending_since = None
        backoff = timedelta(seconds=_BACKOFF[min(self.attempts - 1, len(_BACKOFF) - 1)])
        self.due_at = now + (after if after is not None else backoff)

    def postpone(self, until: datetime) -> None:
        """Not tried after all (the channel's own pacing said wait): due again at ``until``, and
        the claim's attempt is given back, so pacing never uses up a message's attempts."""
        self.status = OutboxStatus.PENDING
        self.sending_since = None
        self.attempts = max(0, self.attempts - 1)
        self.due_at = until

    def failed(self, error: str) -> None:
        """A final failure (number unreachable, opted out): never tried again."""
        self.status = OutboxStatus.FAILED
        self.last_error = error[:500]
        self._settle()

    def skipped(self, reason: str) -> None:
        self.status = OutboxStatus.SKIPPED
        self.last_error = reason[:500]
        self._settle()

    def _settle(self) -> None:
        self.sending_since = None
        if self.sensitive:
            self.params = {name: "******" for name in self.params}


REPLACED_BY_LATER = "replaced by a later update"  # why a message was skipped: see ``Due``


@dataclass(frozen=True)
class Due:
    """A message that is due, as the dispatcher's claim reads it: with whether its recipient
    cannot be reached on its channel (an SMS number that sent STOP, a Telegram chat that blocked
    the bot), the provider's id of the live message it replaces, and whether a message written
    later about the same thing (the same coalesce key, or live key and recipient) has made it
    stale: it is then skipped, never sent. Read in the same statement, so that no transaction
    of its own is needed per message."""

    message: OutboxMessage
    opted_out: bool = False
    replaces: str | None = None
    superseded: bool = False  # one written later about the same thing (a coalesce or live key)


@dataclass(frozen=True)
class Outgoing:
    """What a sender gets: the rendered message and how to deliver it.

    ``replaces``: the provider's id of an earlier message this one replaces (Telegram edits it;
    SMS sends anew). ``tried_since``: set when a send of this very message may have happened
    (since then) before its dispatcher died: a sender that can ask its provider
    (``core.ports.Reconciling``) is asked first."""

    recipient: str
    text: str
    choices: tuple[tuple[str, str], ...] = ()  # (id: the catalog key, label as rendered)
    replaces: str | None = None
    urgent: bool = False
    tried_since: datetime | None = None


# -- what a send came to (the ``Sender`` port in core.ports returns one) ----------------------


@dataclass(frozen=True)
class Sent:
    provider_id: str | None = None


@dataclass(frozen=True)
class RetryLater:
    error: str
    after: timedelta | None = None


@dataclass(frozen=True)
class Undeliverable:
    error: str


@dataclass(frozen=True)
class OptedOut(Undeliverable):
    """Final, and about the recipient rather than the message: they asked for no more messages
    on this channel (an SMS number that sent STOP to the provider). The rest of the batch to
    them is skipped: the claim read their status before the provider told us."""


@dataclass(frozen=True)
class Skipped:
    """Deliberately not sent (the recipient opted out): settled as skipped, never retried."""

    reason: str


@dataclass(frozen=True)
class Deferred:
    """Not tried: the channel's own rate limit says wait ``after`` (uses none of the attempts)."""

    after: timedelta


Outcome = Sent | RetryLater | Undeliverable | Skipped | Deferred


def message(
    *,
    channel: Channel,
    recipient: str,
    key: str,
    params: dict[str, Any],
    language: Language,
    now: datetime,
    dedupe_key: str,
    priority: int = Priority.NOTICE,
    account_id: int | None = None,
    choices: list[ChoiceSpec] | None = None,
    live_key: str | None = None,
    coalesce_key: str | None = None,
    sensitive: bool = False,
) -> OutboxMessage:
    """A row due now; ``core.notices.notify`` is the way writers make them."""
    return OutboxMessage(
        channel=channel,
        recipient=recipient,
        key=key,
        params=params,
        language=language,
        created_at=now,
        due_at=now,
        dedupe_key=dedupe_key,
        priority=priority,
        account_id=account_id,
        choices=list(choices or []),
        live_key=live_key,
        coalesce_key=coalesce_key,
        sensitive=sensitive,
    )

"""Notices are addressed to people: a use case writes one for an account (or a bare phone number
before an account exists), and ``notify`` fans it out into outbox rows, one per channel the
notice's kind says it goes to, in the caller's transaction.

Each kind states its route:

- ``SMS``: the account's SMS number only (one-time codes prove that number);
- ``PERSONAL``: a linked Telegram chat that has not blocked the bot, else the SMS number (an
  outbid notice should reach the user where they are);
- ``CHOSEN``: the channels the staff picked (broadcasts), each that is reachable;
- ``TELEGRAM``: a linked Telegram chat that has not blocked the bot, or nobody (a live screen
  such as the auction room's message, which SMS would only spam).

A Telegram chat that blocked the bot is passed over, and so is every chat while the server runs
without Telegram (no bot token: the composition root tells the store which channels are on), so
that a chat linked before never takes a notice that nothing would send. An SMS number that sent
STOP still gets its row, which the dispatcher skips when it comes to send it (a START in between
lets it go); a broadcast leaves out whoever cannot be reached.

Every row carries the notice's ``dedupe_key`` (with the channel for a notice that goes to
several): the same notice written twice (a retried fan-out, a timer run again after a crash)
adds nothing the second time.

A notice that stands for the latest state of something (a bidder's "you were outbid" on a lot)
has a ``coalesce_key`` as well: written while an earlier one with that key still waits to be
sent, it takes that one's place instead of adding a message, and ``withdraw`` takes a waiting
one back when it no longer holds (the bidder leads again).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.accounts import Language
from core.outbox import Channel, ChoiceSpec, Priority, message

if TYPE_CHECKING:
    from core.ports import UnitOfWork


@dataclass(frozen=True)
class ContactPoint:
    """One way to reach a person: an SMS number or a Telegram chat."""

    channel: Channel
    address: str
    account_id: int | None = None
    reachable: bool = True  # not opted out (SMS STOP), not blocked, Telegram on (Telegram)


class Route(enum.Enum):
    SMS = "sms"
    PERSONAL = "personal"
    CHOSEN = "chosen"
    TELEGRAM = "telegram"


@dataclass(frozen=True)
class Rule:
    route: Route
    priority: Priority
    sensitive: bool = False  # params wiped once sent (a one-time code's nonce)


class NoticeKind(enum.Enum):
    CODE = Rule(Route.SMS, Priority.CODE, sensitive=True)
    LAPSE = Rule(Route.SMS, Priority.NOTICE)  # told by SMS, as the office does
    URGENT = Rule(Route.PERSONAL, Priority.URGENT)  # outbid, lot result, payment due
    PERSONAL = Rule(Route.PERSONAL, Priority.NOTICE)  # order paid/refunded, review outcomes
    BROADCAST = Rule(Route.CHOSEN, Priority.BROADCAST)
    ROOM = Rule(Route.TELEGRAM, Priority.LIVE)  # the auction room's live message

    @property
    def rule(self) -> Rule:
        value: Rule = self.value
        return value


class NoRecipient(ValueError):
    """``notify`` needs an account or a phone number."""


def notify(
    uow: UnitOfWork,
    *,
    kind: NoticeKind,
    key: str,
    params: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    account_id: int | None = None,
    phone: str | None = None,
    language: Language | None = None,
    channels: Collection[Channel] = (),
    choices: list[ChoiceSpec] | None = None,
    live_key: str | None = None,
    coalesce_key: str | None = None,
) -> int:
    """Write the notice for ``account_id`` (in the account's language unless ``language`` is
    given) or for a bare ``phone`` (``language`` needed); returns how many rows were written (0
    for a notice written before, or nobody reachable). ``channels``: the staff's choice, for
    a ``CHOSEN`` kind. ``live_key``: the live message this one updates; ``coalesce_key``: the
    waiting notice this one replaces, for a kind that goes to one contact point (see
    core.outbox)."""
    rule = kind.rule
    if account_id is not None:
        points = uow.contacts.of_account(account_id)
        account = uow.accounts.view(account_id)
        if account is None:
            raise NoRecipient(f"no account {account_id}")
        language = language or account.language
        if not any(point.channel is Channel.SMS for point in points):
            points.append(ContactPoint(Channel.SMS, account.phone, account_id))
    elif phone is not None:  # whether it opted out is read when it is sent
        points = [ContactPoint(Channel.SMS, phone)]
    else:
        raise NoRecipient("a notice needs an account or a phone number")
    added = 0
    for point in _route(rule.route, points, channels):
        row_key = dedupe_key if rule.route is not Route.CHOSEN else f"{dedupe_key}:{point.channel}"
        added += uow.outbox.add(
            message(
                channel=point.channel,
                recipient=point.address,
                key=key,
                params=params,
                language=language or Language.ZH,
                now=now,
                dedupe_key=row_key,
                priority=rule.priority,
                account_id=account_id,
                choices=choices,
                live_key=live_key,
                coalesce_key=coalesce_key,
                sensitive=rule.sensitive,
            )
        )
    return added


def withdraw(uow: UnitOfWork, *, coalesce_key: str, written_by: datetime, reason: str) -> int:
    """The notice under ``coalesce_key`` that still waits to be sent, written by
    ``written_by``, is not sent after all (a later one, written since, stands); how many
    rows were withdrawn."""
    return uow.outbox.withdraw(coalesce_key, written_by=written_by, reason=reason)


def _route(
    route: Route, points: list[ContactPoint], channels: Collection[Channel]
) -> list[ContactPoint]:
    """The contact points a notice goes to. An SMS number that opted out is still written to
    for a personal notice (the dispatcher skips it, and a START before it is sent lets it go);
    a broadcast leaves out whoever cannot be reached."""
    sms = [p for p in points if p.channel is Channel.SMS][:1]
    telegram = [p for p in points if p.channel is Channel.TELEGRAM and p.reachable][:1]
    if route is Route.SMS:
        return sms
    if route is Route.PERSONAL:
        return telegram or sms
    if route is Route.TELEGRAM:
        return telegram
    return [p for p in points if p.channel in channels and p.reachable]

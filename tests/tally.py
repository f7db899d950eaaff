"""A tiny flow for engine tests: every message is appended to the conversation's data, and a
message can be held inside its transaction until the test lets it go."""

from __future__ import annotations

import enum
import threading
from datetime import datetime
from typing import Any

from transitions import EventData

from core.clock import Clock, ManualClock
from core.notices import NoticeKind, notify
from dialogs.engine import Engine
from dialogs.flow import BaseFlow, Event, Services, Turn, turn_of
from dialogs.flows.menu import MenuFlow
from dialogs.replies import Inbound, Reply, Text
from store.db import create_engine
from store.uow import UnitOfWorkFactory


class State(enum.Enum):
    COUNTING = enum.auto()


class TallyFlow(BaseFlow):
    """Keeps every message it is sent, in order."""

    name = "tally"
    State = State

    def __init__(self) -> None:
        super().__init__()
        self.hold: dict[str, tuple[threading.Event, threading.Event]] = {}

    def transitions(self) -> list[dict[str, Any]]:
        return [{"trigger": "add", "source": State.COUNTING, "dest": None, "before": self.add}]

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        return Event("add", {"arg": inbound.text})

    def add(self, event: EventData) -> None:
        turn = turn_of(event)
        text = str(event.kwargs["arg"])
        seen = list(turn.data.get("seen", []))
        if text in self.hold:
            entered, release = self.hold[text]
            entered.set()
            release.wait(timeout=30)
        turn.conversation.data = {**turn.data, "seen": [*seen, text]}
        if text == "boom":  # write something, then fail: none of it may stay
            notify(
                turn.uow,
                phone="+8613800138000",
                kind=NoticeKind.LAPSE,
                key="raw",
                params={"text": "boom"},
                dedupe_key=f"boom:{turn.conversation.id}",
                language=turn.language,
                now=turn.now,
            )
            raise RuntimeError("a bug in a flow, for +8613800138000")

    def prompt(self, turn: Turn) -> Reply:
        return Reply(lines=(Text("raw", {"text": str(len(turn.data.get("seen", [])))}),))


def tally_engine(uow: UnitOfWorkFactory, clock: Clock, flow: TallyFlow | None = None) -> Engine:
    services = Services(clock=clock, code_key=b"k", idle_minutes=60 * 24)
    return Engine(uow, services, [MenuFlow(), flow or TallyFlow()])


def start_tally(engine: Engine, user_key: str) -> None:
    """Open the user's conversation and put it in the tally flow."""
    engine.handle(Inbound(channel="test", user_key=user_key, text="hi"))
    with engine.uow_factory() as uow:
        conversation = uow.conversations.lock(
            channel="test", user_key=user_key, new=engine._new(Inbound("test", user_key))
        )
        conversation.flow, conversation.state, conversation.data = "tally", "COUNTING", {}
        uow.conversations.save(conversation)
        uow.commit()


def tally_of(engine: Engine, user_key: str) -> tuple[str, list[str]]:
    """The user's conversation as stored: its flow, and what the tally has seen."""
    with engine.uow_factory() as uow:
        conversation = uow.conversations.lock(
            channel="test", user_key=user_key, new=engine._new(Inbound("test", user_key))
        )
        return conversation.flow, list(conversation.data.get("seen", []))


def send_many(url: str, user_key: str, prefix: str, count: int, now: datetime) -> None:
    """Run in another process: ``count`` messages to one user through its own engine, at the
    parent's time ``now`` (a clock of its own would see the parent's conversation as idle for
    however long ago the parent's manual clock stands)."""
    db = create_engine(url)
    engine = tally_engine(UnitOfWorkFactory(db), ManualClock(now))
    for number in range(count):
        engine.handle(
            Inbound(
                channel="test",
                user_key=user_key,
                text=f"{prefix}{number}",
                message_id=f"{prefix}{number}",
            )
        )
    db.dispose()

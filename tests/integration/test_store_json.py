"""What a user types is kept exactly, whatever it holds: JSON columns are written with orjson,
and with the standard library for what orjson refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine as SqlEngine

from core.clock import ManualClock
from dialogs.replies import Inbound
from store.db import dumps, loads
from store.uow import UnitOfWorkFactory
from tests.tally import start_tally, tally_engine

# A console on a C locale reads undecodable bytes as lone surrogates; the rest is plain oddity.
ODD_TEXTS = ["x\udc80y", "粤B·12345 🚗", 'quote " back\\slash', "\x00\x1f", "a" * 5000]


def test_odd_text_is_kept_exactly_through_a_turn(db: SqlEngine, clock: ManualClock) -> None:
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock)
    start_tally(engine, "u1")
    replies = [engine.handle(Inbound("test", "u1", text)) for text in ODD_TEXTS]

    assert [r.lines[-1].params["text"] for r in replies] == ["1", "2", "3", "4", "5"]
    with uow() as unit:
        kept = unit.conversations.lock(
            channel="test", user_key="u1", new=engine._new(Inbound("test", "u1"))
        )
    # as the dialogs read it: a lone surrogate, which no channel could echo, as U+FFFD
    assert kept.data["seen"] == [text.replace("\udc80", "\ufffd") for text in ODD_TEXTS]


def test_json_round_trip_of_what_orjson_refuses() -> None:
    assert loads(dumps({"t": "x\udc80y"})) == {"t": "x\udc80y"}
    with pytest.raises(ValueError, match="exactly"):  # it would come back as a float
        dumps({"big": 123456789012345678901234567890})
    with pytest.raises(TypeError):  # as the standard library refuses them
        dumps({"when": datetime.now(UTC)})
    assert loads(dumps({1: "one"})) == {"1": "one"}  # as the standard library writes it

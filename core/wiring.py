"""Where core's modules register what they react to: event handlers and timer steps. Each module
that has any offers ``wire(wiring)``; ``wire_core`` calls them all once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from core.events import EventBus
from core.timers import TimerStep

TIMERS = "timers"  # the lane of timer steps that may wait for one another


@dataclass
class Wiring:
    bus: EventBus = field(default_factory=EventBus)
    timers: list[TimerStep] = field(default_factory=list)
    lanes: dict[str, list[TimerStep]] = field(default_factory=dict)

    def timer(self, step: TimerStep, lane: str = TIMERS) -> None:
        """``lane``: a step that must never wait behind others (a lot's close) has its own;
        the server runs each lane in a loop of its own."""
        self.timers.append(step)
        self.lanes.setdefault(lane, []).append(step)


@cache
def wire_core() -> Wiring:
    """Every core module's handlers and timer steps, registered once."""
    from core import (  # noqa: PLC0415 - they import this module
        auction_room,
        auction_signup,
        bidding,
        broadcasts,
        lapses,
        order_notices,
        payments,
        reservation_lots,
        sale,
        selection,
        settlement,
        verification,
    )

    wiring = Wiring()
    modules = (
        verification,
        selection,
        lapses,
        payments,
        order_notices,
        bidding,
        auction_signup,
        auction_room,
        settlement,
        sale,
        reservation_lots,
        broadcasts,
    )
    for module in modules:
        module.wire(wiring)
    return wiring

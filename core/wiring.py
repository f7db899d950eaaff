"""Where core's modules register what they react to: event handlers and timer steps. Each module
that has any offers ``wire(wiring)``; ``wire_core`` calls them all once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from core.events import EventBus
from core.timers import TimerStep


@dataclass
class Wiring:
    bus: EventBus = field(default_factory=EventBus)
    timers: list[TimerStep] = field(default_factory=list)

    def timer(self, step: TimerStep) -> None:
        self.timers.append(step)


@cache
def wire_core() -> Wiring:
    """Every core module's handlers and timer steps, registered once."""
    from core import (  # noqa: PLC0415 - they import this module
        bidding,
        lapses,
        payments,
        reservation_lots,
        selection,
        verification,
    )

    wiring = Wiring()
    for module in (verification, selection, lapses, payments, bidding, reservation_lots):
        module.wire(wiring)
    return wiring

"""A server process for ``bench.broadcast`` and the broadcast crash test: the app as ``platebot
serve`` builds it (settings from ``PLATEBOT_*``, the dispatcher's lanes and the timers running),
on the system clock moved on by ``--shift-seconds``.

A server killed with -9 leaves the messages it had claimed under a lease of minutes
(``core.outbox.LEASE``); the server started after it runs that much later on its own clock, so
that it claims them at once instead of waiting the lease out in real time.

    python -m bench.broadcast_server --port 8765 --shift-seconds 360
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

import uvicorn

from core.clock import SystemClock
from platebot.bootstrap import build_app
from platebot.server import create_web_app
from platebot.settings import load_settings


class ShiftedClock(SystemClock):
    def __init__(self, shift: timedelta) -> None:
        self.shift = shift

    def now(self) -> datetime:
        return super().now() + self.shift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--shift-seconds", type=float, default=0.0)
    args = parser.parse_args()
    app = build_app(load_settings(), clock=ShiftedClock(timedelta(seconds=args.shift_seconds)))
    uvicorn.run(create_web_app(app), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""The server the SMS benchmark runs: platebot's HTTP app as ``platebot serve`` builds it, plus one
bare endpoint that does nothing, so both are measured in the same process with the same
settings. Started by ``bench/sms_load.py`` as ``uvicorn bench.sms_server:create --factory``.

With ``PLATEBOT_BENCH_PROFILE=FILE`` (``sms_load.py --profile FILE``) every thread of the server
runs under cProfile, timed in CPU seconds (``time.thread_time``: a thread waiting for the GIL or
a lock costs nothing), from start-up to shutdown; FILE gets the merged statistics, FILE.txt the
functions sorted by cumulative and by own time.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from platebot.server import create_from_env

BARE_PATH = "/bench/bare"
PROFILE_VARIABLE = "PLATEBOT_BENCH_PROFILE"
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def create() -> FastAPI:
    api = create_from_env()

    @api.post(BARE_PATH, include_in_schema=False)
    async def bare() -> Response:
        """What a webhook costs with no work behind it."""
        return Response(content=_EMPTY_TWIML, media_type="application/xml")

    profile = os.environ.get(PROFILE_VARIABLE)
    if profile:
        _profiled(api, profile)
    return api


def _profiled(api: FastAPI, path: str) -> None:
    """Profile every thread while the server runs; write the statistics at shutdown."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(_frame: FrameType, _event: str, _arg: Any) -> None:
        sys.setprofile(None)  # this hook only starts the thread's own profiler
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    inner = api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            main = cProfile.Profile(time.thread_time)
            threading.setprofile(start_in_thread)  # threads started from now on
            main.enable()
            try:
                yield
            finally:
                main.disable()
                threading.setprofile(None)
                with lock:  # a snapshot: threads still alive (idle by now) are not stopped
                    stats = pstats.Stats(main)
                    for profile in profiles:
                        stats.add(profile)
                stats.dump_stats(path)
                with open(f"{path}.txt", "w", encoding="utf-8") as summary:
                    stats.stream = summary  # type: ignore[attr-defined]
                    stats.sort_stats("cumulative").print_stats(80)
                    stats.sort_stats("tottime").print_stats(40)

    api.router.lifespan_context = lifespan

"""Where a webhook's dialog turns run: in the app's turn threads, or in a process of their own.

A webhook hands its blocking work to a *service lane*: ``await lane.run(function, *args)`` calls
``function(service, *args)``, where ``service`` is the lane's own object (the SMS channel, say),
and gives the result back on the event loop.

- ``InThreads``: the service lives in this process and the calls run in the app's turn threads
  (``platebot/threads.py``).
- ``TurnProcess``: the service is built in a child process of its own, from the settings, and the
  calls go there over a socket (pickled: the function by its name, its arguments by value).

Why a process: one Python process runs Python code on one core at a time. With SQLite every
turn takes the database's one write lock anyway, so the turns cannot go faster in threads; in
threads they also take the core from the HTTP work of the requests waiting behind them. In a
process of their own the turns have a core to themselves, while this process reads, checks and
answers the requests (bench/README.md, "SMS webhook"). PostgreSQL runs turns in parallel
itself, in threads, and scales out with more server processes: the lane is for SQLite.

The child ends when this process closes the socket (after the call it is running), and is a
daemon, so it never outlives the server. If it dies, the calls it had are run once more in a new
child: a lane's calls must be safe to repeat (an SMS turn is: a MessageSid is handled once, and
a second delivery gets the first one's answer).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from platebot.settings import LOG_FORMAT, Settings
from platebot.threads import ThreadLane

log = logging.getLogger(__name__)

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)
P = ParamSpec("P")
T = TypeVar("T")

_HEADER = struct.Struct("!II")  # call id, length of the pickled payload that follows
_READY = 0  # the call id of the child's first frame: its service is built (or failed to be)
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class ServiceLane(Protocol[S_co]):
    async def run(
        self, function: Callable[Concatenate[S_co, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class TurnProcessFailed(RuntimeError):
    """The turn process could not be started, or died twice under one call."""


class InThreads(Generic[S]):
    """The service of this process; its calls run in ``threads``."""

    def __init__(self, service: S, threads: ThreadLane) -> None:
        self.service = service
        self.threads = threads

    async def run(
        self, function: Callable[Concatenate[S, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if kwargs:
            return await self.threads.run(lambda: function(self.service, *args, **kwargs))
        return await self.threads.run(function, self.service, *args)

    async def start(self) -> None:
        """Nothing to start: the threads start with the first call (and stop with the app)."""

    async def stop(self) -> None:
        """Nothing to stop here: the app stops its turn threads itself."""


class TurnProcess(Generic[S]):
    """A child process that builds its service once, with ``build(settings)``, then runs calls
    one after the other, in the order they came, and at the end calls the service's ``close()``
    if it has one. ``build`` and every function called must be importable by name (module-level
    functions, or methods looked up on their class)."""

    def __init__(self, build: Callable[[Settings], S], settings: Settings, *, name: str) -> None:
        self.build = build
        self.settings = settings
        self.name = name
        self._process: multiprocessing.process.BaseProcess | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._ids = itertools.count(_READY + 1)
        self._starting = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the child and wait until its service is built; raises ``TurnProcessFailed``
        with the child's error if it could not be."""
        async with self._starting:
            if self._writer is None:
                await self._spawn()

    async def run(
        self, function: Callable[Concatenate[S, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        payload = pickle.dumps((function, args, kwargs), _PROTOCOL)
        for attempt in (1, 2):
            if self._writer is None:
                await self.start()
            try:
                ok, value = await self._call(payload)
            except _ChildLost:
                if attempt == 2:
                    raise TurnProcessFailed(f"{self.name} died twice running one call") from None
                continue
            if ok:
                return value  # type: ignore[no-any-return]
            raise value
        raise AssertionError("unreachable")  # pragma: no cover

    async def stop(self) -> None:
        """Let the child finish the calls it was given, then end it."""
        async with self._starting:
            writer, self._writer = self._writer, None
            process, self._process = self._process, None
            reading, self._reading = self._reading, None
            if writer is not None and writer.can_write_eof():
                writer.write_eof()  # the child answers what it has, reads the end, and exits
            if reading is not None:
                await reading
            if process is not None:
                await asyncio.to_thread(process.join, 30)
                if process.is_alive():  # pragma: no cover - a call that never ends
                    log.warning("%s did not end in 30 s; terminated", self.name)
                    process.terminate()
                    await asyncio.to_thread(process.join, 5)

    async def _call(self, payload: bytes) -> tuple[bool, Any]:
        writer = self._writer
        if writer is None:  # the child died since the caller looked
            raise _ChildLost
        call_id = next(self._ids) & 0xFFFFFFFF
        future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            writer.write(_HEADER.pack(call_id, len(payload)) + payload)
            await writer.drain()
            return await future
        except ConnectionError:
            raise _ChildLost from None
        finally:
            self._pending.pop(call_id, None)

    async def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked locks
        ours, theirs = socket.socketpair()
        process = context.Process(
            target=_serve,
            args=(theirs, self.build, self.settings, logging.getLogger().getEffectiveLevel()),
            name=self.name,
            daemon=True,
        )
        try:
            process.start()
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        try:
            ok, value = await _read_frame(reader, expect=_READY)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            writer.close()
            await asyncio.to_thread(process.join, 5)
            raise TurnProcessFailed(f"{self.name} ended while starting") from exc
        if not ok:
            writer.close()
            await asyncio.to_thread(process.join, 5)
            raise TurnProcessFailed(f"{self.name} could not start: {value!r}") from value
        self._process, self._writer = process, writer
        self._reading = asyncio.create_task(self._read(reader, writer), name=f"{self.name}-read")
        log.info("%s started (process %s)", self.name, process.pid)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Hand each answer to its caller; when the child is gone, fail its calls over."""
        try:
            while True:
                call_id, size = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                payload = await reader.readexactly(size)
                future = self._pending.get(call_id)
                if future is None or future.done():  # the caller went away meanwhile
                    continue
                try:
                    future.set_result(pickle.loads(payload))  # noqa: S301 - our own child
                except Exception as error:  # an answer this side cannot rebuild
                    failed = TurnProcessFailed(f"the answer of {self.name} could not be read")
                    failed.__cause__ = error
                    future.set_exception(failed)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        if self._writer is writer:  # not stopped on purpose: the child died
            process = self._process
            self._writer, self._process = None, None
            code = process.exitcode if process is not None else None
            log.error("%s ended unexpectedly (exit code %s); started again", self.name, code)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_ChildLost())


class _ChildLost(Exception):
    """The child ended before answering (its calls are run again in a new one)."""


async def _read_frame(reader: asyncio.StreamReader, *, expect: int) -> tuple[bool, Any]:
    call_id, size = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if call_id != expect:  # pragma: no cover - the child always answers in this order
        raise ConnectionError(f"frame {call_id} where {expect} was expected")
    answer: tuple[bool, Any] = pickle.loads(await reader.readexactly(size))  # noqa: S301
    return answer


# -- the child -----------------------------------------------------------------------------


def _serve(
    channel: socket.socket, build: Callable[[Settings], Any], settings: Settings, log_level: int
) -> None:
    """The child's whole life: build the service, then answer calls until the socket closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    incoming = channel.makefile("rb")
    try:
        service = build(settings)
    except BaseException as error:
        _answer(channel, _READY, False, error)
        return
    _answer(channel, _READY, True, None)
    while header := incoming.read(_HEADER.size):
        if len(header) < _HEADER.size:
            return
        call_id, size = _HEADER.unpack(header)
        function, args, kwargs = pickle.loads(incoming.read(size))  # noqa: S301 - our parent
        try:
            result = (True, function(service, *args, **kwargs))
        except Exception as error:
            result = (False, error)
        _answer(channel, call_id, *result)
    log.debug("turn process %s: the server closed its socket; ending", os.getpid())
    close = getattr(service, "close", None)
    if callable(close):
        close()


def _answer(channel: socket.socket, call_id: int, ok: bool, value: Any) -> None:
    try:
        payload = pickle.dumps((ok, value), _PROTOCOL)
    except Exception as error:
        reason = f"{type(value).__name__} cannot be sent back: {error}"
        payload = pickle.dumps((False, TurnProcessFailed(reason)), _PROTOCOL)
    channel.sendall(_HEADER.pack(call_id, len(payload)) + payload)

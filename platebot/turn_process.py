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

The child ignores SIGINT and SIGTERM (they reach the whole process group): it ends when this
process closes its socket (a graceful stop, this process's exit or death), after answering what
it was given and closing its service (the background job running finishes). If it dies, a new one
is started at once, and the calls it had are run once more there: a lane's calls must be safe to
repeat (an SMS turn is: a MessageSid is handled once, and a second delivery gets the first one's
answer).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.util  # registers its exit handler before ours (see _close_sockets)
import os
import pickle
import signal
import socket
import struct
import weakref
from collections.abc import Callable
from multiprocessing.process import BaseProcess
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
STOP_WAIT = 60.0  # seconds a stopping child may take to finish its calls and its running job

# The server's ends of the children's sockets, shut at exit so that a child ends even when the
# server exits without stopping it. Exit handlers run last registered first: this one runs
# before multiprocessing's, which terminates daemon children (they ignore SIGTERM) and joins them.
_open_sockets: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()


@atexit.register
def _close_sockets() -> None:
    for writer in list(_open_sockets):
        transport = writer.transport
        with contextlib.suppress(Exception):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)


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
    functions, or methods looked up on their class).

    A child that dies is replaced at once (then after 2, 4, 8 … 30 s while it keeps dying), not
    only when a call comes: it may run background jobs. ``stop`` closes the child's socket and
    waits for it to answer what it was given and end; one that has not ended after
    ``STOP_WAIT`` seconds is killed."""

    def __init__(self, build: Callable[[Settings], S], settings: Settings, *, name: str) -> None:
        self.build = build
        self.settings = settings
        self.name = name
        self._process: BaseProcess | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._restarting: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._ids = itertools.count(_READY + 1)
        self._starting = asyncio.Lock()
        self._stopped = False
        self._failures = 0  # children that died in a row

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the child and wait until its service is built; raises ``TurnProcessFailed``
        with the child's error if it could not be."""
        async with self._starting:
            if self._stopped:
                raise TurnProcessFailed(f"{self.name} is stopped")
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
        """Let the child answer the calls it was given and finish the job it is running, then
        end it (killed after ``STOP_WAIT`` seconds). No child is started after this."""
        self._stopped = True
        if self._restarting is not None:
            self._restarting.cancel()
        async with self._starting:
            writer, self._writer = self._writer, None
            process, self._process = self._process, None
            reading, self._reading = self._reading, None
            if writer is not None and writer.can_write_eof():
                writer.write_eof()  # the child answers what it has, reads the end, and exits
            if reading is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(reading), STOP_WAIT)
                except TimeoutError:
                    log.warning("%s did not end in %s s; killed", self.name, STOP_WAIT)
                    if process is not None:
                        process.kill()
                    await reading
            if process is not None:
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
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        try:
            ok, value = await _read_frame(reader, expect=_READY)
        except Exception as exc:  # it died, or sent what cannot be read here
            writer.close()
            process.kill()
            await asyncio.to_thread(process.join, 5)
            raise TurnProcessFailed(f"{self.name} could not start: {exc!r}") from exc
        if not ok:
            writer.close()
            await asyncio.to_thread(process.join, 5)
            raise TurnProcessFailed(f"{self.name} could not start: {value!r}") from value
        self._process, self._writer = process, writer
        self._reading = asyncio.create_task(self._read(reader, writer), name=f"{self.name}-read")
        _open_sockets.add(writer)
        log.info("%s started (process %s)", self.name, process.pid)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Hand each answer to its caller; when the child is gone, fail its calls over."""
        try:
            while True:
                call_id, size = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                payload = await reader.readexactly(size)
                self._failures = 0  # it answers: it lives
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
        _open_sockets.discard(writer)
        if self._writer is writer:  # not stopped on purpose: the child died
            process = self._process
            self._writer, self._process, self._reading = None, None, None
            self._failures += 1
            delay = min(30.0, 2.0 ** (self._failures - 1)) if self._failures > 1 else 0.0
            log.error(
                "%s ended unexpectedly (exit code %s); a new one starts in %s s",
                self.name,
                process.exitcode if process is not None else None,
                delay,
            )
            self._restarting = asyncio.create_task(self._restart(process, delay))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_ChildLost())

    async def _restart(self, dead: BaseProcess | None, delay: float) -> None:
        """A new child for one that died (calls would start one, but background jobs may be
        waiting for it too); a failure to start is retried the same way."""
        if dead is not None:
            await asyncio.to_thread(dead.join, 5)  # reaped, not left a zombie
        await asyncio.sleep(delay)
        try:
            await self.start()
        except Exception as error:  # it could not be built, or not even started
            if self._stopped:
                return
            self._failures += 1
            log.error("%s: %s; trying again", self.name, error)
            self._restarting = asyncio.create_task(
                self._restart(None, min(30.0, 2.0 ** (self._failures - 1)))
            )


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
    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the server stops
    # gracefully and then closes this process's socket, which ends it after the job it is
    # running (killed mid-send, a message that reached Twilio would be sent again).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    incoming = channel.makefile("rb")
    try:
        service = build(settings)
    except BaseException as error:
        _answer(channel, _READY, False, error)
        return
    _answer(channel, _READY, True, None)
    try:
        while len(header := incoming.read(_HEADER.size)) == _HEADER.size:
            call_id, size = _HEADER.unpack(header)
            payload = incoming.read(size)
            try:
                function, args, kwargs = pickle.loads(payload)  # noqa: S301 - our parent
                result = (True, function(service, *args, **kwargs))
            except Exception as error:
                result = (False, error)
            _answer(channel, call_id, *result)
    except OSError:  # the server is gone, or shut our socket at its exit
        pass
    log.debug("turn process %s: the server closed its socket; ending", os.getpid())
    close = getattr(service, "close", None)
    if callable(close):
        close()  # the background job running finishes first


def _answer(channel: socket.socket, call_id: int, ok: bool, value: Any) -> None:
    try:
        payload = pickle.dumps((ok, value), _PROTOCOL)
    except Exception as error:
        reason = f"{type(value).__name__} cannot be sent back: {error}"
        payload = pickle.dumps((False, TurnProcessFailed(reason)), _PROTOCOL)
    channel.sendall(_HEADER.pack(call_id, len(payload)) + payload)

"""A real server for fault tests: ``platebot serve`` in a process of its own (uvicorn, and on
SQLite its turn process), talked to over HTTP as Twilio does, with a local Twilio stand-in for
what it sends. Its log goes to a file, shown when a test fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from sms.channel import INBOUND_PATH
from tests.sms_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    OUR_NUMBER,
    inbound_form,
    messages_of,
    new_sid,
)
from tests.standins.twilio_api import TwilioStandIn


@dataclass
class Answer:
    status: int
    messages: list[str]
    seconds: float


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def sms(self, phone: str, text: str, *, timeout: float = 60.0) -> Answer:
        """An inbound SMS, signed as Twilio signs it for the server's public URL."""
        form = inbound_form(phone, text, new_sid())
        url = self.base_url + INBOUND_PATH
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        started = time.monotonic()
        response = httpx.post(
            url, data=form, headers={"X-Twilio-Signature": signature}, timeout=timeout
        )
        seconds = time.monotonic() - started
        is_twiml = response.headers.get("content-type", "").startswith("application/xml")
        messages = messages_of(response.text) if is_twiml else [response.text]
        return Answer(response.status_code, messages, seconds)

    def health(self, *, timeout: float = 30.0) -> int:
        return httpx.get(self.base_url + "/healthz", timeout=timeout).status_code

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    database_url: str, workdir: Path, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """``platebot serve`` on a free port of 127.0.0.1 against ``database_url`` (and ``settings``,
    more ``PLATEBOT_*`` variables), up (``/healthz`` answers 200) when this yields; stopped as a
    service manager stops it (SIGTERM) after."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        env = (
            os.environ
            | {
                "PLATEBOT_DATABASE_URL": database_url,
                "PLATEBOT_PUBLIC_URL": base_url,
                "PLATEBOT_SECRET_KEY": "fault-test-secret",
                "PLATEBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "PLATEBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "PLATEBOT_TWILIO_FROM": OUR_NUMBER,
                "PLATEBOT_TWILIO_API_BASE": standin.url,
            }
            | (settings or {})
        )
        command = [str(Path(sys.executable).parent / "platebot"), "serve", "--port", str(port)]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, env=env, cwd=workdir, stdout=output, stderr=subprocess.STDOUT
            )
        server = Server(base_url, process, log)
        try:
            _wait_until_up(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(server: Server, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server ended at start:\n{server.log_text()}")
        try:
            if server.health(timeout=2.0) == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not come up:\n{server.log_text()}")

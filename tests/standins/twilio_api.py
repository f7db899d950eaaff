"""A local stand-in of Twilio's Messages REST API, for the tests and the SMS benchmark.

It listens on 127.0.0.1, checks the account's basic auth like Twilio does, records every
``POST /2010-04-01/Accounts/{sid}/Messages.json`` and answers 201 with a message resource, or
what the test scripted: an error status and Twilio error code, or a dropped connection (the
request arrived but no answer came back). ``delay`` holds every answer back that long after the
message was taken (a slow provider: a process killed meanwhile never hears the answer).
``GET …/Messages.json`` lists the messages taken, newest first, filtered by ``To`` and
``DateSent>`` (sent on or after) as Twilio does; ``now`` is the stand-in's clock (a test's
manual one, so dates agree with the server's). Point the twilio client at it with
``PLATEBOT_TWILIO_API_BASE`` (``TwilioStandIn.url``). With ``tls`` (a server context with its
certificate) it answers HTTPS, for tests of certificate checks.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.standins import StandInServer

DROP = 0  # a scripted "status" that closes the connection without answering


@dataclass(frozen=True)
class Answer:
    status: int = 201
    code: int | None = None
    message: str = ""


@dataclass(frozen=True)
class Request:
    """One POST the stand-in received, and the status it answered."""

    to: str
    origin: str
    body: str
    status_callback: str | None
    answered: int
    sid: str | None
    sent_at: datetime | None = None


class TwilioStandIn:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        tls: ssl.SSLContext | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.now = now or (lambda: datetime.now(UTC))
        self.delay = 0.0  # seconds every answer is held back, after the message is taken
        self.released = threading.Event()  # set: answers held back go at once
        self.listed = 0  # how many times the Messages list was asked for
        self.requests: list[Request] = []
        self.script: deque[Answer] = deque()
        self._changed = threading.Condition()
        self._server = StandInServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.tls = tls
        if tls is not None:  # a failed handshake ends in accept(): no request is recorded
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    def answer(self, *answers: Answer) -> None:
        """The next requests (a send, or a list: a failure status) get these answers, in order;
        then success again."""
        self.script.extend(answers)

    @property
    def delivered(self) -> list[Request]:
        """Messages Twilio accepted (answered 201)."""
        return [r for r in self.requests if r.answered == 201]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds (checked whenever a request arrives)."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise AssertionError(f"the Twilio stand-in never saw that; it got {self.requests}")

    def last_code(self, phone: str, timeout: float = 10.0) -> str:
        """The last 6-digit code delivered to ``phone`` (waits for one to arrive)."""

        def codes() -> list[str]:
            return [
                match.group(0)
                for r in self.delivered
                if r.to == phone and (match := re.search(r"(?<!\d)\d{6}(?!\d)", r.body))
            ]

        self.wait_for(lambda: bool(codes()), timeout)
        return codes()[-1]

    def _record(self, request: Request) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    path = f"/2010-04-01/Accounts/{standin.account_sid}/Messages.json"
    credentials = f"{standin.account_sid}:{standin.auth_token}".encode()
    expected_auth = "Basic " + base64.b64encode(credentials).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body go out in two writes: with Nagle's algorithm the second
        # waits for the client's delayed ACK, 40 ms on every answer.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != path:
                self._json(404, _error(404, 20404, "The requested resource was not found"))
                return
            if self.headers.get("Authorization") != expected_auth:
                self._json(401, _error(401, 20003, "Authenticate"))
                return
            scripted = standin.script.popleft() if standin.script else None
            if scripted is not None and scripted.status != 201:  # a list that fails
                self._json(scripted.status, _error(scripted.status, scripted.code, "scripted"))
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            after = query.get("DateSent>")
            since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
            standin.listed += 1
            found = [
                r
                for r in reversed(standin.delivered)
                if r.to == query.get("To", r.to)
                and (since is None or (r.sent_at is not None and r.sent_at >= since))
            ]
            self._json(
                200,
                {
                    "messages": [_resource(standin, r, status="sent") for r in found],
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "first_page_uri": url.path,
                    "uri": self.path,
                    "page": 0,
                    "page_size": 50,
                    "start": 0,
                    "end": len(found),
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:  # the sender died mid-request: Twilio makes no message of it
                self.close_connection = True
                return
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if self.path != path:
                self._json(404, _error(404, 20404, "The requested resource was not found"))
                return
            if self.headers.get("Authorization") != expected_auth:
                self._json(401, _error(401, 20003, "Authenticate"))
                return
            if not form.get("To"):
                self._json(400, _error(400, 21604, "A 'To' phone number is required."))
                return
            answer = standin.script.popleft() if standin.script else Answer()
            sid = f"SM{secrets.token_hex(16)}" if answer.status == 201 else None
            request = Request(
                to=form.get("To", ""),
                origin=form.get("From") or form.get("MessagingServiceSid", ""),
                body=form.get("Body", ""),
                status_callback=form.get("StatusCallback"),
                answered=answer.status,
                sid=sid,
                sent_at=standin.now(),
            )
            standin._record(request)
            if standin.delay:
                standin.released.wait(standin.delay)
            if answer.status == DROP:
                self.close_connection = True
                return
            if answer.status != 201:
                message = answer.message or "scripted failure"
                self._json(answer.status, _error(answer.status, answer.code, message))
                return
            self._json(201, _resource(standin, request, status="queued"))

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the benchmark read ``requests`` instead."""

    return Handler


def _resource(standin: TwilioStandIn, request: Request, *, status: str) -> dict[str, Any]:
    """A message resource as Twilio shows it."""
    path = f"/2010-04-01/Accounts/{standin.account_sid}/Messages"
    origin = request.origin
    return {
        "sid": request.sid,
        "account_sid": standin.account_sid,
        "to": request.to,
        "from": None if origin.startswith("MG") else origin,
        "messaging_service_sid": origin if origin.startswith("MG") else None,
        "body": request.body,
        "status": status,
        "num_segments": "1",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "date_sent": (
            format_datetime(request.sent_at) if request.sent_at and status != "queued" else None
        ),
        "uri": f"{path}/{request.sid}.json",
    }


def _error(status: int, code: int | None, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }

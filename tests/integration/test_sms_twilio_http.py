"""The twilio client's HTTP layer (twilio's own, on ``requests``) against local servers:
certificates are verified (with the CA bundle the environment names), the environment's proxy
is used with its credentials, connections are kept alive, and a request that never left is told
apart from one whose answer was lost."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.outbox import Outgoing, RetryLater, Sent, Undeliverable
from sms.sender import SegmentPacer, TwilioSender, twilio_client
from tests.sms_support import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER
from tests.standins.twilio_api import TwilioStandIn

PHONE = "+8613800138000"
PROXY_VARIABLES = [
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "https_proxy", "http_proxy", "all_proxy", "no_proxy",
]  # fmt: skip


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def sender_to(api_base: str) -> TwilioSender:
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, api_base)
    return TwilioSender(client, sender=OUR_NUMBER, pacer=SegmentPacer(1000.0))


def certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) for ``name`` (``IP:…`` or ``DNS:…``)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=platebot test", "-addext", f"subjectAltName={name}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_standin(cert: Path, key: Path) -> TwilioStandIn:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, tls=context)


def test_tls_to_a_server_whose_certificate_the_environments_ca_bundle_vouches_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = certificate(tmp_path, "IP:127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with tls_standin(cert, key) as standin:
        outcome = sender_to(standin.url).send(Outgoing(PHONE, "验证码 123456"))
        assert isinstance(outcome, Sent)
        assert [r.body for r in standin.delivered] == ["验证码 123456"]


@pytest.mark.parametrize(
    ("name", "trusted"),
    [("IP:127.0.0.1", False), ("DNS:elsewhere.example.org", True)],
    ids=["no-trusted-authority-signed-it", "trusted-but-for-another-host"],
)
def test_a_certificate_that_does_not_vouch_for_the_host_is_refused_before_anything_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, trusted: bool
) -> None:
    cert, key = certificate(tmp_path, name)
    if trusted:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    with tls_standin(cert, key) as standin:
        outcome = sender_to(standin.url).send(Outgoing(PHONE, "验证码 123456"))
        assert isinstance(outcome, Undeliverable)  # as with requests: not retried
        assert standin.requests == []


def test_a_refused_connection_never_reached_twilio_and_is_retried() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    outcome = sender_to(f"http://127.0.0.1:{port}").send(Outgoing(PHONE, "通知"))
    assert isinstance(outcome, RetryLater)
    assert "unreachable" in outcome.error


def test_messages_share_one_kept_alive_connection() -> None:
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        sender = sender_to(standin.url)
        for n in range(3):
            assert isinstance(sender.send(Outgoing(PHONE, f"通知{n}")), Sent)
        session = sender.client.http_client.session
        manager = session.get_adapter(standin.url).poolmanager
        (key,) = manager.pools.keys()  # the container is not iterable itself
        pool = manager.pools[key]
        assert pool.num_connections == 1
        assert pool.num_requests == 3


class FakeProxy:
    """An HTTP proxy that answers as Twilio would, and keeps what it was asked."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []  # (request target, Proxy-Authorization)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
                data = json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@pytest.fixture
def proxy() -> Iterator[FakeProxy]:
    running = FakeProxy()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_the_environments_proxy_is_used_with_its_credentials(
    proxy: FakeProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://relay:p%40ss@127.0.0.1:{proxy.port}")
    sender = sender_to("http://api.twilio.invalid")
    monkeypatch.delenv("HTTP_PROXY")  # read once, when the client was built
    assert sender.send(Outgoing(PHONE, "通知")) == Sent(provider_id="SM" + "0" * 32)
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    credentials = base64.b64encode(b"relay:p@ss").decode()
    assert proxy.seen == [(f"http://api.twilio.invalid{path}", f"Basic {credentials}")]

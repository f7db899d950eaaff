"""The twilio client (on twilio's own ``requests`` client) reads what ``requests`` would take
from the environment (proxy, CA bundle) once, when it is built, and then sends every request
with exactly those settings; and a failed request is retried only when it certainly never
reached Twilio."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import requests
import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from twilio.http.http_client import TwilioHttpClient
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from sms.sender import _never_reached, twilio_client

ACCOUNT_SID = "AC" + "5" * 32
VARIABLES = [
    "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "https_proxy", "http_proxy", "all_proxy", "no_proxy",
]  # fmt: skip
HAS_SOCKS = importlib.util.find_spec("socks") is not None
CA_DIRECTORY = str(Path(DEFAULT_CA_BUNDLE_PATH).parent)  # a directory, as requests also takes


@pytest.mark.parametrize("api_base", [None, "http://127.0.0.1:8080", "https://api.example.org/"])
@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"HTTPS_PROXY": "http://proxy.internal:3128", "HTTP_PROXY": "http://proxy.internal:3128"},
        {"HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "api.twilio.com,127.0.0.1"},
        {"REQUESTS_CA_BUNDLE": DEFAULT_CA_BUNDLE_PATH},  # a file
        {"CURL_CA_BUNDLE": CA_DIRECTORY, "ALL_PROXY": "socks5://proxy.internal:1080"},
    ],
)
def test_requests_go_with_the_proxy_and_ca_bundle_the_environment_gave(
    monkeypatch: pytest.MonkeyPatch, api_base: str | None, environment: dict[str, str]
) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    base = (api_base or "https://api.twilio.com").rstrip("/")
    url = base + f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    fresh = requests.Session().merge_environment_settings(url, {}, None, None, None)
    proxy = select_proxy(url, fresh["proxies"])
    if proxy is not None and proxy.startswith("socks") and not HAS_SOCKS:
        with pytest.raises(RuntimeError, match="PySocks"):  # at start, not at every send
            twilio_client(ACCOUNT_SID, "token", api_base)
        return
    http = twilio_client(ACCOUNT_SID, "token", api_base).http_client
    assert isinstance(http, TwilioHttpClient) and http.session is not None
    scheme = url.split(":", 1)[0]
    assert http.proxy == ({scheme: proxy} if proxy is not None else {})
    verify = fresh["verify"]
    assert http.session.verify == (DEFAULT_CA_BUNDLE_PATH if verify is True else verify)
    # what each request goes with: exactly that, whatever the environment says by then
    settings = http.session.merge_environment_settings(url, http.proxy, None, None, None)
    assert select_proxy(url, settings["proxies"]) == proxy
    assert settings["verify"] == http.session.verify


def test_the_environment_is_not_read_again_for_each_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    http = twilio_client(ACCOUNT_SID, "token").http_client
    assert isinstance(http, TwilioHttpClient) and http.session is not None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/no-such-office-ca.pem")
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    settings = http.session.merge_environment_settings(url, http.proxy, None, None, None)
    assert select_proxy(url, settings["proxies"]) is None
    assert settings["verify"] == DEFAULT_CA_BUNDLE_PATH


def _pool_error(error: Exception) -> MaxRetryError:
    return MaxRetryError(None, "https://api.twilio.com/", error)  # type: ignore[arg-type]


NO_CONNECTION = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
NO_HOST = NameResolutionError("api.twilio.com", None, OSError("no such host"))  # type: ignore[arg-type]
CONNECT_TIMEOUT = ConnectTimeoutError(None, "connect timed out")
LOST = ProtocolError("Connection aborted.", ConnectionResetError())
READ_TIMEOUT = ReadTimeoutError(None, "/", "read timed out")  # type: ignore[arg-type]
TLS = SSLError("certificate verify failed")
PROXY = ProxyError("Unable to connect to proxy", NO_CONNECTION)


@pytest.mark.parametrize(
    ("error", "never_reached"),
    [
        (NO_CONNECTION, True),
        (NO_HOST, True),
        (CONNECT_TIMEOUT, True),
        (_pool_error(NO_CONNECTION), True),
        (_pool_error(CONNECT_TIMEOUT), True),
        (LOST, False),
        (READ_TIMEOUT, False),
        (TLS, False),
        (PROXY, False),
        (_pool_error(PROXY), False),
        (_pool_error(LOST), False),
        # what twilio's own client on requests raises for the same failures
        (requests.ConnectTimeout(_pool_error(CONNECT_TIMEOUT)), True),
        (requests.ConnectionError(_pool_error(NO_CONNECTION)), True),
        (requests.ConnectionError(LOST), False),
        (requests.ReadTimeout(READ_TIMEOUT), False),
        (requests.exceptions.SSLError(_pool_error(TLS)), False),
        (requests.exceptions.ProxyError(_pool_error(PROXY)), False),
    ],
)
def test_only_a_request_that_never_left_counts_as_never_reached(
    error: urllib3.exceptions.HTTPError | requests.RequestException, never_reached: bool
) -> None:
    assert _never_reached(error) is never_reached


def test_a_ca_bundle_that_cannot_be_read_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/no-such-office-ca.pem")
    with pytest.raises(RuntimeError, match=r"no-such-office-ca\.pem"):
        twilio_client(ACCOUNT_SID, "token")

"""The twilio client reads what ``requests`` takes from the environment (proxy, CA bundle) once,
when it is built, and then sends every request with exactly those settings."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sms.sender import twilio_client

ACCOUNT_SID = "AC" + "5" * 32


def settings_of_a_request(api_base: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the client sends a request with, what ``requests`` would read for it now)."""
    client = twilio_client(ACCOUNT_SID, "token", api_base)
    http = client.http_client
    url = client.api.base_url + f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    sent = http.session.merge_environment_settings(url, http.proxy, None, None, None)
    fresh = requests.Session().merge_environment_settings(url, {}, None, None, None)
    return sent, fresh


@pytest.mark.parametrize("api_base", [None, "http://127.0.0.1:8080", "https://api.example.org/"])
@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"HTTPS_PROXY": "http://proxy.internal:3128", "HTTP_PROXY": "http://proxy.internal:3128"},
        {"HTTPS_PROXY": "http://proxy.internal:3128", "NO_PROXY": "api.twilio.com,127.0.0.1"},
        {"REQUESTS_CA_BUNDLE": "/etc/ssl/office-ca.pem"},
        {"CURL_CA_BUNDLE": "/etc/ssl/curl-ca.pem", "ALL_PROXY": "socks5://proxy.internal:1080"},
    ],
)
def test_requests_go_with_the_proxy_and_ca_bundle_the_environment_gave(
    monkeypatch: pytest.MonkeyPatch, api_base: str | None, environment: dict[str, str]
) -> None:
    for name in [
        "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE", "https_proxy", "http_proxy", "all_proxy", "no_proxy",
    ]:  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    sent, fresh = settings_of_a_request(api_base)
    assert sent == fresh


def test_the_environment_is_not_read_again_for_each_request() -> None:
    client = twilio_client(ACCOUNT_SID, "token")
    assert client.http_client.session.trust_env is False

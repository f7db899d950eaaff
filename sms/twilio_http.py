"""The twilio client's HTTP layer on urllib3 alone.

twilio's own ``TwilioHttpClient`` goes through ``requests``: a session that prepares every
request (hooks, cookies, redirects, the environment's settings, an adapter that rebuilds the TLS
settings of its connection), which cost about a millisecond of CPU per message. This client
sends the same request (method, URL, form body, headers, basic auth) through one urllib3 pool
that keeps its connections alive, and hands twilio the same ``Response``.

What ``requests`` would take from the environment is read once, when the client is built, the
way ``requests`` reads it: the proxy for the API's host (``HTTPS_PROXY``, ``ALL_PROXY``,
``NO_PROXY``...) and the CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's,
as ``requests`` uses). Certificates and host names are always verified.

Nothing is retried or redirected here: a failure comes back as urllib3's exception, and
``sms.sender`` decides whether the request may have reached Twilio.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_auth_from_url, select_proxy
from twilio.http import HttpClient
from twilio.http.request import Request as TwilioRequest
from twilio.http.response import Response
from urllib3.util import make_headers, parse_url

_logger = logging.getLogger("twilio.http_client")

_JSON_TYPES = ("application/json", "application/scim+json")


class Urllib3HttpClient(HttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """A ``twilio.http.HttpClient`` on one keep-alive urllib3 pool; see the module's docstring.

    ``api_base`` is the URL whose proxy the environment decides (Twilio's API, or a stand-in).
    """

    def __init__(self, api_base: str, *, timeout: float, logger: logging.Logger = _logger) -> None:
        super().__init__(logger, False, timeout)
        settings = requests.Session().merge_environment_settings(api_base, {}, None, None, None)
        self.proxy_url: str | None = select_proxy(api_base, settings["proxies"])
        verify = settings["verify"]
        self.ca_bundle: str = DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
        self.pool = _pool(self.proxy_url, _verifying_context(self.ca_bundle))
        self._auth: tuple[tuple[str, str], str] | None = None  # the last auth and its header
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        # Without a proxy, requests to the API's host go straight to its connection pool: the
        # manager's parsing of the URL and look-up of the pool cost a fifth of a request.
        origin = parse_url(api_base)
        self._origin = f"{origin.scheme}://{origin.netloc}"
        self._direct = self.pool.connection_from_url(api_base) if self.proxy_url is None else None

    def request(  # noqa: PLR0917 - the signature of twilio's HttpClient.request
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        method = method.upper()
        sent = dict(headers or {})
        if auth is not None:
            sent["Authorization"] = self._basic(auth)
        if params:
            url += ("&" if "?" in url else "?") + _form(params)
        body: str | None = None
        if data is not None and sent.get("Content-Type") in _JSON_TYPES:
            body = json.dumps(data, allow_nan=False)
        elif data:
            body = _form(data)
        if self.logger.isEnabledFor(logging.INFO):  # twilio's log lines are built eagerly
            self.log_request({"method": method, "url": url, "params": None, "headers": sent})
        self._test_only_last_response = None
        self._test_only_last_request = TwilioRequest(
            method=method, url=url, auth=auth, params=params, data=data, headers=headers
        )
        options: dict[str, Any] = {
            "body": body.encode() if body is not None else None,
            "headers": sent,
            "timeout": (
                self._timeout
                if timeout == self.timeout
                else urllib3.Timeout(connect=timeout, read=timeout)
            ),
            "retries": False,  # never sent twice by this layer
            "redirect": allow_redirects,
        }
        if self._direct is not None and url.startswith(self._origin + "/"):
            answer = self._direct.urlopen(method, url[len(self._origin) :], **options)
        else:
            answer = self.pool.request(method, url, **options)
        if self.logger.isEnabledFor(logging.INFO):
            self.log_response(answer.status, answer)
        response = Response(answer.status, _text(answer), answer.headers)
        self._test_only_last_response = response
        return response

    def _basic(self, auth: tuple[str, str]) -> str:
        """The Authorization header, as ``requests`` encodes it (latin-1); made again only
        when the credentials change."""
        if self._auth is None or self._auth[0] != auth:
            header = make_headers(basic_auth=f"{auth[0]}:{auth[1]}")["authorization"]
            self._auth = (auth, header)
        return self._auth[1]


def _form(values: Mapping[str, object]) -> str:
    """A form body or query string as ``requests`` encodes a dict: a list gives the key once
    per item, None leaves the key out."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        items = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, item) for item in items if item is not None)
    return urlencode(pairs)


def _text(answer: urllib3.BaseHTTPResponse) -> str:
    """The body as text: the charset the answer names, else UTF-8 (Twilio answers JSON)."""
    charset = "utf-8"
    for part in answer.headers.get("Content-Type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return answer.data.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.data.decode("utf-8", errors="replace")


def _verifying_context(ca_bundle: str) -> ssl.SSLContext:
    """TLS that verifies the certificate and the host name against ``ca_bundle`` (a file or a
    directory, as ``requests`` takes it); loaded once, not for every new connection."""
    context = urllib3.util.ssl_.create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    try:
        if os.path.isdir(ca_bundle):
            context.load_verify_locations(capath=ca_bundle)
        else:
            context.load_verify_locations(cafile=ca_bundle)
    except OSError as error:  # at start, rather than every message failing later
        raise RuntimeError(f"the CA bundle for Twilio cannot be read: {ca_bundle}") from error
    return context


def _pool(proxy_url: str | None, context: ssl.SSLContext) -> urllib3.PoolManager:
    """Keep-alive connections (a few: the dispatcher sends one message at a time), through the
    proxy if there is one, as ``requests`` would go through it."""
    options: dict[str, Any] = {
        "num_pools": 4,
        "maxsize": 4,
        "ssl_context": context,
        "cert_reqs": ssl.CERT_REQUIRED,
    }
    if proxy_url is None:
        return urllib3.PoolManager(**options)
    if proxy_url.lower().startswith("socks"):
        if importlib.util.find_spec("socks") is None:  # urllib3 would only warn, then fail
            raise RuntimeError(
                "the environment names a SOCKS proxy for Twilio; that needs PySocks "
                "(pip install 'urllib3[socks]')"
            )
        from urllib3.contrib.socks import SOCKSProxyManager  # noqa: PLC0415 - needs PySocks

        return SOCKSProxyManager(proxy_url, **options)  # credentials go in the URL
    user, password = get_auth_from_url(proxy_url)
    proxy_headers = make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
    return urllib3.ProxyManager(proxy_url, proxy_headers=proxy_headers, **options)

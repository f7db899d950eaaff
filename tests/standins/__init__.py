"""Stand-ins for outside services, served over HTTP on 127.0.0.1 for tests."""

from __future__ import annotations

import socket
import sys
from http.server import ThreadingHTTPServer
from typing import Any


class StandInServer(ThreadingHTTPServer):
    """A threaded HTTP server that lets a client go away quietly: a server process the tests or
    benchmarks kill with -9 mid-request resets its connections, which is not the stand-in's
    error and would otherwise print a traceback for each."""

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

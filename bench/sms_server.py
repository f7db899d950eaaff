"""The server the SMS benchmark runs: platebot's HTTP app as ``platebot serve`` builds it, plus one
bare endpoint that does nothing, so both are measured in the same process with the same
settings. Started by ``bench/sms_load.py`` as ``uvicorn bench.sms_server:create --factory``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.responses import Response

from web.app import create_from_env

BARE_PATH = "/bench/bare"
_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def create() -> FastAPI:
    api = create_from_env()

    @api.post(BARE_PATH, include_in_schema=False)
    async def bare() -> Response:
        """What a webhook costs with no work behind it."""
        return Response(content=_EMPTY_TWIML, media_type="application/xml")

    return api

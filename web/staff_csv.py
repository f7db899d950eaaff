"""CSV uploads of the staff API (the vehicle registry, pool serials): the body is the file, read
as UTF-8 text; no file, another encoding, a NUL character or what the csv module cannot read is
refused as a ``Problem`` (422) that says what to do."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from web.staff_errors import INVALID, Refused
from web.staff_models import NO_NUL

T = TypeVar("T")

CSV_BODY = {  # the request body of a CSV upload, in the document
    "requestBody": {
        "required": True,
        "description": "The CSV file, UTF-8 (a byte order mark is allowed).",
        "content": {"text/csv": {"schema": {"type": "string", "minLength": 1, "pattern": NO_NUL}}},
    }
}


async def csv_text(request: Request) -> str:
    """The request's CSV as text: UTF-8 (a byte order mark is allowed); no body, or anything
    else (a spreadsheet saved as GBK "CSV", an .xlsx file), is refused with 422 and what to do."""
    body = await request.body()
    if not body:
        reason = "a CSV file is required"
        params: dict[str, str | int] = {"field": "body", "reason": reason}
        raise Refused(422, "request.invalid", INVALID.format(errors=f"body: {reason}"), params)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        at: dict[str, str | int] = {"offset": error.start}
        raise Refused(422, "csv.not_utf8", _NOT_UTF8.format(offset=error.start), at) from error
    if "\x00" in text:
        reason = "a NUL character is not text"
        params = {"field": "body", "reason": reason}
        raise Refused(422, "request.invalid", INVALID.format(errors=f"body: {reason}"), params)
    return text


def read_csv(read: Callable[[], T]) -> T:
    """``read()``, a CSV file that the csv module cannot read (a field over its 128 KiB limit)
    refused with 422."""
    try:
        return read()
    except csv.Error as error:
        raise Refused(422, "csv.unreadable", _UNREADABLE.format(reason=error)) from error


_UNREADABLE = "The file cannot be read as CSV ({reason}). Nothing was imported."
_NOT_UTF8 = (
    "The file is not UTF-8 text (the bytes at offset {offset} are not UTF-8). Send the CSV "
    "encoded as UTF-8: in Excel or WPS choose Save As > 'CSV UTF-8 (Comma delimited)'; an .xlsx "
    "workbook or a GBK-encoded CSV is not accepted. Nothing was imported."
)

"""The sandbox payment provider: a stand-in gateway in test mode, behind the same port as a real
one (``core.payments.PaymentProvider``).

Its cashier is our own pay page (``/pay/{token}``, ``web/pay.py``). When the user presses Pay, the
sandbox does what a real gateway does once money arrives: it posts a signed callback to
``{PLATEBOT_PUBLIC_URL}/pay/callback``. The signature is HMAC-SHA256 (the standard ``hmac``
module) over ``"{timestamp}." + body``, sent as ``Platebot-Signature: t=<unix time>,v1=<hex>`` —
the scheme Stripe's webhooks use: the timestamp is signed with the body, so an old callback
cannot be re-sent with a fresh time. Refunds succeed at once, as in a gateway's test mode.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError

from core.orders import Order
from core.payments import (
    CallbackMalformed,
    CallbackSignatureBad,
    CallbackStale,
    PaymentNotice,
)

SIGNATURE_HEADER = "Platebot-Signature"
TOLERANCE = timedelta(minutes=5)  # how far a callback's timestamp may be from our clock


def derive_secret(key: bytes) -> bytes:
    """The callback key made from the server's secret key, when none is configured: each use
    of the key gets its own derived key."""
    return hmac.new(key, b"platebot payment callbacks", hashlib.sha256).digest()


class CallbackBody(BaseModel):
    """What the sandbox's callback says (JSON)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    event_id: str
    order_id: int
    amount: int
    currency: str
    paid_at: datetime
    transaction: str


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class SandboxGateway:
    name = "sandbox"

    def __init__(self, secret: bytes, public_url: str, tolerance: timedelta = TOLERANCE) -> None:
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.tolerance = tolerance

    # -- the office's side (the port) ---------------------------------------------------------

    def pay_url(self, order: Order) -> str:
        return f"{self.public_url}/pay/{order.pay_token}"

    def verify_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentNotice:
        timestamp, signatures = self._signature_parts(headers)
        expected = _mac(self.secret, timestamp, body)
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise CallbackSignatureBad()
        if abs(now.timestamp() - timestamp) > self.tolerance.total_seconds():
            raise CallbackStale(timestamp=timestamp)
        try:
            parsed = CallbackBody.model_validate_json(body)
        except ValidationError as error:
            raise CallbackMalformed(problem=str(error.errors()[0]["msg"])) from error
        if parsed.paid_at.tzinfo is None:
            raise CallbackMalformed(problem="paid_at has no time zone")
        return PaymentNotice(
            event_id=parsed.event_id,
            order_id=parsed.order_id,
            amount=parsed.amount,
            currency=parsed.currency,
            paid_at=parsed.paid_at.astimezone(UTC),
            transaction=parsed.transaction,
            digest=hashlib.sha256(body).hexdigest(),
        )

    def refund(self, order: Order, amount: int, refund_id: str) -> str:
        return f"SBXR-{refund_id}"

    def _signature_parts(self, headers: Mapping[str, str]) -> tuple[int, list[str]]:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        timestamp: int | None = None
        signatures: list[str] = []
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name == "t" and value.isdigit():
                timestamp = int(value)
            elif name == "v1":
                signatures.append(value)
        if timestamp is None or not signatures:
            raise CallbackSignatureBad()
        return timestamp, signatures

    # -- the gateway's side: what it posts when the user pays --------------------------------

    def signed(self, body: bytes, at: datetime) -> dict[str, str]:
        timestamp = int(at.timestamp())
        return {
            SIGNATURE_HEADER: f"t={timestamp},v1={_mac(self.secret, timestamp, body)}",
            "Content-Type": "application/json",
        }

    def callback_for(self, order: Order, now: datetime) -> tuple[bytes, dict[str, str]]:
        """The callback the sandbox posts when the user pays ``order`` in full, now."""
        body = CallbackBody(
            event_id=f"evt_{secrets.token_hex(12)}",
            order_id=order.id or 0,
            amount=order.amount,
            currency=order.currency,
            paid_at=now,
            transaction=f"SBX{secrets.token_hex(8).upper()}",
        )
        raw = body.model_dump_json().encode()
        return raw, self.signed(raw, now)

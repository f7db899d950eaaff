"""Pay pages and payment callbacks (SPEC §5):

- ``GET /pay/{token}``: the order (what for, amount, deadline in Asia/Shanghai, state) with Pay
  and Cancel as plain form posts — no script, so it works in any phone's browser and in
  Telegram's. zh or en: ``?lang=``, else the account's language.
- ``POST /pay/{token}/pay``: the sandbox's cashier. It posts the signed callback a gateway would
  send to ``{PLATEBOT_PUBLIC_URL}/pay/callback`` (over HTTP, like a real gateway), then shows the
  page again.
- ``POST /pay/{token}/cancel``: the user gives the order up.
- ``POST /pay/callback``: the gateway's word that money arrived. The provider checks signature and
  timestamp; ``core.payments.receive_payment`` the rest. A refused callback changes nothing and is
  answered 400 (signature, time, form), 404 (unknown order), 409 (event id reused with another
  body) or 422 (amount, currency); a duplicate is answered 200 and pays once.

The token in the address is random (``core.orders.new_pay_token``), never the order id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, FastAPI, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.accounts import Language
from core.clock import Clock, format_local
from core.orders import Cause, MoveKind, Order, OrderNotPending, OrderState
from core.payments import (
    CallbackAmountMismatch,
    CallbackCurrencyMismatch,
    CallbackRefused,
    CallbackReplayed,
    CallbackUnknownOrder,
    PaymentProvider,
    cancel_order,
    receive_payment,
)
from core.plates import plates_in_text
from core.ports import UnitOfWork
from dialogs.catalog import render_text
from dialogs.money import format_yuan
from dialogs.replies import Text
from web.routes import add_routes
from web.sandbox import SandboxGateway

log = logging.getLogger(__name__)

CALLBACK_PATH = "/pay/callback"
_TEMPLATES = Environment(
    loader=PackageLoader("web", "templates"), autoescape=select_autoescape(), auto_reload=False
)
_STATUS = {
    CallbackUnknownOrder: status.HTTP_404_NOT_FOUND,
    CallbackReplayed: status.HTTP_409_CONFLICT,
    CallbackAmountMismatch: status.HTTP_422_UNPROCESSABLE_CONTENT,
    CallbackCurrencyMismatch: status.HTTP_422_UNPROCESSABLE_CONTENT,
}
_PAGE_KEYS = (
    "title",
    "sandbox",
    "order_no",
    "item",
    "amount",
    "state",
    "cancel",
    "not_found",
    "other_language",
    "gateway_down",
)


class CallbackRefusal(BaseModel):
    code: str
    message: str


@dataclass(frozen=True)
class PageOrder:
    """What the page shows of an order, in the reader's language."""

    number: int
    item: str
    amount: str
    state: str
    pending: bool
    pay_action: str
    cancel_action: str


def _language(given: str | None, fallback: Language) -> Language:
    try:
        return Language(given) if given else fallback
    except ValueError:
        return fallback


def _text(language: Language, key: str, **params: str | int) -> str:
    return render_text(Text(key, params), language)


def _notices(order: Order, late: int, language: Language, state: OrderState) -> list[str]:
    lines = []
    refunded = format_yuan(order.refunded - late)
    if state is OrderState.PAID:
        lines.append(_text(language, "pay.paid"))
        if order.refunded > late:
            lines.append(_text(language, "pay.partly_refunded", refunded=refunded))
    elif state is OrderState.REFUNDED:
        lines.append(_text(language, "pay.refunded", refunded=refunded))
    elif state is not OrderState.PENDING:
        lines.append(_text(language, f"pay.{state.value}"))
    if late:
        lines.append(_text(language, "pay.late_refunded", amount=format_yuan(late)))
    return lines


def payable(order: Order, now: datetime) -> bool:
    """Pay is offered until the deadline, as a gateway's cashier closes then (the timer expires
    the order within a second or so)."""
    return order.state is OrderState.PENDING and not order.past_deadline(now)


def render_page(
    order: Order | None,
    late: int,
    language: Language,
    now: datetime,
    *,
    problem: str | None = None,
) -> str:
    """The pay page of ``order`` (None: not found) at ``now``; ``late``: fen received late and
    given back."""
    t = {key: _text(language, f"pay.{key}") for key in _PAGE_KEYS}
    shown: PageOrder | None = None
    notices: list[str] = []
    if order is not None:
        amount = format_yuan(order.amount)
        open_ = payable(order, now)
        state = (
            OrderState.EXPIRED if order.state is OrderState.PENDING and not open_ else order.state
        )
        t["pay"] = _text(language, "pay.pay", amount=amount)
        t["deadline"] = _text(language, "pay.deadline", deadline=format_local(order.deadline))
        shown = PageOrder(
            number=order.id or 0,
            item=f"{_text(language, f'order.purpose.{order.purpose.value}')} "
            f"{plates_in_text(order.subject, language)}",
            amount=amount,
            state=_text(language, f"order.state.{state.value}"),
            pending=open_,
            pay_action=f"/pay/{order.pay_token}/pay",
            cancel_action=f"/pay/{order.pay_token}/cancel",
        )
        notices = _notices(order, late, language, state)
    if problem is not None:
        notices.append(problem)
    return _TEMPLATES.get_template("pay.html").render(
        t=t,
        order=shown,
        notices=notices,
        problem=problem is not None,
        lang=language.value,
        other_lang=(Language.EN if language is Language.ZH else Language.ZH).value,
        html_lang="zh-CN" if language is Language.ZH else "en",
    )


@dataclass(frozen=True)
class PayDesk:
    """What the pay routes are handed by the composition root."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    payments: PaymentProvider
    public_url: str
    default_language: Language


def mount(api: FastAPI, app: PayDesk) -> None:
    router = APIRouter(tags=["payments"], dependency_overrides_provider=api)
    default_language = app.default_language
    callback_url = app.public_url.rstrip("/") + CALLBACK_PATH
    # Where the sandbox posts its callbacks: the network, unless a test hands the app itself in.
    api.state.pay_transport = None

    def load(token: str) -> tuple[Order | None, int, Language]:
        with app.uow() as uow:
            order = uow.orders.by_token(token)
            if order is None or order.id is None:
                return None, 0, default_language
            account = uow.accounts.view(order.account_id)
            moves = uow.orders.moves(order.id)
            late = sum(m.amount for m in moves if m.kind is MoveKind.RECEIVED_LATE)
            return order, late, account.language if account else default_language

    async def page(
        token: str, lang: str | None, *, problem: str | None = None, code: int = 200
    ) -> HTMLResponse:
        order, late, language = await run_in_threadpool(load, token)
        language = _language(lang, language)
        if order is None:
            code = status.HTTP_404_NOT_FOUND
        html = render_page(
            order, late, language, app.clock.now(), problem=problem and _text(language, problem)
        )
        return HTMLResponse(html, status_code=code, headers={"Cache-Control": "no-store"})

    def back(token: str, lang: str | None) -> RedirectResponse:
        query = f"?lang={lang}" if lang in {"zh", "en"} else ""
        return RedirectResponse(f"/pay/{token}{query}", status_code=status.HTTP_303_SEE_OTHER)

    # The pages are for browsers, not part of the API: left out of the OpenAPI document.
    @router.get("/pay/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def show(token: str, lang: str | None = None) -> HTMLResponse:
        """The pay page of one order."""
        return await page(token, lang)

    @router.post("/pay/{token}/cancel", response_model=None, include_in_schema=False)
    async def cancel(token: str, lang: Annotated[str | None, Form()] = None) -> Response:
        """The user cancels a pending order; what it held is released."""

        def run() -> bool:
            with app.uow() as uow:
                order = uow.orders.by_token(token)
                if order is None or order.id is None:
                    return False
                try:
                    cancel_order(uow, order_id=order.id, now=app.clock.now(), cause=Cause.USER)
                except OrderNotPending:
                    return True  # paid or expired meanwhile: the page shows which
                uow.commit()
                return True

        if not await run_in_threadpool(run):
            return await page(token, lang)
        return back(token, lang)

    @router.post("/pay/{token}/pay", response_model=None, include_in_schema=False)
    async def pay(
        request: Request, token: str, lang: Annotated[str | None, Form()] = None
    ) -> Response:
        """The sandbox's cashier: the user paid; the gateway posts its signed callback."""
        gateway = app.payments
        if not isinstance(gateway, SandboxGateway):
            return await page(token, lang, code=status.HTTP_404_NOT_FOUND)
        order, _late, _language_of = await run_in_threadpool(load, token)
        now = app.clock.now()
        if order is None or not payable(order, now):
            return await page(token, lang)
        body, headers = gateway.callback_for(order, now)
        transport = request.app.state.pay_transport
        try:
            async with httpx.AsyncClient(transport=transport, timeout=30) as client:
                answer = await client.post(callback_url, content=body, headers=headers)
        except httpx.HTTPError:
            log.exception("the sandbox could not post its callback to %s", callback_url)
            return await page(token, lang, problem="pay.gateway_down", code=502)
        if answer.status_code != status.HTTP_200_OK:
            log.warning("the sandbox's callback was answered %s", answer.status_code)
            return await page(token, lang, problem="pay.gateway_down", code=502)
        return back(token, lang)

    mount_callback(router, app)
    add_routes(api, router)


def mount_callback(router: APIRouter, app: PayDesk) -> None:
    @router.post(
        CALLBACK_PATH,
        summary="Payment gateway callback",
        description="A gateway's signed notice that an order was paid (the sandbox's: JSON, "
        "signed in the `Platebot-Signature` header). Refused callbacks change nothing.",
        responses={
            200: {"description": '`{"status": "paid" | "duplicate" | "refunded"}`'},
            400: {"model": CallbackRefusal, "description": "Bad signature, stale or malformed."},
            404: {"model": CallbackRefusal, "description": "Unknown order."},
            409: {"model": CallbackRefusal, "description": "Event id reused with another body."},
            422: {"model": CallbackRefusal, "description": "Amount or currency differs."},
        },
    )
    async def callback(request: Request) -> JSONResponse:
        """A payment gateway's signed notice that an order was paid."""
        body = await request.body()
        headers = dict(request.headers)

        def run() -> dict[str, Any]:
            now = app.clock.now()
            notice = app.payments.verify_callback(body, headers, now)
            with app.uow() as uow:
                outcome = receive_payment(uow, app.payments, notice, now)
                uow.commit()
            return {"status": outcome.value}

        try:
            result = await run_in_threadpool(run)
        except CallbackRefused as refused:
            log.warning("payment callback refused: %s %s", refused.code, refused.params)
            return JSONResponse(
                {
                    "code": refused.code,
                    "message": _text(Language.EN, f"error.{refused.code}", **refused.params),
                },
                status_code=_STATUS.get(type(refused), status.HTTP_400_BAD_REQUEST),
            )
        return JSONResponse(result)

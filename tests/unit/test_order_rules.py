"""The rules of one order (SPEC §5), the sandbox's callback signatures and how money is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from core.orders import (
    AmountInvalid,
    Cause,
    MoveKind,
    Order,
    OrderNotDue,
    OrderNotPaid,
    OrderNotPending,
    OrderPastDeadline,
    OrderState,
    Purpose,
    RefundInvalid,
    new_order,
)
from core.payments import CallbackMalformed, CallbackSignatureBad, CallbackStale
from dialogs.money import format_yuan
from platebot.bootstrap import payment_provider
from platebot.settings import Settings, SettingsError, load_settings
from web.sandbox import SIGNATURE_HEADER, SandboxGateway

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def order(amount: int = 1_500_000) -> Order:
    made = new_order(
        account_id=1,
        purpose=Purpose.AUCTION_DEPOSIT,
        reference="period:1",
        subject="2026-12",
        amount=amount,
        now=NOW,
    )
    made.id = 7
    return made


def paid(amount: int = 1_500_000) -> Order:
    made = order(amount)
    made.pay(NOW, cause=Cause.GATEWAY, via="sandbox", reference="T1")
    return made


def test_an_order_is_due_thirty_minutes_after_it_is_placed() -> None:
    assert order().deadline == NOW + timedelta(minutes=30)
    assert order().state is OrderState.PENDING


@pytest.mark.parametrize("amount", [0, -1])
def test_an_order_is_for_some_money(amount: int) -> None:
    with pytest.raises(AmountInvalid):
        order(amount)


def test_payment_is_taken_up_to_and_at_the_deadline_but_not_after() -> None:
    on_time = order()
    move = on_time.pay(on_time.deadline, cause=Cause.GATEWAY, via="sandbox", reference="T1")
    assert (move.kind, move.from_state, move.to_state, move.amount) == (
        MoveKind.PAID,
        OrderState.PENDING,
        OrderState.PAID,
        1_500_000,
    )
    late = order()
    with pytest.raises(OrderPastDeadline):
        late.pay(late.deadline + timedelta(seconds=1), cause=Cause.GATEWAY, via="x", reference="T")


def test_an_order_expires_only_after_its_deadline_and_only_while_pending() -> None:
    pending = order()
    with pytest.raises(OrderNotDue):
        pending.expire(pending.deadline)
    move = pending.expire(pending.deadline + timedelta(seconds=1))
    assert (move.to_state, move.cause) == (OrderState.EXPIRED, Cause.TIMER)
    with pytest.raises(OrderNotPending):
        paid().expire(NOW + timedelta(hours=1))


@pytest.mark.parametrize("state", ["paid", "cancelled", "expired"])
def test_only_a_pending_order_is_paid_or_cancelled(state: str) -> None:
    made = paid() if state == "paid" else order()
    if state == "cancelled":
        made.cancel(NOW, cause=Cause.USER)
    if state == "expired":
        made.expire(NOW + timedelta(hours=1))
    with pytest.raises(OrderNotPending):
        made.pay(NOW, cause=Cause.STAFF, via="counter", reference="R")
    with pytest.raises(OrderNotPending):
        made.cancel(NOW, cause=Cause.USER)


def test_partial_refunds_add_up_and_the_last_one_makes_the_order_refunded() -> None:
    made = paid()
    first = made.refund(500_000, NOW, cause=Cause.STAFF, reference="F1")
    assert (first.amount, first.to_state, made.balance) == (-500_000, OrderState.PAID, 1_000_000)
    with pytest.raises(RefundInvalid):
        made.refund(1_000_001, NOW, cause=Cause.STAFF, reference="F2")
    last = made.refund(1_000_000, NOW, cause=Cause.STAFF, reference="F2")
    assert (last.to_state, made.refunded, made.balance) == (OrderState.REFUNDED, 1_500_000, 0)
    with pytest.raises(OrderNotPaid):
        made.refund(1, NOW, cause=Cause.STAFF, reference="F3")


@pytest.mark.parametrize("amount", [0, -5])
def test_a_refund_is_of_some_money(amount: int) -> None:
    with pytest.raises(RefundInvalid):
        paid().refund(amount, NOW, cause=Cause.STAFF, reference="F")


def test_only_a_paid_order_is_refunded_or_forfeited() -> None:
    with pytest.raises(OrderNotPaid):
        order().refund(1, NOW, cause=Cause.STAFF, reference="F")
    with pytest.raises(OrderNotPaid):
        order().forfeit(NOW, cause=Cause.STAFF)
    kept = paid()
    kept.refund(1_000_000, NOW, cause=Cause.STAFF, reference="F")
    kept.forfeit(NOW, cause=Cause.TIMER)
    assert (kept.state, kept.balance) == (OrderState.FORFEITED, 500_000)
    with pytest.raises(OrderNotPaid):
        kept.refund(1, NOW, cause=Cause.STAFF, reference="F")


def test_a_deposit_share_forfeited_or_counted_to_a_price_can_no_longer_be_refunded() -> None:
    made = paid()  # three shares of ¥5,000
    forfeited = made.forfeit(NOW, cause=Cause.TIMER, amount=500_000, reference="lot:1")
    assert (forfeited.kind, forfeited.to_state, forfeited.amount) == (
        MoveKind.FORFEITED,
        OrderState.PAID,
        0,  # the money stays with the office: the ledger still adds up to what it holds
    )
    applied = made.apply(500_000, NOW, reference="lot:2")
    assert (applied.kind, applied.to_state, made.kept, made.refundable) == (
        MoveKind.APPLIED,
        OrderState.PAID,
        1_000_000,
        500_000,
    )
    with pytest.raises(RefundInvalid):
        made.refund(500_001, NOW, cause=Cause.TIMER, reference="F1")
    made.refund(500_000, NOW, cause=Cause.TIMER, reference="F1")
    assert (made.state, made.balance, made.refundable) == (OrderState.PAID, 1_000_000, 0)
    with pytest.raises(RefundInvalid):
        made.forfeit(NOW, cause=Cause.TIMER, amount=1)


def test_forfeiting_the_last_share_that_could_go_back_makes_the_order_forfeited() -> None:
    made = paid(1_000_000)  # two shares
    made.refund(500_000, NOW, cause=Cause.TIMER, reference="F1")  # one won nothing
    made.forfeit(NOW, cause=Cause.TIMER, amount=500_000)  # the other's balance went unpaid
    assert (made.state, made.refunded, made.kept, made.balance) == (
        OrderState.FORFEITED,
        500_000,
        500_000,
        500_000,
    )


def test_late_money_is_received_and_given_back_without_changing_the_state() -> None:
    made = order()
    made.cancel(NOW, cause=Cause.USER)
    came = made.receive_late(1_500_000, NOW, reference="evt")
    went = made.return_late(1_500_000, NOW, reference="RF")
    assert [came.amount, went.amount] == [1_500_000, -1_500_000]
    assert {came.to_state, went.to_state, made.state} == {OrderState.CANCELLED}
    assert made.balance == 0


# -- the sandbox's signatures ------------------------------------------------------------------

SANDBOX = SandboxGateway(b"k" * 32, "https://pay.example/")


def signed_callback(at: datetime = NOW) -> tuple[bytes, dict[str, str]]:
    return SANDBOX.callback_for(paid(), at)


def test_the_sandbox_pays_on_its_own_address_with_the_random_token() -> None:
    made = order()
    assert SANDBOX.pay_url(made) == f"https://pay.example/pay/{made.pay_token}"
    assert made.pay_token != order().pay_token


def test_a_signed_callback_reads_back_as_the_notice_it_was_made_from() -> None:
    body, headers = signed_callback()
    notice = SANDBOX.verify_callback(body, headers, NOW + timedelta(minutes=5))
    assert (notice.order_id, notice.amount, notice.currency, notice.paid_at) == (
        7,
        1_500_000,
        "CNY",
        NOW,
    )
    assert headers[SIGNATURE_HEADER].startswith(f"t={int(NOW.timestamp())},v1=")


def test_header_names_are_read_in_any_case() -> None:
    body, headers = signed_callback()
    lower = {name.lower(): value for name, value in headers.items()}
    assert SANDBOX.verify_callback(body, lower, NOW).order_id == 7


@pytest.mark.parametrize(
    "header",
    ["", "t=abc,v1=00", "v1=00", "t=1796004000", "t=1796004000,v1=" + "0" * 64],
)
def test_a_callback_without_a_good_signature_is_refused(header: str) -> None:
    body, _ = signed_callback()
    with pytest.raises(CallbackSignatureBad):
        SANDBOX.verify_callback(body, {SIGNATURE_HEADER: header}, NOW)


def test_a_callback_signed_with_another_key_is_refused() -> None:
    body, headers = SandboxGateway(b"other", "http://x").callback_for(paid(), NOW)
    with pytest.raises(CallbackSignatureBad):
        SANDBOX.verify_callback(body, headers, NOW)


def test_a_callback_older_or_newer_than_five_minutes_is_refused() -> None:
    body, headers = signed_callback()
    for now in (NOW + timedelta(minutes=5, seconds=1), NOW - timedelta(minutes=5, seconds=1)):
        with pytest.raises(CallbackStale):
            SANDBOX.verify_callback(body, headers, now)


def test_a_signed_callback_that_is_not_a_payment_notice_is_refused() -> None:
    for body in (b"not json", b'{"order_id": 7}', b'{"amount": "1"}'):
        with pytest.raises(CallbackMalformed):
            SANDBOX.verify_callback(body, SANDBOX.signed(body, NOW), NOW)


@pytest.mark.parametrize(
    ("fen", "shown"),
    [(1_200_000, "¥12,000"), (1_200_050, "¥12,000.50"), (1, "¥0.01"), (500_000, "¥5,000")],
)
def test_money_is_shown_in_yuan_with_the_yuan_sign(fen: int, shown: str) -> None:
    assert format_yuan(fen) == shown


def test_money_reads_as_babel_writes_it_for_a_chinese_office() -> None:
    amounts = [0, 1, 9, 10, 99, 100, 101, 1_000_00, 1_234_567_89, 10**15 + 7]
    amounts += [-fen for fen in amounts] + list(range(0, 2_000_000, 7_777))
    for fen in amounts:
        pattern = "¤#,##0" if fen % 100 == 0 else "¤#,##0.00"
        expected = format_currency(
            Decimal(fen) / 100, "CNY", format=pattern, locale="zh_Hans_CN", currency_digits=False
        )
        assert format_yuan(fen) == expected, fen


# -- settings ----------------------------------------------------------------------------------


def test_the_callback_key_is_the_configured_one_or_derived_from_the_secret_key() -> None:
    body = b"{}"
    derived = payment_provider(Settings(), b"server key")
    other = payment_provider(Settings(), b"another key")
    configured = payment_provider(Settings(payment_secret="callback key"), b"server key")
    signatures = {
        gateway.signed(body, NOW)[SIGNATURE_HEADER]  # type: ignore[attr-defined]
        for gateway in (derived, other, configured)
    }
    assert len(signatures) == 3
    expected = SandboxGateway(b"callback key", "http://x").signed(body, NOW)[SIGNATURE_HEADER]
    assert configured.signed(body, NOW)[SIGNATURE_HEADER] == expected  # type: ignore[attr-defined]


def test_payment_settings_are_checked_at_start() -> None:
    assert (Settings().payment_provider, Settings().order_minutes) == ("sandbox", 30)
    with pytest.raises(SettingsError, match="PLATEBOT_ORDER_MINUTES"):
        load_settings(order_minutes=0)
    with pytest.raises(SettingsError, match="PLATEBOT_PAYMENT_PROVIDER"):
        load_settings(payment_provider="paypal")

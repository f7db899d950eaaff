"""One-time codes: exactly the limits of SPEC §2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import errors, otp

KEY = b"k" * 32
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def _code(plain: str = "123456") -> otp.OneTimeCode:
    return otp.OneTimeCode(
        phone="+8613800138000",
        purpose="register",
        code_hash=otp.hash_code(KEY, "+8613800138000", "register", plain),
        created_at=NOW,
        expires_at=NOW + otp.CODE_TTL,
    )


def test_codes_have_six_digits_and_are_stored_only_as_a_keyed_hash() -> None:
    nonce = otp.new_nonce()
    plain = otp.derive_code(KEY, nonce)
    assert len(plain) == 6 and plain.isdigit()
    assert otp.derive_code(KEY, nonce) == plain != otp.derive_code(b"other key", nonce)
    assert otp.reveal({"code_nonce": nonce, "minutes": 5}, KEY) == {"code": plain, "minutes": 5}
    with pytest.raises(ValueError, match="secret key"):
        otp.reveal({"code_nonce": nonce}, None)
    code = _code(plain)
    assert plain not in code.code_hash
    assert code.code_hash != otp.hash_code(b"other key", code.phone, code.purpose, plain)


def test_right_code_within_five_minutes_is_accepted_once() -> None:
    code = _code()
    code.check(entered="123456", key=KEY, now=NOW + timedelta(minutes=4, seconds=59))
    with pytest.raises(errors.CodeAttemptsExhausted):
        code.check(entered="123456", key=KEY, now=NOW + timedelta(minutes=1))


def test_code_expires_after_five_minutes() -> None:
    with pytest.raises(errors.CodeExpired):
        _code().check(entered="123456", key=KEY, now=NOW + timedelta(minutes=5))


def test_fifth_wrong_entry_uses_the_code_up() -> None:
    code = _code()
    for left in (4, 3, 2, 1):
        with pytest.raises(errors.CodeWrong) as caught:
            code.check(entered="000000", key=KEY, now=NOW)
        assert caught.value.params == {"left": left}
    with pytest.raises(errors.CodeAttemptsExhausted):
        code.check(entered="000000", key=KEY, now=NOW)
    with pytest.raises(errors.CodeAttemptsExhausted):
        code.check(entered="123456", key=KEY, now=NOW)


def test_typed_code_must_be_six_digits() -> None:
    assert otp.clean_entered_code(" 123 456 ") == "123456"
    for bad in ("12345", "1234567", "12345a", "１２３４５６x"):
        with pytest.raises(errors.CodeMalformed):
            otp.clean_entered_code(bad)


PHONE = "+8613800138000"
CHAT = otp.Requester("telegram:42")


def _sent(
    minutes_ago: float,
    purpose: str = "register",
    requester: otp.Requester = CHAT,
    phone: str = PHONE,
) -> otp.Sent:
    when = NOW - timedelta(minutes=minutes_ago)
    return otp.Sent(phone, purpose, requester.key, requester.vouched, when)


def _allow(
    recent: list[otp.Sent],
    purpose: str = "register",
    requester: otp.Requester = CHAT,
    phone: str = PHONE,
) -> None:
    otp.check_send_allowed(
        phone=phone, purpose=purpose, requester=requester, recent=recent, now=NOW
    )


def test_one_send_a_minute() -> None:
    _allow([_sent(1)])
    with pytest.raises(errors.CodeResendTooSoon) as caught:
        _allow([_sent(0.25)])
    assert caught.value.params == {"seconds": 45}


def test_the_minute_between_sends_is_per_purpose_and_chat() -> None:
    """A registration code sent a moment ago never holds up the pre-selection code."""
    _allow([_sent(0.25, purpose="register")], purpose="preselect")
    _allow([_sent(0.25, requester=otp.Requester("sms:+8613800138000", True))])


def test_five_sends_an_hour() -> None:
    sends = [_sent(m) for m in (50, 40, 30, 20, 10)]
    with pytest.raises(errors.CodeHourlyLimit) as caught:
        _allow(sends)
    assert caught.value.params == {"minutes": 10}
    _allow(sends[1:])
    _allow([_sent(61), *sends[1:]])


def test_one_chat_cannot_ask_for_codes_to_many_numbers() -> None:
    sends = [_sent(30 - n, phone=f"+86138001380{n:02d}") for n in range(otp.SENDS_PER_CHAT_HOUR)]
    with pytest.raises(errors.CodeChatLimit):
        _allow(sends, phone="+8613900139000")


def test_strangers_cannot_use_up_the_numbers_allowance_of_its_owner() -> None:
    strangers = [
        _sent(30 - n, requester=otp.Requester(f"console:{n}"))
        for n in range(otp.SENDS_PER_NUMBER_HOUR)
    ]
    with pytest.raises(errors.CodeHourlyLimit):
        _allow(strangers, requester=otp.Requester("telegram:99"))
    _allow(strangers, requester=otp.Requester("sms:+8613800138000", vouched=True))

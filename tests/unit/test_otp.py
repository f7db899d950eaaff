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


def test_one_send_a_minute() -> None:
    otp.check_send_allowed([NOW - timedelta(seconds=60)], NOW)
    with pytest.raises(errors.CodeResendTooSoon) as caught:
        otp.check_send_allowed([NOW - timedelta(seconds=15)], NOW)
    assert caught.value.params == {"seconds": 45}


def test_five_sends_an_hour() -> None:
    sends = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    with pytest.raises(errors.CodeHourlyLimit) as caught:
        otp.check_send_allowed(sends, NOW)
    assert caught.value.params == {"minutes": 10}
    otp.check_send_allowed(sends[1:], NOW)
    otp.check_send_allowed([NOW - timedelta(minutes=61), *sends[1:]], NOW)

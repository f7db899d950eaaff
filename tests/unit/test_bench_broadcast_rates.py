"""The broadcast benchmark's rate figures: what its printout says Telegram reached, and when."""

from datetime import UTC, datetime, timedelta

from bench.broadcast import beside_and_alone, rate

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


def test_a_rate_counts_the_gaps_between_the_first_and_the_last_message() -> None:
    assert rate(at(0, 0.5, 1.0)) == 2.0
    assert rate(at(3)) == 0.0


def test_telegram_is_split_at_the_last_sms_of_the_same_server_process() -> None:
    telegram = at(0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0)
    sms = at(0, 0.5, 1.0)

    assert beside_and_alone(telegram, sms) == ("beside SMS 4/s (5 messages), alone 2/s (4)")
    assert beside_and_alone(telegram, []) == "alone 3/s"

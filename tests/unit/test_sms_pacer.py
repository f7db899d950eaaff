"""Sending is paced to a rate in segments per second; what must wait is postponed, not blocked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sms.sender import SegmentPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def pacer(rate: float, time: FakeTime, **kwargs: float) -> SegmentPacer:
    return SegmentPacer(rate, monotonic=time, sleep=time.sleep, **kwargs)


def test_a_burst_goes_then_the_rest_get_successive_slots() -> None:
    time = FakeTime()
    paced = pacer(2.0, time, burst=1.0, max_wait=0.25)
    assert [paced.reserve(2), paced.reserve(2)] == [None, None]
    assert [paced.reserve(2), paced.reserve(2), paced.reserve(1)] == [1.0, 2.0, 3.0]
    assert time.slept == 0


def test_a_short_wait_is_waited_rather_than_postponed() -> None:
    time = FakeTime()
    paced = pacer(10.0, time, burst=0.0, max_wait=0.25)
    assert [paced.reserve(1) for _ in range(3)] == [None, None, None]
    assert abs(time.slept - 0.2) < 1e-9


def test_promises_hold_for_messages_that_come_back_a_little_late() -> None:
    time = FakeTime()
    paced = pacer(2.0, time, burst=1.0, max_wait=0.25)
    told = [paced.reserve(1) for _ in range(40)]
    assert told[:4] == [None, None, None, 0.5] and told[-1] == 18.5
    time.now += 1.5  # the first three told to come back are back, a second late
    assert [paced.reserve(1) for _ in range(3)] == [None, None, None]
    assert paced.reserve(1) == 17.5  # one asking now: after the last slot promised


def test_promises_nobody_comes_back_for_are_let_go() -> None:
    """Messages told to come back that never do (held or dropped: a broadcast paused or
    cancelled) do not hold back the ones that ask after them."""
    time = FakeTime()
    paced = pacer(2.0, time, burst=1.0, max_wait=0.25)
    told = [paced.reserve(1) for _ in range(40)]
    assert told[:4] == [None, None, None, 0.5] and told[-1] == 18.5
    time.now += 3.0  # none of them has come back
    assert [paced.reserve(1) for _ in range(5)] == [None, None, None, 0.5, 1.0]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=60),
    rate=st.sampled_from([1.0, 2.0, 5.0, 30.0]),
)
def test_over_any_stretch_no_more_than_the_rate_plus_the_burst_goes_out(
    sizes: list[int], rate: float
) -> None:
    """Messages come back when told to, like the dispatcher does; all go, at the rate."""
    time = FakeTime()
    burst = 1.0
    paced = pacer(rate, time, burst=burst, max_wait=0.25)
    waiting = [(time.now, size) for size in sizes]
    sent: list[tuple[float, int]] = []
    while waiting:
        waiting.sort()
        due, size = waiting.pop(0)
        time.now = max(time.now, due)
        later = paced.reserve(size)
        if later is None:
            sent.append((time.now, size))
        else:
            waiting.append((time.now + later, size))
    assert sum(size for _, size in sent) == sum(sizes)
    for start, _ in sent:
        window = [size for when, size in sent if start <= when < start + 1.0]
        assert sum(window) <= rate * (1.0 + burst) + max(sizes)

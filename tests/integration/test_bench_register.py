"""The registration benchmark still drives every simulated user to an account (not timed: it
only keeps ``python -m bench.register`` working as the dialogs change)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.register import main, resident_id
from core.identity import validate_resident_id


@pytest.mark.parametrize("model", ["serial", "threads"])
def test_every_simulated_user_ends_registered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    main(["--users", "4", "--model", model, "--workers", "2", "--db", str(tmp_path / "b.db")])
    out = capsys.readouterr().out
    assert "turns        40 in" in out  # 4 users x 10 turns, each reply as expected
    assert "turns/s" in out and "p99" in out


def test_simulated_users_have_distinct_valid_resident_ids() -> None:
    numbers = [resident_id(i) for i in range(3000)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[::97]:
        assert validate_resident_id(number, today=date(2026, 1, 1))

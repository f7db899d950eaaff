"""``platebot chat`` as a newcomer runs it: an empty SQLite file, messages piped in."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def _chat(
    tmp_path: Path, lines: list[str], *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platebot.cli", "chat", *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PLATEBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", **env},
        check=False,
    )


def test_piped_chat_migrates_an_empty_file_and_answers_each_line(tmp_path: Path) -> None:
    run = _chat(tmp_path, ["hi", "3", "1", "张三"], "--phone", "13800138009")
    assert run.returncode == 0, run.stderr
    replies = run.stdout.strip().split("\n\n")
    assert len(replies) == 4
    assert replies[0].startswith("欢迎使用号牌助手") and "3 注册/登录" in replies[0]
    assert "1 自然人" in replies[1]
    assert "真实姓名" in replies[2]
    assert "身份证号" in replies[3]
    assert (tmp_path / "fresh.db").exists()


def test_codes_show_inline_as_sms_and_registration_survives_a_restart(tmp_path: Path) -> None:
    steps = ["hi", "3", "1", "张三", "440304199001011233", "1", "深圳市福田区1号", "1", "1"]
    first = _chat(tmp_path, steps, "--phone", "13800138009", "--lang", "en")
    assert first.returncode == 0, first.stderr
    match = re.search(r"\[SMS to \+8613800138009\] platebot code (\d{6})", first.stdout)
    assert match, first.stdout
    second = _chat(tmp_path, [match.group(1)], "--phone", "13800138009")
    assert "Registered. Welcome, 张三!" in second.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PLATEBOT_IDLE_MINUTES", "soon"),
        ("PLATEBOT_DATABASE_URL", "mysql://x/y"),
        ("PLATEBOT_PUBLIC_URL", "not a url"),
    ],
)
def test_malformed_setting_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    run = _chat(tmp_path, [], **{variable: value})
    assert run.returncode == 2
    assert variable in run.stderr
    assert "Configuration error" in run.stderr


def test_a_bad_phone_option_is_refused(tmp_path: Path) -> None:
    run = _chat(tmp_path, [], "--phone", "12345")
    assert run.returncode == 2 and "Not a mobile number" in run.stderr

"""A full disk under a running server (``platebot serve`` on SQLite, its database on a small
tmpfs that the test fills): an SMS is answered "busy, send it again" in the user's language and
``/healthz`` says 503 while the disk is full; once space is freed, SMS work again, without a
restart, from where the user was.

Mounting a tmpfs needs root (or CAP_SYS_ADMIN); where that is refused the test is skipped."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.serving import running_server

PHONE = "+8613800138000"
BUSY_ZH = "号牌助手暂时繁忙，请稍后重发刚才的短信。"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)  # noqa: S607


def fill(disk: Path) -> Path:
    """Take every free block of ``disk``; returns the file that holds them."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0")
    return filler


def test_sms_while_the_disk_is_full_are_answered_busy_and_work_again_once_it_is_freed(
    small_disk: Path, tmp_path: Path
) -> None:
    database = small_disk / "platebot.db"
    with running_server(f"sqlite:///{database}", tmp_path) as server:
        assert "主菜单" in server.sms(PHONE, "hi").messages[0]
        assert "注册类型" in server.sms(PHONE, "1").messages[0]
        # The next commit must grow the WAL file on the full disk (a WAL with room left from
        # earlier transactions would take a few more).
        with contextlib.closing(sqlite3.connect(database)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(small_disk)

        for _ in range(2):
            full = server.sms(PHONE, "1")
            assert (full.status, full.messages) == (200, [BUSY_ZH]), server.log_text()
        assert server.health() == 503

        filler.unlink()
        freed = server.sms(PHONE, "1")
        assert freed.status == 200, server.log_text()
        assert "真实姓名" in freed.messages[0]  # one step on from where the user was
        assert server.health() == 200
        assert server.process.poll() is None, "the same server, not restarted"

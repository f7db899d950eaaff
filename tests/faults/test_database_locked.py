"""SQLite's write lock held by another process (a backup, a second program on the file) under a
running server (``platebot serve``): every SMS is answered within Twilio's 15 s, "busy, send it
again" in the user's language, and the turn it asked for does not run behind the user's back
once the lock frees; ``/healthz`` says 503 meanwhile. Afterwards SMS work as before."""

from __future__ import annotations

import contextlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.faults.serving import running_server

PHONES = ["+8613800138000", "+8613800138001", "+8613800138002"]
BUSY = {
    "zh": "号牌助手暂时繁忙，请稍后重发刚才的短信。",
    "en": "platebot is busy: please send your last SMS again shortly.",
}
TWILIO_WAITS = 15.0  # seconds Twilio waits for the webhook's answer
# Shorter waits than the defaults (8 s for a turn to have the lock, an answer by 12 s, 5 s for a
# health check: tests/unit/test_settings_waits.py), so that the test waits 3 s for "busy", not 8.
TURN_DEADLINE, ANSWER_WITHIN, HEALTH_WAIT = 3.0, 4.0, 2.0
WAITS = {
    "PLATEBOT_SMS_TURN_DEADLINE": str(TURN_DEADLINE),
    "PLATEBOT_SMS_ANSWER_WITHIN": str(ANSWER_WITHIN),
    "PLATEBOT_HEALTH_WAIT": str(HEALTH_WAIT),
}


def test_sms_while_another_process_holds_the_lock_are_answered_in_time_and_run_nothing(
    tmp_path: Path,
) -> None:
    database = tmp_path / "platebot.db"
    with running_server(f"sqlite:///{database}", tmp_path, WAITS) as server:
        for phone in PHONES:
            assert "主菜单" in server.sms(phone, "hi").messages[0]
        server.sms(PHONES[2], "EN")  # this one reads English

        with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as holder:
            holder.execute("BEGIN EXCLUSIVE")
            with ThreadPoolExecutor(len(PHONES)) as pool:
                answers = list(pool.map(lambda phone: server.sms(phone, "1"), PHONES))
            health = server.health()
            holder.execute("ROLLBACK")

        for answer, language in zip(answers, ["zh", "zh", "en"], strict=True):
            assert (answer.status, answer.messages) == (200, [BUSY[language]])
            assert answer.seconds < min(ANSWER_WITHIN + 1, TWILIO_WAITS), answer
        assert health == 503

        # Nothing of the refused turns ran: "1" at the main menu still opens registration.
        assert "注册类型" in server.sms(PHONES[0], "1").messages[0], server.log_text()
        assert "Register as" in server.sms(PHONES[2], "1").messages[0]
        assert server.health() == 200

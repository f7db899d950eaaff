"""``platebot staff broadcast …``: compose with a preview, send and follow, the report, refusals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import build_app
from platebot.cli import app as cli
from platebot.settings import Settings
from tests.broadcast_world import BroadcastWorld
from tests.support import CapturingSender

ZH = "明天上午车管所系统维护，暂停办理。"
EN = "The office system is down for maintenance tomorrow morning."


def run(db: Engine, *args: str, answer: str | None = None) -> tuple[int, str, str]:
    env = {"PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(cli, list(args), env=env, input=answer)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def server(db: Engine) -> Iterator[CapturingSender]:
    """A dispatcher sending on the system clock in the background, as the server does."""
    sms = CapturingSender()
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    app = build_app(settings, senders={Channel.SMS: sms}, db=db, upgrade=False)
    stop = threading.Event()

    def dispatch() -> None:
        while not stop.is_set():
            if app.dispatcher.run_once() == 0:
                stop.wait(0.05)

    thread = threading.Thread(target=dispatch, daemon=True)
    thread.start()
    yield sms
    stop.set()
    thread.join(timeout=10)


def test_staff_compose_see_the_cost_send_and_follow_a_broadcast(
    db: Engine, clock: ManualClock, server: CapturingSender
) -> None:
    world = BroadcastWorld(db, clock)
    _, zh_phone = world.person()
    _, en_phone = world.person(language=Language.EN)
    world.person(region="4403")
    world.person(opted_out=True)
    code, out, err = run(
        db, "staff", "broadcast", "compose", "--zh", ZH, "--en", EN,
        "--audience", "region", "--region", "4405", "--by", "王科长", "--json",
    )  # fmt: skip
    assert code == 0, err
    preview = json.loads(out)
    assert (preview["recipients"], preview["sms"], preview["opted_out"]) == (2, 2, 1)
    assert preview["sms_segments"] == 2
    assert preview["state"] == "draft" and server.sent == []

    code, out, err = run(db, "staff", "broadcast", "send", str(preview["id"]), "--follow")
    assert code == 0, err
    assert f"broadcast {preview['id']}: finished" in out
    assert sorted(server.sent) == sorted([(zh_phone, ZH), (en_phone, EN)])

    code, out, _ = run(db, "staff", "broadcast", "report", str(preview["id"]), "--json")
    assert sorted(row["status"] for row in json.loads(out)) == ["sent", "sent", "skipped"]
    code, out, _ = run(db, "staff", "broadcast", "list", "--json")
    assert [(b["id"], b["sent"], b["opted_out"]) for b in json.loads(out)] == [
        (preview["id"], 2, 1)
    ]


def test_an_audience_the_staff_did_not_finish_naming_is_refused_in_words(
    db: Engine, tmp_path: Path
) -> None:
    code, _, err = run(db, "staff", "broadcast", "compose", "--zh", ZH, "--en", EN,
                       "--audience", "region")  # fmt: skip
    assert code == 2 and "--region" in err
    listed = tmp_path / "numbers.csv"
    listed.write_text("phone\n13800138000\nnot a number\n", encoding="utf-8")
    code, _, err = run(db, "staff", "broadcast", "compose", "--zh", ZH, "--en", EN,
                       "--audience", "numbers", "--numbers", str(listed))  # fmt: skip
    assert code == 1 and "not a mobile number (line 3)" in err
    code, _, err = run(db, "staff", "broadcast", "resume", "99")
    assert code == 1 and "No such broadcast" in err


def test_an_announcement_published_with_broadcast_is_sent_in_the_same_step(
    db: Engine, clock: ManualClock, server: CapturingSender
) -> None:
    world = BroadcastWorld(db, clock)
    _, zh_phone = world.person()
    _, en_phone = world.person(language=Language.EN)
    _, title_only = world.person(language=Language.EN, region="4403")
    add = ("staff", "announcement", "add", "--title", "停办通知", "--body", "明天停办。",
           "--title-en", "Closed")  # fmt: skip
    # The preview comes first; answered no, nothing is published or sent.
    code, out, err = run(db, *add, "--broadcast", "region", "--region", "汕头", answer="n\n")
    assert code == 1 and "Not published" in err
    assert "recipients: 2" in out and "sms_segments: 2" in out
    assert "Publish it and send it now to 2 recipients (2 SMS segments)?" in out
    code, out, _ = run(db, "staff", "announcement", "list", "--json")
    assert json.loads(out) == []
    # Answered yes: published and sent; an English title without an English text goes with the
    # Chinese text, as the information screens show it.
    code, out, err = run(db, *add, "--broadcast", "everyone", answer="y\n")
    assert code == 0, err
    assert "broadcast_id: 1" in out and "broadcast_recipients: 3" in out
    deadline = time.monotonic() + 10
    while len(server.sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(server.sent) == sorted(
        [
            (zh_phone, "停办通知\n明天停办。"),
            (en_phone, "Closed\n明天停办。"),
            (title_only, "Closed\n明天停办。"),
        ]
    )
    long_body = "停" * 1000  # publishable, but more than a broadcast takes: neither is done
    code, _, err = run(db, "staff", "announcement", "add", "--title", "长", "--body", long_body,
                       "--broadcast", "everyone", "--yes")  # fmt: skip
    assert code == 1 and "may have 1000 characters at most" in " ".join(err.split())
    code, out, _ = run(db, "staff", "announcement", "list", "--json")
    assert [a["title"] for a in json.loads(out)] == ["停办通知"]
    code, out, err = run(db, *add, "--broadcast", "region", "--region", "4403", "--yes")
    assert code == 0 and "broadcast_recipients: 1" in out, err  # --yes: not asked
    assert "Publish it and send it now" not in out
    with world.app.uow() as uow:  # both recorded, as staff actions are
        recorded = uow.staff.audit(office_code=None, limit=10, before=None)
    assert {(e.action, e.target) for e in recorded} >= {
        ("broadcast.send", "#1"),
        ("announcement.add", "#1 停办通知"),
    }


def test_an_option_for_another_audience_is_refused_not_widened_to_everyone(
    db: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    world = BroadcastWorld(db, clock)
    world.person(region="4403")
    world.person()
    compose = ("staff", "broadcast", "compose", "--zh", ZH, "--en", EN, "--json")
    code, _, err = run(db, *compose, "--audience", "everyone", "--region", "4405")
    assert code == 1 and "A region was given for everyone" in err
    code, out, err = run(db, *compose, "--region", "Shantou")  # --region alone: that region
    assert code == 0, err
    assert (json.loads(out)["audience"], json.loads(out)["recipients"]) == ("region 4405", 1)
    code, _, err = run(db, *compose, "--region", "Nowhere")
    assert code == 1 and 'No region called "Nowhere"' in err
    code, _, err = run(db, *compose, "--numbers", str(tmp_path / "missing.csv"))
    assert code == 2 and "cannot read" in err and "missing.csv" in "".join(err.split())
    code, _, err = run(db, "staff", "announcement", "add", "--title", "t", "--body", "b",
                       "--region", "4405")  # fmt: skip
    assert code == 2 and "--broadcast" in err


def test_channels_and_audiences_are_taken_as_the_broadcasts_view_writes_them(db: Engine) -> None:
    """What `compose` prints (``channels: telegram_else_sms``, ``unfinished_orders``) can be
    typed back: hyphens or underscores, any case."""
    code, out, err = run(
        db, "staff", "broadcast", "compose", "--zh", ZH, "--en", EN,
        "--audience", "UNFINISHED_ORDERS", "--channels", "telegram_else_sms", "--json",
    )  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["audience"], shown["channels"]) == ("unfinished orders", "telegram_else_sms")
    code, _, err = run(db, "staff", "broadcast", "compose", "--zh", ZH, "--en", EN,
                       "--channels", "fax")  # fmt: skip
    assert code == 2 and "--channels is one of telegram-else-sms, sms, telegram" in err

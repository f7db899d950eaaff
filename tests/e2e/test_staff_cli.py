"""``platebot staff …`` and ``platebot demo-data`` on the command line, against a real database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.clock import ManualClock
from core.staff import SignInRefused
from platebot.cli import app as cli
from platebot.demo import DEMO_VEHICLES
from platebot.staff_accounts import StaffAccounts
from store.preselection_tables import guides, offices, plate_numbers, vehicle_records
from store.uow import UnitOfWorkFactory
from tests.preselect_world import PERSON_ID, cert, vin

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(db: Engine) -> Run:
    runner = CliRunner()
    env = {"PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def count(db: Engine, table: sa.Table) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_staff_manage_an_office_and_its_pool_from_the_command_line(run: Run, db: Engine) -> None:
    code, out, _ = run(
        "staff", "office", "add", "粤D", "--name", "汕头市车辆管理所", "--region", "4405"
    )
    assert code == 0 and "hours: 09:00-21:00" in out
    code, out, _ = run(
        "staff", "office", "set", "粤D", "--hours", "08:00-18:00", "--pattern", "LLDDD"
    )
    assert code == 0 and "hours: 08:00-18:00" in out and "LLDDD" in out
    code, _, err = run("staff", "office", "set", "粤D", "--batch-size", "0")
    assert code == 1 and 'numbers in a batch "0" is not valid (1 to 30)' in err
    code, out, _ = run("staff", "office", "holiday", "粤D", "2026-12-01", "2026-12-02")
    assert code == 0 and "2 holiday(s) added" in out
    code, out, _ = run(
        "staff",
        "pool",
        "load",
        "粤D",
        "--range",
        "10000-10099",
        "--pattern",
        "AB12D",
        "--exclude",
        "10088",
    )
    assert code == 0 and "109 added" in out and "1 held back" in out
    code, out, _ = run("staff", "pool", "load", "粤D", "--range", "10000-10009")
    assert "0 added, 10 already known" in out
    code, out, _ = run("staff", "pool", "show", "粤D")
    assert "small: 109" in out
    assert count(db, plate_numbers) == 109
    code, out, _ = run(
        "staff", "office", "set", "粤D", "--name-en", "Shantou VMO", "--address-en", "1 Taishan Rd"
    )
    assert code == 0 and "Shantou VMO" in out
    code, out, _ = run("staff", "office", "list", "--json")
    listed = json.loads(out)[0]
    assert (listed["code"], listed["name_en"], listed["address_en"]) == (
        "粤D",
        "Shantou VMO",
        "1 Taishan Rd",
    )


def test_registry_import_prints_bad_rows_with_their_lines(
    run: Run, db: Engine, tmp_path: Path
) -> None:
    csv = tmp_path / "registry.csv"
    csv.write_text(
        "vin,certificate_no,owner_id,plate_kind\n"
        f"{vin(1)},{cert(1)},{PERSON_ID},small\n"
        f"{vin(2)},x,{PERSON_ID},small\n",
        encoding="utf-8",
    )
    code, out, err = run("staff", "registry", "import", str(csv))
    assert code == 1
    assert "1 added, 0 updated, 1 bad row(s)" in out
    assert "line 3:" in err and "certificate number" in err
    assert count(db, vehicle_records) == 1


def test_a_registry_file_that_is_not_utf8_is_refused_with_what_to_do(
    run: Run, db: Engine, tmp_path: Path
) -> None:
    csv = tmp_path / "registry-gbk.csv"
    csv.write_bytes(
        f"vin,certificate_no,owner_id,plate_kind\n{vin(1)},{cert(1)},{PERSON_ID},小型汽车\n".encode(
            "gbk"
        )
    )
    code, _, err = run("staff", "registry", "import", str(csv))
    assert code == 2
    assert "not UTF-8" in err and "CSV UTF-8" in err and "nothing was imported" in err
    assert count(db, vehicle_records) == 0


def test_staff_refusals_are_said_in_words(run: Run) -> None:
    code, _, err = run("staff", "confirm", vin(1))
    assert code == 1 and "No pre-selection waiting for confirmation" in err
    code, _, err = run("staff", "blacklist", "lift", "13800138000")
    assert code == 1 and "No account with mobile number" in err
    code, out, _ = run("staff", "preselections", "--state", "selected")
    assert code == 0 and "(none)" in out


def test_guides_are_added_listed_and_removed(run: Run, db: Engine) -> None:
    code, out, _ = run("staff", "guide", "add", "--title", "如何选号", "--body", "正文")
    assert code == 0 and "title: 如何选号" in out
    code, out, _ = run("staff", "guide", "list", "--json")
    guide_id = json.loads(out)[0]["id"]
    code, out, _ = run("staff", "guide", "remove", str(guide_id))
    assert code == 0 and count(db, guides) == 0


def test_demo_data_loads_once_and_says_how_to_try_the_journey(run: Run, db: Engine) -> None:
    code, out, _ = run("demo-data")
    assert code == 0 and DEMO_VEHICLES[0][0] in out and "platebot chat --phone" in out
    numbers = count(db, plate_numbers)
    assert numbers > 10_000 and count(db, offices) == 1
    code, out, _ = run("demo-data")
    assert code == 0 and "0 added" in out
    assert count(db, plate_numbers) == numbers and count(db, guides) == 2


def test_demo_data_prints_the_demo_staff_password_which_signs_in(run: Run, db: Engine) -> None:
    code, out, _ = run("demo-data")
    printed = re.search(r"with the password (\S+)", out)
    assert code == 0 and printed and "/staff/" in out
    accounts = StaffAccounts(UnitOfWorkFactory(db), ManualClock())
    for name in ("demo-admin", "demo-supervisor", "demo-clerk"):
        assert accounts.sign_in(name=name, password=printed.group(1), address="t").name == name
    code, again, _ = run("demo-data")  # a new password each run: the old one stops working
    assert code == 0 and printed.group(1) not in again
    with pytest.raises(SignInRefused):
        accounts.sign_in(name="demo-admin", password=printed.group(1), address="t")


def test_the_first_admin_is_added_on_the_command_line_and_its_actions_are_audited(
    db: Engine,
) -> None:
    runner = CliRunner()
    env = {"PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    args = ["staff", "user", "add", "boss", "--role", "admin", "--password-stdin"]
    short = runner.invoke(cli, args, env=env, input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.stderr
    added = runner.invoke(cli, args, env=env, input="a long enough password\n")
    assert added.exit_code == 0 and "role: admin" in added.stdout
    clerk = ["staff", "user", "add", "li", "--role", "clerk", "--password-stdin"]
    no_office = runner.invoke(cli, clerk, env=env, input="a long enough password\n")
    assert no_office.exit_code == 1 and "belongs to an office" in no_office.stderr
    accounts = StaffAccounts(UnitOfWorkFactory(db), ManualClock())
    assert accounts.sign_in(name="boss", password="a long enough password", address="t").name
    listed = runner.invoke(cli, ["staff", "user", "list", "--json"], env=env)
    assert [m["name"] for m in json.loads(listed.stdout)] == ["boss"]
    off = runner.invoke(cli, ["staff", "user", "set", "boss", "--inactive"], env=env)
    assert off.exit_code == 0 and "active: False" in off.stdout
    with pytest.raises(SignInRefused):
        accounts.sign_in(name="boss", password="a long enough password", address="t")
    entries = accounts.audit()
    assert [(e["action"], e["target"], e["source"]) for e in entries][-2:] == [
        ("sign_in", "boss", "web"),
        ("staff.add", "boss", "cli"),
    ]
    assert entries[-1]["actor"].startswith("cli:")

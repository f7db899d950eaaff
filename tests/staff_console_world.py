"""A world for the staff console's tests: office 粤D (and 粤A), a user who pre-selected
粤D·12345 over SMS, and staff members of each role."""

from __future__ import annotations

import re

import argon2

from core.plates import PlateKind
from core.staff import Role
from platebot.bootstrap import App
from platebot.staff_accounts import Argon2Hasher, StaffAccounts
from tests.preselect_world import (
    PERSON_ID,
    PERSON_PHONE,
    add_accounts,
    add_numbers,
    add_office,
    add_vehicles,
    cert,
    person,
    vin,
)
from tests.support import CapturingSender, Transcript

PASSWORD = "correct horse battery"
STAFF = {  # name: (role, office)
    "admin": (Role.ADMIN, None),
    "supervisor": (Role.SUPERVISOR, "粤D"),
    "clerk": (Role.CLERK, "粤D"),
    "clerk_a": (Role.CLERK, "粤A"),
}
CSV_WITH_A_BAD_ROW = (
    "vin,certificate_no,owner_id,plate_kind\n"
    f"{vin(5)},{cert(5)},{PERSON_ID},small\n"
    f"{vin(6)},{cert(6)},{PERSON_ID},spaceship\n"
)


# Argon2id with a small cost: the hashes are verified with the parameters they were made with,
# so signing in stays quick in tests (production's are argon2-cffi's defaults).
QUICK_HASHER = Argon2Hasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def add_staff(app: App) -> None:
    accounts = StaffAccounts(app.uow, app.clock, hasher=QUICK_HASHER)
    for name, (role, office) in STAFF.items():
        accounts.add(name=name, password=PASSWORD, role=role, office_code=office)


def preselected_world(app: App, sms: CapturingSender) -> None:
    """粤D and 粤A, staff, and the person with 粤D·12345 pre-selected for ``vin(1)``."""
    add_office(app)
    add_numbers(app, ["12345", "12346"])
    add_vehicles(app, [(vin(i), cert(i), PERSON_ID, PlateKind.SMALL) for i in (1, 2)])
    add_accounts(app, person())
    chat = Transcript(app, user_key=PERSON_PHONE, channel="sms", sender_phone=PERSON_PHONE)
    chat.say("hi")
    chat.pick("preselect")
    chat.pick("start")
    chat.pick("next")
    chat.pick("agree")
    chat.say(vin(1))
    chat.say(cert(1))
    chat.pick("verify")
    chat.say(sms.last_code(PERSON_PHONE))
    chat.pick("own")
    chat.say("12345")
    assert "粤D·12345" in chat.text, chat.text
    add_office(app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(app)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)

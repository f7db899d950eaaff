"""What each staff role may do (SPEC §10): a clerk their office's counter work, a supervisor
everything of their office, an admin everything."""

from __future__ import annotations

import pytest

from core.staff import Actor, NotAllowed, Permission, Role


def member(role: Role, office: str | None = "粤D") -> Actor:
    return Actor("x", "web", "127.0.0.1", role, office)


@pytest.mark.parametrize(
    ("role", "permission", "office", "allowed"),
    [
        (Role.CLERK, Permission.COUNTER, "粤D", True),
        (Role.CLERK, Permission.COUNTER, "粤A", False),
        (Role.CLERK, Permission.OFFICE, "粤D", False),
        (Role.SUPERVISOR, Permission.OFFICE, "粤D", True),
        (Role.SUPERVISOR, Permission.OFFICE, "粤A", False),
        (Role.SUPERVISOR, Permission.COUNTER, None, True),
        (Role.SUPERVISOR, Permission.ADMIN, None, False),
        (Role.ADMIN, Permission.OFFICE, "粤A", True),
        (Role.ADMIN, Permission.ADMIN, None, True),
    ],
)
def test_a_role_may_what_it_is_granted_in_its_office(
    role: Role, permission: Permission, office: str | None, allowed: bool
) -> None:
    assert member(role).may(permission, office) is allowed


def test_a_refusal_names_what_was_not_allowed() -> None:
    with pytest.raises(NotAllowed) as refused:
        member(Role.CLERK).require(Permission.OFFICE, "粤D")
    assert refused.value.params == {"permission": "office", "office": "粤D"}


def test_programs_and_the_command_line_act_as_admins() -> None:
    program = Actor("api", "api", "10.0.0.1")
    assert program.may(Permission.ADMIN) and program.may(Permission.OFFICE, "粤A")

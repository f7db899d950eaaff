"""``platebot staff user …``: staff accounts of the web console (``/staff/``). The first admin
is made here, on the server; later ones too, or on the console's staff accounts page."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from platebot.staff_cli_support import JsonOption, refusals, service, show

if TYPE_CHECKING:
    from platebot.staff_accounts import StaffAccounts

T = TypeVar("T")

user_app = typer.Typer(help="Staff accounts of the web console.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The name they sign in with, e.g. wangfang.")]
RoleOption = Annotated[
    str, typer.Option(help="clerk (counter work), supervisor (their office), admin (all).")
]
OfficeOption = Annotated[
    str | None, typer.Option(help="Their office, e.g. 粤D (clerks and supervisors).")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _accounts_run(action: Any) -> Any:
    from platebot.staff_accounts import StaffAccounts

    with refusals(), service() as staff:
        return action(StaffAccounts(staff.uow_factory, staff.clock))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _role(typed: str) -> Any:
    from core.staff import Role

    try:
        return Role(typed)
    except ValueError as exc:
        raise typer.BadParameter("clerk, supervisor or admin", param_hint="--role") from exc


@user_app.command("add")
def user_add(
    name: NameArgument,
    role: RoleOption = "clerk",
    office: OfficeOption = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a staff member (asks for the password twice; at least 10 characters)."""
    chosen = _role(role)
    password = _password(password_stdin)

    def add(accounts: StaffAccounts) -> dict[str, Any]:
        return accounts.add(name=name, password=password, role=chosen, office_code=office)

    show(_accounts_run(add))


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List the staff members."""
    show(_accounts_run(lambda a: a.members()), as_json)


@user_app.command("set")
def user_set(
    name: NameArgument,
    *,
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    office: OfficeOption = None,
    password: Annotated[
        bool, typer.Option("--password", help="Set a new password (asked for).")
    ] = False,
    password_stdin: PasswordStdin = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="May sign in, or not.")
    ] = None,
) -> None:
    """Change a staff member's role, office, password or whether they may sign in."""
    chosen = _role(role) if role else None
    new_password = _password(password_stdin) if password or password_stdin else None

    def change(accounts: StaffAccounts) -> dict[str, Any]:
        return accounts.change(
            name, role=chosen, office_code=office, password=new_password, active=active
        )

    show(_accounts_run(change))

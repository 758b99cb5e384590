"""`fund-ledger user create | list | unlock | password | role`: staff users of the web console.

A password is typed twice at a hidden prompt, or with `--password-stdin` read as one line from
standard input (for scripts: `printf '%s\n' "$PASSWORD" | fund-ledger user create …`). It is
never an argument (argument lists show in `ps` and shell histories) and never printed; only its
argon2id hash is stored.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from api.cli import options
from api.cli.output import emit, to_json
from api.cli.session import session_of
from api.console.accounts import (
    PASSWORD_LENGTH_MAX,
    PASSWORD_LENGTH_MIN,
    StaffRole,
    check_console_tables,
    create_user,
    list_users,
    set_password,
    set_role,
    unlock_user,
)
from projections.database import engine_for

app = typer.Typer(
    help="Staff users of the web console (/console): admin, auditor.", no_args_is_help=True
)
ROLES = ", ".join(role.value for role in StaffRole)

Name = Annotated[str, typer.Argument(help="The user's name, typed to sign in.")]
Role = Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password as one line from standard input instead of prompting.",
    ),
]


@contextmanager
def _users(ctx: typer.Context) -> Iterator[Engine]:
    session = session_of(ctx)
    engine = engine_for(session.settings.database_url)
    try:
        check_console_tables(engine, session.database)
        yield engine
    finally:
        engine.dispose()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # Bounded read: a longer line stays longer than the maximum and is refused as such.
        line = sys.stdin.readline(PASSWORD_LENGTH_MAX + 2)
        return line.removesuffix("\n").removesuffix("\r")
    password: str = typer.prompt(
        f"password ({PASSWORD_LENGTH_MIN}–{PASSWORD_LENGTH_MAX} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )
    return password


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    role: Role,
    password_stdin: PasswordStdin = False,
    as_json: options.JsonFlag = False,
) -> None:
    """Create a user who signs in to the console with a password."""
    with _users(ctx) as engine:
        user = create_user(engine, name=name, password=_password(password_stdin), role=role)
    payload = {"name": user.name, "role": user.role.value}
    emit(f"created user {user.name} ({user.role.value})", payload, as_json=as_json)


@app.command("list")
def list_all(ctx: typer.Context, as_json: options.JsonFlag = False) -> None:
    """Every user: name, role, created, consecutive failures, locked until."""
    with _users(ctx) as engine:
        records = list_users(engine)
    if as_json:
        typer.echo(to_json({"users": [vars(r) | {"role": r.role.value} for r in records]}))
        return
    for r in records:
        locked = f" locked until {r.locked_until_utc:%Y-%m-%d %H:%M}Z" if r.locked_until_utc else ""
        typer.echo(
            f"{r.name} {r.role.value} created {r.created_at_utc:%Y-%m-%d %H:%M}Z"
            f" failures {r.failed_count}{locked}"
        )


@app.command("unlock")
def unlock(ctx: typer.Context, name: Name, as_json: options.JsonFlag = False) -> None:
    """Clear a user's failed sign-ins and lock."""
    with _users(ctx) as engine:
        unlock_user(engine, name)
    emit(f"unlocked user {name}", {"name": name, "unlocked": True}, as_json=as_json)


@app.command("password")
def password(
    ctx: typer.Context,
    name: Name,
    password_stdin: PasswordStdin = False,
    as_json: options.JsonFlag = False,
) -> None:
    """Set a new password; it unlocks the user and ends every session they have open."""
    with _users(ctx) as engine:
        set_password(engine, name, _password(password_stdin))
    emit(
        f"password of user {name} changed; their console sessions ended",
        {"name": name, "password_changed": True},
        as_json=as_json,
    )


@app.command("role")
def role(ctx: typer.Context, name: Name, new_role: Role, as_json: options.JsonFlag = False) -> None:
    """Change a user's role; it applies to their open sessions at once."""
    with _users(ctx) as engine:
        user = set_role(engine, name, new_role)
    payload = {"name": user.name, "role": user.role.value}
    emit(f"user {user.name} is now {user.role.value}", payload, as_json=as_json)

"""`fund-ledger token create | revoke | list`: the HTTP API's bearer tokens.

The token is printed once, when created; the database keeps only its hash. Keep it in a
password manager or a secret store, never in a file of the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from api.cli import options
from api.cli.output import emit, to_json
from api.cli.session import Session, session_of
from api.tokens import Role, check_token_table, create_token, list_tokens, revoke_token
from ledger.donor import Donor
from projections.database import engine_for

app = typer.Typer(
    help="Bearer tokens of the HTTP API (admin, auditor, donor).", no_args_is_help=True
)
ROLES = ", ".join(role.value for role in Role)


@contextmanager
def _tokens(session: Session) -> Iterator[Engine]:
    engine = engine_for(session.settings.database_url)
    try:
        check_token_table(engine, session.database)
        yield engine
    finally:
        engine.dispose()


@app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")],
    name: Annotated[
        str, typer.Option("--name", help="Who uses it; recorded as the actor of their writes.")
    ],
    donor_id: Annotated[
        str | None, typer.Option("--donor", help="For a donor token: the donor's id.")
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    session = session_of(ctx)
    donor = None
    if donor_id is not None:
        donor_uuid = options.aggregate_id(donor_id, "--donor")
        donor = session.load(Donor, donor_uuid, "donor").id
    with _tokens(session) as engine:
        principal, token = create_token(engine, role=role, name=name, donor_id=donor)
    payload = {
        "token_id": principal.token_id,
        "name": principal.name,
        "role": principal.role.value,
        "donor_id": principal.donor_id,
        "token": token,
    }
    emit(
        f"token {principal.token_id} ({principal.role.value}, {principal.name}): {token}\n"
        "it is shown only now: keep it in a secret store",
        payload,
        as_json=as_json,
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (from `token list`).")],
    as_json: options.JsonFlag = False,
) -> None:
    """Revoke a token: every request with it is refused from now on."""
    with _tokens(session_of(ctx)) as engine:
        revoke_token(engine, token_id)
    emit(f"token {token_id} revoked", {"token_id": token_id, "revoked": True}, as_json=as_json)


@app.command("list")
def list_all(ctx: typer.Context, as_json: options.JsonFlag = False) -> None:
    """Every token: id, role, name, donor, created, revoked (never the token itself)."""
    with _tokens(session_of(ctx)) as engine:
        records = list_tokens(engine)
    if as_json:
        typer.echo(to_json({"tokens": [vars(r) | {"role": r.role.value} for r in records]}))
        return
    for r in records:
        revoked = f" revoked {r.revoked_at_utc:%Y-%m-%d %H:%M}Z" if r.revoked_at_utc else ""
        donor = f" donor {r.donor_id}" if r.donor_id else ""
        typer.echo(f"{r.token_id} {r.role.value} {r.name}{donor}{revoked}")

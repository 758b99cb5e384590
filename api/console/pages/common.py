"""What every console page that records something does: run the command as the signed-in
administrator, and turn a refusal into the form's messages."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.console.forms import FormErrors, refused
from api.console.routing import Submission, services_of
from api.tokens import Principal, Role
from ledger.commands import Command, Outcome
from ledger.errors import LedgerError, StorageError
from ledger.fund import Fund

CONSOLE_TOKEN_ID = "console"


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome | None
    errors: FormErrors


def principal_of(submission: Submission) -> Principal:
    """The administrator behind a form: their user name is the actor recorded in events."""
    return Principal(CONSOLE_TOKEN_ID, submission.staff.user.name, Role.ADMIN)


def record(request: Request, submission: Submission, command: Command) -> Recorded:
    """Run `command`; a domain refusal comes back as the form's errors (nothing recorded).
    A retry of the same form (same idempotency key, same content) answers as the first."""
    services = services_of(request)
    try:
        outcome = services.execute(command, principal_of(submission), Response())
    except StorageError:
        raise
    except LedgerError as error:
        return Recorded(None, refused(error))
    return Recorded(outcome, FormErrors())


def after_write(path: str, outcome: Outcome) -> RedirectResponse:
    """Post/redirect/get: the next page waits for the write's position, so it shows it."""
    separator = "&" if "?" in path else "?"
    position = f"&position={outcome.position}" if outcome.position is not None else ""
    return RedirectResponse(f"{path}{separator}recorded=1{position}", status_code=303)


def designations_of(request: Request, fund_id: UUID | None) -> list[tuple[str, str]]:
    """The fund's designations as (code, name) options for a select."""
    if fund_id is None:
        return []
    fund = services_of(request).load(Fund, fund_id, "fund")
    return sorted(fund.designations.items())

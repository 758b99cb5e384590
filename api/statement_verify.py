"""`statement verify`: a statement PDF checked against the ledger.

The PDF carries its figures as JSON (`reports.statement_metadata`). They are recomputed
from the ledger over the statement's own range of the log (its fund's opening at
`first_position`, every event up to `last_position`), for its period, and compared key by
key, the chain hash at `last_position` included: an edited figure, transaction, period or
range does not survive. A statement is compared in the schema it was made in: one made before
books could be closed has no `books_closed_through`. The printed text is not compared with
the JSON.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from api.statement_views import statement_view
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.fund import Fund
from ledger.service import FundLedger
from reports import read_statement_metadata, statement_metadata
from reports.statement_metadata import StatementMetadataMissing


class StatementMismatch(LedgerError):
    """A statement PDF whose embedded figures or range the ledger does not bear out."""

    code = "statement-mismatch"


def verify_statement(ledger: FundLedger, pdf: bytes) -> dict[str, Any]:
    """Recompute the statement `pdf` claims to be, from its own range of the log, and compare
    every figure, transaction, position and the chain hash; its figures if they all match."""
    try:
        claimed = read_statement_metadata(pdf)
        first, last = int(claimed["first_position"]), int(claimed["last_position"])
        period_from = date.fromisoformat(claimed["period_from"])
        period_to = date.fromisoformat(claimed["period_to"])
        issued_on = date.fromisoformat(claimed["issued_on"])
        issuer_name = str(claimed["issuer_name"])
    except (StatementMetadataMissing, KeyError, TypeError, ValueError) as error:
        raise StatementMismatch(f"not a fund-ledger statement: {error}") from error
    fund_id = _fund_opened_at(ledger, first, claimed.get("fund_name"))
    try:
        view = statement_view(
            ledger,
            fund_id,
            period_from,
            period_to,
            issued_on=issued_on,
            issuer_name=issuer_name,
            last_position=last,
        )
    except (NotFound, InvalidInput, ValueError) as error:
        raise StatementMismatch(
            f"the statement's range does not fit the ledger: {error}"
        ) from error
    actual = statement_metadata(view, schema=claimed["schema"])
    differing = sorted(
        key for key in actual.keys() | claimed.keys() if actual.get(key) != claimed.get(key)
    )
    if differing:
        raise StatementMismatch(
            f"the statement differs from the ledger at positions {first}..{last}:"
            f" {', '.join(differing)}"
        )
    return actual


def _fund_opened_at(ledger: FundLedger, position: int, fund_name: object) -> UUID:
    """The fund whose opening event is at `position` (a statement's first position)."""
    page = ledger.recorder.select_notifications(position, 1) if position >= 1 else []
    event = ledger.mapper.to_domain_event(page[0]) if page and page[0].id == position else None
    if not isinstance(event, Fund.Opened) or event.name != fund_name:
        raise StatementMismatch(f"the log has no opening of fund {fund_name!r} at {position}")
    fund_id: UUID = event.originator_id
    return fund_id

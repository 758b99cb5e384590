"""One handler per use case: validate the input, load, call the domain command, stage the result.

Each handler returns the `Outcome` and the (aggregate id, version) of its main event, whose
log position the service reports back once the unit of work is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger import commands as c
from ledger.handlers.admin import (
    add_designation,
    change_fee_rate,
    close_books,
    correct_donor,
    open_fund,
    register_donor,
)
from ledger.handlers.common import Context, Handled, outcome_of_first_use
from ledger.handlers.money import (
    award_grant,
    cancel_grant,
    disburse_grant,
    record_donation,
    record_grant_return,
    reduce_grant,
    refund_donation,
    void_donation,
)
from ledger.handlers.receipts import issue_annual_receipt, issue_receipt, void_receipt
from ledger.unit_of_work import UnitOfWork

__all__ = ["HANDLERS", "Context", "Handled", "outcome_of_first_use"]

HANDLERS: dict[type[Any], Callable[[UnitOfWork, Any, Context], Handled]] = {
    c.OpenFund: open_fund,
    c.ChangeFeeRate: change_fee_rate,
    c.CloseBooks: close_books,
    c.AddDesignation: add_designation,
    c.RegisterDonor: register_donor,
    c.CorrectDonor: correct_donor,
    c.RecordDonation: record_donation,
    c.RefundDonation: refund_donation,
    c.VoidDonation: void_donation,
    c.AwardGrant: award_grant,
    c.DisburseGrant: disburse_grant,
    c.ReduceGrant: reduce_grant,
    c.CancelGrant: cancel_grant,
    c.RecordGrantReturn: record_grant_return,
    c.IssueReceipt: issue_receipt,
    c.IssueAnnualReceipt: issue_annual_receipt,
    c.VoidReceipt: void_receipt,
}

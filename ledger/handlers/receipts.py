"""Handlers of the receipt commands, and the void of a receipt when its donation is refunded.

Rules (BRIEF "Documents"; see ledger.receipt for numbering and coverage):
- A donation gets one valid receipt at a time. Issuing again is refused
  (`ReceiptAlreadyIssued`) unless `reissue`, which reprints the valid receipt under its own
  number, marked 再発行.
- A refund or void of a receipted donation voids its receipt in the same atomic write
  (`void_receipt_covering`, called by the refund and void handlers). The next issue for that
  donation (or, for an annual receipt, that donor and year) is a replacement: the voided
  number with the next suffix (`-2`, `-3`), marked 再発行, for the amount net of refunds.
- A receipt issued wrongly (a wrong address, since corrected) is voided on its own
  (`VoidReceipt`); the next issue is its replacement in the same way, showing current facts.
- An annual receipt lists the donor's donations of one calendar year (the year of their
  effective date), each net of refunds; voided and fully refunded ones are left out. Issuing
  it voids ("supersedes") any valid single-donation receipt of those donations, so no
  donation is ever claimed twice; a single receipt for a donation an annual one covers is
  refused.
- Amounts are net of refunds at the time of issue.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

from ledger import commands as c
from ledger import values
from ledger.donation import Donation
from ledger.donor import Donor
from ledger.errors import (
    ConfigurationError,
    InvalidInput,
    NotFound,
    NothingToReceipt,
    ReceiptAlreadyIssued,
)
from ledger.fund import Fund
from ledger.handlers.common import Context, Handled, checked_id, claim_key, main_event
from ledger.receipt import (
    ANNUAL,
    DONATION,
    NUMBER_PATTERN,
    SEQUENCE_MAX,
    DonorReceipts,
    Receipt,
    ReceiptFacts,
    ReceiptLine,
    ReceiptPrinter,
    base_number,
    donor_receipts_id,
    last_sequence,
    note_sequence,
    receipt_id,
    receipt_number,
)
from ledger.unit_of_work import UnitOfWork

ANNUAL_LINES_MAX = 10_000
YEAR_MIN, YEAR_MAX = 2000, 9999


def issue_receipt(uow: UnitOfWork, cmd: c.IssueReceipt, ctx: Context) -> Handled:
    printer = _printer(cmd.printer)
    _check_key(cmd.idempotency_key)
    donation = uow.read(Donation, checked_id(cmd.donation_id, "donation_id"))
    index = _index(uow, donation.donor_id)
    covering = index.valid_receipt_of(donation.id)
    if covering is not None:
        if not cmd.reissue:
            raise ReceiptAlreadyIssued(
                f"donation {donation.id} is covered by receipt {covering}; reissue to reprint it"
            )
        return _done(uow, cmd, ctx, _reprint(uow, covering, printer, ctx))
    line = _net_line(uow, donation)
    donor = uow.read(Donor, donation.donor_id)
    replaces = index.last_voided_of(donation.id)
    facts = _facts(uow, index, ctx, donor, DONATION, line.received_on.year, (line,), replaces)
    return _done(uow, cmd, ctx, _issue(uow, index, facts, printer, ctx))


def issue_annual_receipt(uow: UnitOfWork, cmd: c.IssueAnnualReceipt, ctx: Context) -> Handled:
    printer = _printer(cmd.printer)
    _check_key(cmd.idempotency_key)
    year = _year(cmd.year)
    donor = uow.read(Donor, checked_id(cmd.donor_id, "donor_id"))
    index = _index(uow, donor.id)
    valid = index.valid_annual(year)
    if valid is not None:
        if not cmd.reissue:
            raise ReceiptAlreadyIssued(
                f"donor {donor.id} has the annual receipt {valid} for {year}; reissue to reprint it"
            )
        return _done(uow, cmd, ctx, _reprint(uow, valid, printer, ctx))
    lines = _annual_lines(uow, donor.id, year, cmd.donation_ids)
    for line in lines:
        covering = index.valid_receipt_of(line.donation_id)
        if covering is not None:
            reason = f"superseded by the annual receipt of {year}"
            _void(uow, index, covering, ctx.actor, reason)
    replaces = index.last_voided_annual(year)
    facts = _facts(uow, index, ctx, donor, ANNUAL, year, lines, replaces)
    return _done(uow, cmd, ctx, _issue(uow, index, facts, printer, ctx))


def void_receipt(uow: UnitOfWork, cmd: c.VoidReceipt, ctx: Context) -> Handled:
    _check_key(cmd.idempotency_key)
    number = _number(cmd.number)
    reason = values.text(cmd.reason, "reason", length_max=values.TEXT_LENGTH_MAX)
    try:
        receipt = uow.get(Receipt, receipt_id(number))
    except NotFound:
        raise NotFound(f"no receipt numbered {number}") from None
    receipt.check_valid()
    index = uow.get(DonorReceipts, donor_receipts_id(receipt.donor_id))
    _void(uow, index, number, ctx.actor, reason)
    outcome = c.Outcome(c.command_kind(type(cmd)), receipt.id)
    return claim_key(uow, cmd, ctx, outcome), main_event(receipt)


def void_receipt_covering(uow: UnitOfWork, donation: Donation, actor: str, reason: str) -> None:
    """Void the valid receipt that covers `donation`, if any, in the refund's or void's write.

    The donor's receipt index takes part in the write either way (read, changed or created
    empty), so a receipt issued concurrently for the donation conflicts with it and one of
    the two is retried on fresh state: none survives that shows the amount before the refund.
    """
    index_id = donor_receipts_id(donation.donor_id)
    found = uow.find(index_id)
    if found is None:
        uow.add(DonorReceipts(id=index_id, donor_id=donation.donor_id))
        return
    assert isinstance(found, DonorReceipts), type(found)
    number = found.valid_receipt_of(donation.id)
    if number is None:
        uow.read(DonorReceipts, index_id)  # its version now guards the write
        return
    index = uow.get(DonorReceipts, index_id)
    _void(uow, index, number, actor, f"donation {donation.id}: {reason}")


def _issue(
    uow: UnitOfWork,
    index: DonorReceipts,
    facts: ReceiptFacts,
    printer: ReceiptPrinter,
    ctx: Context,
) -> Receipt:
    match = NUMBER_PATTERN.fullmatch(facts.number)
    assert match is not None, facts.number
    receipt = Receipt(
        id=receipt_id(facts.number),
        number=facts.number,
        year=int(match.group(1)),
        sequence=int(match.group(2)),
        suffix=int(match.group(3) or 1),
        kind=facts.kind,
        donor_id=index.donor_id,
        facts=facts.to_json(),
        sha256=printer.print_document(facts),
        actor=ctx.actor,
        reason="receipt issued" if facts.replaces_number is None else "receipt replaced (再発行)",
    )
    uow.add(receipt)
    index.add(facts)
    return receipt


def _facts(
    uow: UnitOfWork,
    index: DonorReceipts,
    ctx: Context,
    donor: Donor,
    kind: str,
    tax_year: int,
    lines: tuple[ReceiptLine, ...],
    replaces: str | None,
) -> ReceiptFacts:
    if replaces is None:
        number = receipt_number(ctx.today.year, _next_sequence(uow, ctx.today.year))
    else:
        number = f"{base_number(replaces)}-{index.next_suffix(replaces)}"
    return ReceiptFacts(
        number=number,
        kind=kind,
        issued_on=ctx.today,
        donor_kind=donor.kind,
        donor_name=donor.name,
        donor_postal_code=donor.postal_code,
        donor_address=donor.address,
        tax_year=tax_year,
        lines=lines,
        reissue=replaces is not None,
        replaces_number=replaces,
    )


def _next_sequence(uow: UnitOfWork, year: int) -> int:
    def exists(sequence: int) -> bool:
        return uow.find(receipt_id(receipt_number(year, sequence))) is not None

    sequence = last_sequence(exists, year) + 1
    if sequence > SEQUENCE_MAX:
        raise InvalidInput("receipt number", f"the numbers of {year} are used up")
    note_sequence(year, sequence)
    return sequence


def _reprint(uow: UnitOfWork, number: str, printer: ReceiptPrinter, ctx: Context) -> Receipt:
    receipt = uow.get(Receipt, receipt_id(number))
    receipt.check_valid()
    facts = replace(receipt.current_facts, issued_on=ctx.today, reissue=True)
    receipt.reprint(facts, printer.print_document(facts), ctx.actor, "reprinted (再発行)")
    return receipt


def _void(uow: UnitOfWork, index: DonorReceipts, number: str, actor: str, reason: str) -> None:
    uow.get(Receipt, receipt_id(number)).void(actor, reason)
    index.withdraw(number, reason)


def _index(uow: UnitOfWork, donor_id: UUID) -> DonorReceipts:
    index_id = donor_receipts_id(donor_id)
    try:
        return uow.get(DonorReceipts, index_id)
    except NotFound:
        index = DonorReceipts(id=index_id, donor_id=donor_id)
        uow.add(index)
        return index


def _net_line(uow: UnitOfWork, donation: Donation) -> ReceiptLine:
    if donation.voided or donation.refundable_yen == 0:
        state = "voided" if donation.voided else "refunded in full"
        raise NothingToReceipt(f"donation {donation.id} was {state}: there is nothing to receipt")
    fund = uow.read(Fund, donation.fund_id)
    designation = None if donation.designation is None else fund.designations[donation.designation]
    effective_on: date = donation.effective_on
    return ReceiptLine(donation.id, effective_on, fund.name, designation, donation.refundable_yen)


def _annual_lines(
    uow: UnitOfWork, donor_id: UUID, year: int, donation_ids: object
) -> tuple[ReceiptLine, ...]:
    if not isinstance(donation_ids, tuple | list) or not donation_ids:
        raise InvalidInput("donation_ids", "must list the donations of the year")
    if len(donation_ids) > ANNUAL_LINES_MAX:
        raise InvalidInput("donation_ids", f"lists at most {ANNUAL_LINES_MAX} donations")
    if len(set(donation_ids)) != len(donation_ids):
        raise InvalidInput("donation_ids", "lists a donation twice")
    lines = []
    for donation_id in donation_ids:
        donation = uow.read(Donation, checked_id(donation_id, "donation_ids"))
        if donation.donor_id != donor_id:
            raise InvalidInput("donation_ids", f"donation {donation.id} is another donor's")
        if donation.effective_on.year != year:
            raise InvalidInput("donation_ids", f"donation {donation.id} is not of {year}")
        lines.append(_net_line(uow, donation))
    return tuple(sorted(lines, key=lambda line: (line.received_on, line.donation_id.hex)))


def _done(
    uow: UnitOfWork, cmd: c.IssueReceipt | c.IssueAnnualReceipt, ctx: Context, receipt: Receipt
) -> Handled:
    amount = receipt.current_facts.total_yen
    outcome = c.Outcome(c.command_kind(type(cmd)), receipt.id, {"amount_yen": amount})
    return claim_key(uow, cmd, ctx, outcome), main_event(receipt)


def _printer(printer: object) -> ReceiptPrinter:
    if printer is None or not callable(getattr(printer, "print_document", None)):
        raise ConfigurationError("a receipt command needs a printer to render its document")
    return printer  # type: ignore[return-value]


def _check_key(key: str | None) -> None:
    if key is not None:
        values.idempotency_key(key)


def _number(value: object) -> str:
    if not isinstance(value, str) or not NUMBER_PATTERN.fullmatch(value):
        raise InvalidInput(
            "number", "must be a receipt number such as 2026-000123 or 2026-000123-2"
        )
    return value


def _year(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not YEAR_MIN <= value <= YEAR_MAX:
        raise InvalidInput("year", f"must be a calendar year from {YEAR_MIN} to {YEAR_MAX}")
    return value

"""The plan of an import: for every row, the donation it would record, and every problem.

Each row's idempotency key makes the import idempotent:
- with the bank's reference: `import:ref:<reference>` (a reference that is not plain ASCII,
  or is long, is hashed), so the same transfer in two lists is one donation;
- without one: `import:row:<sha256>` of the row's content (date, amount, payer normalised,
  donor id, designation, memo), so the same line in two overlapping lists is one donation.
  The payer's postal account is not part of it: it only says who the donor is, so a list
  printed with and without that column holds the same transfers.
Neither the fund, the method, the file name nor the line number enters the key: the same
transfer imported into another fund, or as another method, is refused (the key's first use
had other content), never recorded twice.

Two rows of one file with the same key are a duplicated row, reported, never merged: if two
transfers really are identical and carry no reference, tell them apart in their memo.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from api.imports import csvfile, matching
from api.imports.csvfile import Encoding, Problem
from api.imports.ledger_reads import registered_donors
from api.imports.rows import DonationRow, parse_row
from ledger.commands import RecordDonation
from ledger.donation import PaymentMethod
from ledger.errors import InvalidInput, NotFound
from ledger.fund import Fund
from ledger.money import host_fee_yen
from ledger.service import FundLedger

IMPORT_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.POSTAL_TRANSFER)
_PLAIN_REFERENCE = re.compile(r"[\x21-\x7e]{1,100}")
PROGRESS_EVERY_ROWS = 500

# (phase, rows done, rows in all): phases "checking" and "recording"
Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    """The default progress callback: reports nothing."""


@dataclass(frozen=True)
class ImportRequest:
    fund_id: UUID
    method: str = PaymentMethod.BANK_TRANSFER.value
    encoding: Encoding = Encoding.AUTO


@dataclass(frozen=True)
class PlannedDonation:
    row: DonationRow
    donor: matching.DonorEntry
    fee_rate_bp: int
    fee_yen: int
    command: RecordDonation
    matched_by: str = ""  # id, account or name (`matching.Match`)


@dataclass(frozen=True)
class ImportPlan:
    fund_id: UUID
    fund_name: str
    method: str
    encoding: str
    row_count: int  # data rows read, valid or not
    donations: tuple[PlannedDonation, ...]  # the valid rows, by line
    problems: tuple[Problem, ...]  # by line
    fund: Fund = field(repr=False, compare=False)  # as it stood when the file was checked

    @property
    def total_yen(self) -> int:
        return sum(planned.row.amount_yen for planned in self.donations)


def plan_import(
    ledger: FundLedger, data: bytes, request: ImportRequest, progress: Progress = no_progress
) -> ImportPlan:
    method = _import_method(request.method)
    fund = ledger.get(request.fund_id)
    if not isinstance(fund, Fund):
        raise NotFound(f"no fund with id {request.fund_id}")
    parsed = csvfile.read_records(data, request.encoding)
    directory = matching.DonorDirectory(registered_donors(ledger) if parsed.records else ())
    planner = _Planner(fund, method, directory, ledger.today())
    total = len(parsed.records)
    for done, record in enumerate(parsed.records, start=1):
        planner.add(record)
        if done % PROGRESS_EVERY_ROWS == 0 or done == total:
            progress("checking", done, total)
    problems = sorted([*parsed.problems, *planner.problems], key=lambda p: p.line)
    return ImportPlan(
        fund_id=fund.id,
        fund_name=fund.name,
        method=method,
        encoding=parsed.encoding,
        row_count=total + sum(p.code in ("column-count", "truncated") for p in parsed.problems),
        donations=tuple(planner.donations),
        problems=tuple(problems),
        fund=fund,
    )


def _import_method(method: str) -> str:
    allowed = [m.value for m in IMPORT_METHODS]
    if method not in allowed:
        raise InvalidInput("method", f"must be one of {', '.join(allowed)}, got {method!r}")
    return method


class _Planner:
    def __init__(
        self, fund: Fund, method: str, directory: matching.DonorDirectory, today: date
    ) -> None:
        self.fund = fund
        self.method = method
        self.directory = directory
        self.today = today
        self.donations: list[PlannedDonation] = []
        self.problems: list[Problem] = []
        self.lines_by_key: dict[str, tuple[int, tuple[object, ...]]] = {}

    def add(self, record: csvfile.Record) -> None:
        row, problems = parse_row(record, self.today)
        if row is None:
            self.problems.extend(problems)
            return
        found = self.directory.match(row.payer_name, row.donor_id, row.payer_account)
        if found.donor is None:
            problems.append(Problem(row.line, found.problem_code, found.message))
        if row.designation is not None and row.designation not in self.fund.designations:
            message = f"fund '{self.fund.name}' has no designation '{row.designation}'"
            problems.append(Problem(row.line, "unknown-designation", message))
        key = idempotency_key(row)
        duplicate = self._duplicate(row, key)
        if duplicate is not None:
            problems.append(duplicate)
        self.problems.extend(problems)
        if found.donor is not None and not problems:
            self.donations.append(self._planned(row, found, key))

    def _duplicate(self, row: DonationRow, key: str) -> Problem | None:
        """The problem of a row whose key an earlier row of the file has, if any."""
        content = row_content(row)
        first = self.lines_by_key.setdefault(key, (row.line, content))
        first_line, first_content = first
        if first_line == row.line:
            return None
        if first_content == content:
            message = f"repeats line {first_line}: a duplicated row (tell real twins apart in memo)"
            return Problem(row.line, "duplicate-row", message)
        message = f"has the reference {row.reference!r} of line {first_line} with other content"
        return Problem(row.line, "reference-reused", message)

    def _planned(self, row: DonationRow, found: matching.Match, key: str) -> PlannedDonation:
        donor = found.donor
        assert donor is not None, "only matched rows are planned"
        rate = self.fund.fee_rate_bp_on(row.effective_on)
        command = RecordDonation(
            idempotency_key=key,
            fund_id=self.fund.id,
            donor_id=donor.donor_id,
            amount_yen=row.amount_yen,
            method=self.method,
            effective_on=row.effective_on,
            designation=row.designation,
            external_reference=row.reference,
            reason=donation_reason(row),
        )
        fee_yen = host_fee_yen(row.amount_yen, rate)
        return PlannedDonation(row, donor, rate, fee_yen, command, found.matched_by)


def row_content(row: DonationRow) -> tuple[object, ...]:
    """What makes two rows the same transfer (all but the line)."""
    payer = matching.normalised_name(row.payer_name)
    return (
        row.effective_on,
        row.amount_yen,
        payer,
        row.reference,
        row.donor_id,
        row.designation,
        row.memo,
    )


def idempotency_key(row: DonationRow) -> str:
    if row.reference is not None:
        if _PLAIN_REFERENCE.fullmatch(row.reference):
            return f"import:ref:{row.reference}"
        return f"import:ref-sha256:{_digest(row.reference)}"
    content = row_content(row)
    return f"import:row:{_digest(chr(0x1F).join('' if v is None else str(v) for v in content))}"


def donation_reason(row: DonationRow) -> str:
    """The payer as printed (NFKC, one space between words), then the memo: evidence for
    an auditor, and the same whichever encoding or width the list came in."""
    payer = " ".join(unicodedata.normalize("NFKC", row.payer_name).split())
    return f"振込依頼人 {payer}" + (f": {row.memo}" if row.memo else "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:40]

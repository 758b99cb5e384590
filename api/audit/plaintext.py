"""The journal as hledger and beancount files (plain-text accounting).

One transaction per journal entry, dated by its effective date (取引年月日), described by its
counterparty and kind, tagged with the event's log position, id and version, the fund, and
when, by whom and why it was recorded; one posting per journal posting, in whole `JPY`
(debits positive, credits negative). Account names: `api.audit.accounts`. The accounts are
declared at the end of the file (both tools read declarations anywhere), each opened in
beancount on the earliest date it is used, with the fund's name and the ledger's own account
name as metadata.

Text in an hledger transaction line ends at `;`, and `|` splits payee from note: in the
counterparty they are written as the full-width `；` and `｜`. Beancount strings escape `"`
and `\\` and are otherwise exact. The ledger's text never holds control characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO
from uuid import UUID

from api.audit.accounts import COMMODITY, tool_account
from api.audit.entries import PositionedEntry
from api.audit.times import japan_time
from ledger.journal import Side

_HLEDGER_DESCRIPTION = str.maketrans({";": "；", "|": "｜"})
_SOURCE_KINDS = {"donation": "donation", "refund": "donation", "void": "donation"}


@dataclass
class _Chart:
    """Accounts met so far: first effective date, fund, ledger account name."""

    first_used: dict[str, date] = field(default_factory=dict)
    described: dict[str, tuple[UUID, str]] = field(default_factory=dict)

    def use(self, account: str, fund_id: UUID, ledger_account: str, day: date) -> None:
        if account not in self.first_used or day < self.first_used[account]:
            self.first_used[account] = day
        self.described[account] = (fund_id, ledger_account)


def _amount(side: Side, amount_yen: int) -> str:
    return f"{amount_yen if side is Side.DEBIT else -amount_yen} {COMMODITY}"


def write_hledger(entries: Iterable[PositionedEntry], out: TextIO) -> int:
    """Write an hledger journal; return the number of postings written."""
    out.write("; fund-ledger journal export (hledger). Accounts: see the end of the file.\n")
    out.write(f"commodity 1000. {COMMODITY}\n\n")
    chart, fund_names, posting_count = _Chart(), dict[UUID, str](), 0
    for item in entries:
        entry = item.entry
        fund_names[entry.fund_id] = item.fund_name
        description = entry.counterparty.translate(_HLEDGER_DESCRIPTION)
        out.write(
            f"{entry.effective_on.isoformat()} * {description} | {entry.kind}"
            f"  ; position:{item.position}, event:{entry.source_id},"
            f" version:{entry.source_version}, kind:{entry.kind}, fund:{entry.fund_id}\n"
            f"    ; recorded_at:{japan_time(entry.recorded_at)}\n"
            f"    ; actor:{entry.actor}\n    ; reason:{entry.reason}\n"
        )
        if entry.corrects_version is not None:
            out.write(f"    ; corrects_version:{entry.corrects_version}\n")
        posting_count += _write_postings(out, item, chart, indent="    ")
    for account in sorted(chart.described):
        fund_id, ledger_account = chart.described[account]
        out.write(
            f"account {account}  ; ledger_account:{ledger_account}, fund_id:{fund_id},"
            f" fund_name:{fund_names[fund_id]}\n"
        )
    return posting_count


def _write_postings(out: TextIO, item: PositionedEntry, chart: _Chart, *, indent: str) -> int:
    """The entry's postings, a line each under `indent`, and the blank line that ends it;
    each posting's account is noted in `chart`. Returns how many postings."""
    entry = item.entry
    for posting in entry.postings:
        account = tool_account(entry.fund_id, posting.account)
        chart.use(account, entry.fund_id, posting.account, entry.effective_on)
        out.write(f"{indent}{account}  {_amount(posting.side, posting.amount_yen)}\n")
    out.write("\n")
    return len(entry.postings)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_beancount(entries: Iterable[PositionedEntry], out: TextIO) -> int:
    """Write a beancount ledger; return the number of postings written."""
    out.write("; fund-ledger journal export (beancount). Accounts: see the end of the file.\n")
    out.write(
        f'option "title" "fund-ledger journal"\noption "operating_currency" "{COMMODITY}"\n\n'
    )
    chart, fund_names, posting_count = _Chart(), dict[UUID, str](), 0
    for item in entries:
        entry = item.entry
        fund_names[entry.fund_id] = item.fund_name
        source = _SOURCE_KINDS.get(entry.kind, "grant")
        out.write(
            f"{entry.effective_on.isoformat()} * {_quoted(entry.counterparty)}"
            f" {_quoted(entry.kind)} ^{source}-{entry.source_id}\n"
            f"  position: {item.position}\n  event_id: {_quoted(str(entry.source_id))}\n"
            f"  event_version: {entry.source_version}\n"
            f"  fund_id: {_quoted(str(entry.fund_id))}\n"
            f"  recorded_at: {_quoted(japan_time(entry.recorded_at))}\n"
            f"  actor: {_quoted(entry.actor)}\n  reason: {_quoted(entry.reason)}\n"
        )
        if entry.corrects_version is not None:
            out.write(f"  corrects_version: {entry.corrects_version}\n")
        posting_count += _write_postings(out, item, chart, indent="  ")
    for account in sorted(chart.described):
        fund_id, ledger_account = chart.described[account]
        out.write(
            f"{chart.first_used[account].isoformat()} open {account} {COMMODITY}\n"
            f"  ledger_account: {_quoted(ledger_account)}\n"
            f"  fund_id: {_quoted(str(fund_id))}\n  fund_name: {_quoted(fund_names[fund_id])}\n"
        )
    return posting_count

"""The journal as CSV: the complete 電子帳簿保存法 download, one row per posting.

In log order (position, then posting number), one header row, CRLF line ends, fields quoted
where needed (RFC 4180). Encodings:

- `utf-8` (the default) is written with a byte-order mark, so Excel in Japan opens it right;
- `cp932` (Shift_JIS as Windows writes it) first maps the characters that JIS X 0208 tables
  and Windows disagree on to the ones CP932 has (`CP932_SUBSTITUTES`: 〜 → ～, − → －, …);
  any other character CP932 lacks (𠮷, emoji, …) refuses the export with an error naming the
  row, the column and the character. Nothing is dropped or replaced silently; export in
  UTF-8 instead.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from api.audit.accounts import japanese_name
from api.audit.entries import PositionedEntry
from api.audit.times import japan_time
from ledger.errors import InvalidInput
from ledger.journal import Side

ENCODINGS = ("utf-8", "cp932")
COLUMNS = (
    "取引年月日",  # effective date, YYYY-MM-DD
    "記録日時",  # when the event was recorded, ISO 8601 in JST
    "位置",  # the event's position in the log
    "行番号",  # the posting's number within the event, from 1
    "種別",  # kind code: donation, refund, void, grant_award, …
    "種別名",  # kind in Japanese
    "基金ID",
    "基金名",
    "使途指定",  # designation code; empty for general money
    "勘定科目",  # the ledger's account: cash:P, net_assets:restricted:D, …
    "勘定科目名",  # the account in Japanese
    "借方金額",  # yen, or empty
    "貸方金額",  # yen, or empty
    "取引先",  # counterparty: the donor's name, or the grantee
    "記録者",  # who recorded the event
    "理由",  # why
    "事象ID",  # the donation's or grant's id
    "事象版",  # the event's version within it
    "訂正対象版",  # for a correction: the version it corrects (1); else empty
)
KIND_NAMES = {
    "donation": "寄附",
    "refund": "返金",
    "void": "取消",
    "grant_award": "助成決定",
    "grant_reduction": "助成減額",
    "grant_cancellation": "助成取消",
    "disbursement": "交付",
    "grant_return": "返還",
}
# Characters that JIS-based tables map differently from Windows: written as CP932's own.
CP932_SUBSTITUTES = {
    "\u301c": "\uff5e",  # 〜 WAVE DASH → ～ FULLWIDTH TILDE
    "\u2016": "\u2225",  # ‖ DOUBLE VERTICAL LINE → ∥ PARALLEL TO
    "\u2212": "\uff0d",  # − MINUS SIGN → － FULLWIDTH HYPHEN-MINUS
    "\u2014": "\u2015",  # — EM DASH → ― HORIZONTAL BAR
    "\u00a2": "\uffe0",  # ¢ → ￠
    "\u00a3": "\uffe1",  # £ → ￡
    "\u00ac": "\uffe2",  # ¬ → ￢
}
_CP932_TABLE = str.maketrans(CP932_SUBSTITUTES)


def rows(entries: Iterable[PositionedEntry]) -> Iterator[list[str]]:
    """The rows under the header, as text."""
    for item in entries:
        entry = item.entry
        common = {
            "recorded": japan_time(entry.recorded_at),
            "corrects": "" if entry.corrects_version is None else str(entry.corrects_version),
        }
        for number, posting in enumerate(entry.postings, start=1):
            debit = posting.side is Side.DEBIT
            yield [
                entry.effective_on.isoformat(),
                common["recorded"],
                str(item.position),
                str(number),
                entry.kind,
                KIND_NAMES.get(entry.kind, entry.kind),
                str(entry.fund_id),
                item.fund_name,
                entry.designation or "",
                posting.account,
                japanese_name(posting.account),
                str(posting.amount_yen) if debit else "",
                "" if debit else str(posting.amount_yen),
                entry.counterparty,
                entry.actor,
                entry.reason,
                str(entry.source_id),
                str(entry.source_version),
                common["corrects"],
            ]


class _Line:
    """The csv module's writer target: holds the one line just written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def write_csv(entries: Iterable[PositionedEntry], out: BinaryIO, *, encoding: str) -> int:
    """Write the CSV in `encoding` (see the module docstring); return the number of rows."""
    if encoding not in ENCODINGS:
        raise InvalidInput("--encoding", f"must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    if encoding == "utf-8":
        out.write("\ufeff".encode())
    writer.writerow(COLUMNS)
    out.write(_encoded(line.text, encoding, 0, COLUMNS))
    row_count = 0
    for row in rows(entries):
        writer.writerow(row)
        row_count += 1
        out.write(_encoded(line.text, encoding, row_count, row))
    return row_count


def _encoded(text: str, encoding: str, row_number: int, row: list[str] | tuple[str, ...]) -> bytes:
    if encoding == "utf-8":
        return text.encode("utf-8")
    try:
        return text.translate(_CP932_TABLE).encode("cp932")
    except UnicodeEncodeError as error:
        character = error.object[error.start]
        position = row[2]
        column = next(
            (name for name, value in zip(COLUMNS, row, strict=True) if character in value), "?"
        )
        raise InvalidInput(
            "--encoding",
            f"row {row_number} (position {position}), column {column}: the character"
            f" {character!r}"
            f" (U+{ord(character):04X}) has no CP932 (Shift_JIS) code; export in UTF-8"
            " (the default) instead",
        ) from None

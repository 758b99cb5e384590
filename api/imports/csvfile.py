"""Reading a transfer list: its bounds, its encoding, its header, and its records, each with
the line it starts on (line 1 is the header).

Problems of the file as a whole (an encoding that is neither UTF-8 nor CP932, a bad header)
and of single records (a wrong number of columns, a file that ends inside a record) are
collected with their line numbers; only the bounds raise (`ImportTooLarge`), because a file
past them is not read at all.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from enum import Enum

from ledger.errors import ImportTooLarge
from ledger.service import BATCH_SIZE_MAX

# Room for ROW_COUNT_MAX rows of 167 bytes on average: a bank's transfer list has rows of
# 45-80 bytes (see tests/data), so 100,000 of them make 5-8 MB.
FILE_SIZE_BYTES_MAX = 16 * 1024 * 1024
ROW_COUNT_MAX = BATCH_SIZE_MAX  # one file is one atomic write, which holds at most this many
UTF8_BOM = b"\xef\xbb\xbf"

REQUIRED_COLUMNS = ("effective_on", "amount_yen", "payer_name", "reference")
OPTIONAL_COLUMNS = ("donor_id", "designation", "memo", "payer_account")
JAPANESE_HEADERS = {
    "取引日": "effective_on",
    "金額": "amount_yen",
    "振込依頼人名": "payer_name",
    "参照番号": "reference",
    "寄附者id": "donor_id",
    "使途指定": "designation",
    "メモ": "memo",
    "振替口座番号": "payer_account",
}


class Encoding(Enum):
    AUTO = "auto"
    UTF8 = "utf-8"
    CP932 = "cp932"


@dataclass(frozen=True)
class Problem:
    line: int
    code: str
    message: str

    def as_tuple(self) -> tuple[int, str, str]:
        return (self.line, self.code, self.message)


@dataclass(frozen=True)
class Record:
    line: int
    fields: dict[str, str]  # column name → text as written


@dataclass
class ParsedFile:
    encoding: str  # the one used: utf-8, utf-8-sig or cp932 ("" when none fits)
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_records(data: bytes, encoding: Encoding = Encoding.AUTO) -> ParsedFile:
    if len(data) > FILE_SIZE_BYTES_MAX:
        raise ImportTooLarge(
            f"the file has {len(data):,} bytes; at most {FILE_SIZE_BYTES_MAX:,} are accepted"
        )
    text, used, problem = decode(data, encoding)
    parsed = ParsedFile(used)
    if problem is not None:
        parsed.problems.append(problem)
        return parsed
    _read_csv(text, parsed)
    return parsed


def decode(data: bytes, encoding: Encoding) -> tuple[str, str, Problem | None]:
    """The text, the encoding used, or the problem that stopped decoding."""
    if encoding is Encoding.CP932:
        return _decoded(data, "cp932")
    if encoding is Encoding.UTF8 or data.startswith(UTF8_BOM):
        return _decoded(data, "utf-8-sig")
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":  # cut inside a character
            return _decoded(data, "utf-8")
        utf8_failed_at = error.start
    text, used, problem = _decoded(data, "cp932")
    if problem is None:
        return text, used, None
    # Name the line where the encoding that read further stopped.
    line = max(problem.line, data.count(b"\n", 0, utf8_failed_at) + 1)
    message = "the file is neither UTF-8 nor Shift_JIS (CP932); give the encoding if you know it"
    return "", "", Problem(line, "bad-encoding", message)


def _decoded(data: bytes, codec: str) -> tuple[str, str, Problem | None]:
    try:
        return data.decode(codec), codec, None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ")
        if error.reason in ("unexpected end of data", "incomplete multibyte sequence"):
            message = f"the file ends inside a character (bytes {bad}): is it truncated?"
            return "", codec, Problem(line, "truncated", message)
        message = f"bytes {bad} are not {codec.removesuffix('-sig').upper()}"
        return "", codec, Problem(line, "bad-encoding", message)


def _read_csv(text: str, parsed: ParsedFile) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    last_line = 0
    line_count = len(io.StringIO(text, newline="").readlines())
    cut_short = not text.endswith(("\n", "\r"))  # the last row has no line ending
    try:
        for values in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue  # blank lines, and the empty rows spreadsheets leave at the end
            if header is None:
                header = _header(values, line, parsed)
                if header is None:
                    return
                continue
            at_end = cut_short and last_line == line_count
            _add_record(parsed, header, values, line, truncated=at_end)
    except csv.Error as error:
        if "end of data" in str(error):
            message = f"the file ends inside a quoted field: is it truncated? ({error})"
            parsed.problems.append(Problem(last_line + 1, "truncated", message))
        else:
            parsed.problems.append(Problem(last_line + 1, "bad-csv", str(error)))
    if header is None and not parsed.problems:
        parsed.problems.append(Problem(1, "empty-file", "the file has no header row"))


def _add_record(
    parsed: ParsedFile, header: list[str], values: list[str], line: int, *, truncated: bool
) -> None:
    if len(parsed.records) + len(parsed.problems) >= ROW_COUNT_MAX:
        raise ImportTooLarge(
            f"the file has more than {ROW_COUNT_MAX:,} rows; split it: each file is recorded"
            " in one atomic write, which holds at most that many"
        )
    if len(values) == len(header):
        parsed.records.append(Record(line, dict(zip(header, values, strict=True))))
        return
    counted = f"{len(values)} columns where the header has {len(header)}"
    if truncated and len(values) < len(header):
        parsed.problems.append(
            Problem(line, "truncated", f"the file ends inside this row ({counted}): truncated?")
        )
    else:
        parsed.problems.append(Problem(line, "column-count", counted))


def _header(values: list[str], line: int, parsed: ParsedFile) -> list[str] | None:
    names = [_column_name(value) for value in values]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unknown = [value for value, name in zip(values, names, strict=True) if name not in known]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    columns = ", ".join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
    if unknown:
        parsed.problems.append(
            Problem(line, "bad-header", f"unknown column {unknown[0]!r}; columns are {columns}")
        )
    if missing:
        parsed.problems.append(
            Problem(line, "bad-header", f"missing column {missing[0]!r}; columns are {columns}")
        )
    if repeated:
        parsed.problems.append(Problem(line, "bad-header", f"column {repeated[0]!r} appears twice"))
    return None if parsed.problems else names


def _column_name(value: str) -> str:
    name = unicodedata.normalize("NFKC", value).strip().lower()
    return JAPANESE_HEADERS.get(name, name)

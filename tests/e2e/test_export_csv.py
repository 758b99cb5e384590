"""`fund-ledger export journal --format csv`: the 電子帳簿保存法 download.

One row per posting, exactly the journal read model's rows, in log order; UTF-8 with a
byte-order mark by default; CP932 on request, where the characters JIS tables and Windows map
differently are written as CP932's own and any character CP932 lacks refuses the export,
naming it, with no file left behind.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from api.audit.csv_export import COLUMNS, CP932_SUBSTITUTES
from ledger import commands as c
from projections.journal_entries import journal_postings
from tests.e2e.test_export_tools import audited_ledger, cli

BOM = b"\xef\xbb\xbf"


def csv_rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def test_csv_holds_one_row_per_posting_exactly_as_the_journal_read_model(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "journal.csv"
    with audited_ledger(database_url) as (_ledger, engine, _history):
        result = cli(database_url, "export", "journal", "--format", "csv", "--out", str(out))
        assert result.exit_code == 0, result.output
        with engine.connect() as connection:
            query = sa.select(journal_postings).order_by(
                journal_postings.c.position, journal_postings.c.posting_index
            )
            postings = list(connection.execute(query).mappings())
    data = out.read_bytes()
    assert data.startswith(BOM)
    header, *rows = csv_rows(data[len(BOM) :], "utf-8")
    assert tuple(header) == COLUMNS
    assert f"exported {len(rows)} postings" in result.output
    column = {name: index for index, name in enumerate(COLUMNS)}
    assert len(rows) == len(postings)
    for row, posting in zip(rows, postings, strict=True):
        assert int(row[column["位置"]]) == posting["position"]
        assert int(row[column["行番号"]]) == posting["posting_index"] + 1
        assert row[column["取引年月日"]] == posting["effective_on"].isoformat()
        assert row[column["勘定科目"]] == posting["account"]
        assert row[column["取引先"]] == posting["counterparty"]
        assert row[column["事象ID"]] == str(posting["source_id"])
        amount = row[column["借方金額"] if posting["side"] == "debit" else column["貸方金額"]]
        assert int(amount) == posting["amount_yen"]
    debits = sum(int(row[column["借方金額"]] or 0) for row in rows)
    credits = sum(int(row[column["貸方金額"]] or 0) for row in rows)
    assert debits == credits > 0
    assert data.count(b"\r\n") == len(rows) + 1


def test_csv_to_standard_output_quotes_a_counterparty_with_commas_and_quotes(
    sqlite_url: str,
) -> None:
    with audited_ledger(sqlite_url) as _:
        result = cli(sqlite_url, "export", "journal", "--format", "csv", "--from", "2026-06-01",
                     "--to", "2026-06-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    _header, *rows = csv_rows(result.stdout_bytes[len(BOM) :], "utf-8")
    counterparty = COLUMNS.index("取引先")
    assert '株式会社 "A;B|C", 亀岡〜支店' in {row[counterparty] for row in rows}
    assert {row[0] for row in rows} == {"2026-06-01"}


def test_cp932_export_writes_shift_jis_with_windows_characters_for_jis_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "journal-sjis.csv"
    with audited_ledger(sqlite_url) as _:
        result = cli(sqlite_url, "export", "journal", "--format", "csv", "--encoding", "cp932",
                     "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert not data.startswith(BOM)
    header, *rows = csv_rows(data, "cp932")
    assert tuple(header) == COLUMNS
    counterparties = {row[COLUMNS.index("取引先")] for row in rows}
    assert '株式会社 "A;B|C", 亀岡～支店' in counterparties  # 〜 (U+301C) written as ～ (U+FF5E)
    assert CP932_SUBSTITUTES["\u301c"] == "～"


def test_cp932_export_refuses_a_character_shift_jis_lacks_and_leaves_no_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    out = exports / "journal-sjis.csv"
    with audited_ledger(sqlite_url) as (_ledger, _engine, history):
        donor = c.RegisterDonor("individual", "𠮷田 花子", "ヨシダ ハナコ", "621-0806", "亀岡市")
        donor_id = history.run(donor)
        assert donor_id is not None
        fund_id = next(iter(history.funds))
        donation = c.RecordDonation("yoshida", fund_id, donor_id, 3_000, "cash", date(2026, 9, 1))
        assert history.run(donation) is not None
        result = cli(sqlite_url, "export", "journal", "--format", "csv", "--encoding", "cp932",
                     "--out", str(out))  # fmt: skip
        utf8 = cli(sqlite_url, "export", "journal", "--format", "csv")
    assert result.exit_code == 1
    assert "column 取引先" in result.stderr
    assert "U+20BB7" in result.stderr
    assert "export in UTF-8" in result.stderr
    assert not out.exists()
    assert list(exports.iterdir()) == []  # nor its temporary file
    assert "𠮷田 花子" in utf8.stdout_bytes.decode("utf-8")


def test_an_unknown_encoding_or_format_and_bad_filters_are_refused(sqlite_url: str) -> None:
    with audited_ledger(sqlite_url) as _:
        unknown = cli(sqlite_url, "export", "journal", "--format", "csv", "--encoding", "latin-1")
        misplaced = cli(
            sqlite_url, "export", "journal", "--format", "hledger", "--encoding", "cp932"
        )
        reversed_range = cli(sqlite_url, "export", "journal", "--format", "csv",
                             "--from", "2026-09-01", "--to", "2026-08-01")  # fmt: skip
        bad_fund = cli(sqlite_url, "export", "journal", "--format", "csv", "--fund", "kameoka")
        bad_day = cli(sqlite_url, "export", "journal", "--format", "csv", "--to", "2026-02-30")
    assert unknown.exit_code == 2
    assert misplaced.exit_code == 1
    assert "--encoding: applies to --format csv only" in misplaced.stderr
    assert reversed_range.exit_code == 1
    assert "--from: must not be after --to" in reversed_range.stderr
    assert bad_fund.exit_code == 1
    assert "--fund" in bad_fund.stderr
    assert bad_day.exit_code == 1
    assert "--to" in bad_day.stderr

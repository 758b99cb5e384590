"""A fund statement rendered to PDF, read back with pdftotext, pdffonts and pypdf, and its
embedded figures read back with `read_statement_metadata`.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from reports import read_statement_metadata, render_receipt, render_statement, statement_metadata
from reports.samples import sample_receipt, sample_statement
from reports.statement_metadata import StatementMetadataMissing
from reports.statement_view import StatementTransaction, StatementView, TransactionKind

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts) is not installed: apt-get install poppler-utils",
)


def poppler(tool: str, pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    arguments = [tool, *options, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout


def long_statement(transaction_count: int) -> StatementView:
    view = sample_statement()
    donations = tuple(
        StatementTransaction(
            1021 + index % 60,
            date(2026, 4, 1),
            TransactionKind.DONATION,
            f"寄附者 {index}",
            None,
            1_000 + index,
            35,
        )
        for index in range(transaction_count)
    )
    return dataclasses.replace(view, transactions=view.transactions + donations)


@needs_poppler
def test_statement_prints_period_figures_transactions_and_chain_head(tmp_path: Path) -> None:
    view = sample_statement()
    text = poppler("pdftotext", render_statement(view), tmp_path, "-layout")
    for expected in (
        "基金収支報告書",
        "亀岡協働基金",
        "令和8年4月1日 (2026年4月1日) 〜 令和9年3月31日 (2027年3月31日)",
        "保津川の清掃",
        "一般",
        "合計",
        "期首残高",
        "期末残高",
        "期末助成可能額",
        "指定解除（振替）",
        "¥651,323-",  # opening, in total
        "¥522,636-",  # closing, in total
        "¥202,182-",  # restriction releases
        "株式会社 保津川ネットワーク",
        "△¥350-",  # host fee given back by a refund
        "1021 〜 1090",
        view.chain_head_hash,
    ):
        assert expected in text, expected
    for kind in ("寄附", "交付", "助成決定", "助成減額", "返金", "返還"):
        assert kind in text


@needs_poppler
def test_amounts_are_right_aligned_in_their_columns(tmp_path: Path) -> None:
    pdf = render_statement(sample_statement())
    words = re.findall(
        r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(¥[\d,]+-)</word>',
        poppler("pdftotext", pdf, tmp_path, "-bbox"),
    )
    right_edges = sorted({round(float(x_max)) for x_max, _ in words})
    # every amount ends at one of a few column edges: 3 figure columns, amount and fee columns
    assert len(words) > 40
    assert len(right_edges) <= 6, right_edges


@needs_poppler
def test_statement_uses_only_the_embedded_japanese_font(tmp_path: Path) -> None:
    lines = poppler("pdffonts", render_statement(sample_statement()), tmp_path).splitlines()[2:]
    assert lines
    for line in lines:
        name, kind, _encoding, emb, sub, *_ = line.split()
        assert re.fullmatch(r"[A-Z]{6}\+IPAexMincho", name), line
        assert (kind, emb, sub) == ("TrueType", "yes", "yes"), line


def test_embedded_figures_read_back_equal_the_views() -> None:
    view = sample_statement()
    assert read_statement_metadata(render_statement(view)) == statement_metadata(view)


def test_embedded_figures_are_an_attachment_any_reader_lists() -> None:
    reader = PdfReader(io.BytesIO(render_statement(sample_statement())))
    assert list(reader.attachments) == ["statement.json"]


def test_statement_changed_in_one_figure_no_longer_matches_the_ledgers_view() -> None:
    view = sample_statement()
    other = dataclasses.replace(view, chain_head_hash="0" * 64)
    assert read_statement_metadata(render_statement(other)) != statement_metadata(view)


def test_reading_figures_from_a_pdf_without_them_is_refused() -> None:
    with pytest.raises(StatementMetadataMissing, match=r"no statement\.json"):
        read_statement_metadata(render_receipt(sample_receipt()))


def test_reading_figures_from_something_that_is_not_a_pdf_is_refused() -> None:
    with pytest.raises(StatementMetadataMissing, match="not a readable PDF"):
        read_statement_metadata(b"%PDF-1.4 broken")


def test_attachment_of_another_kind_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment("statement.json", b'{"schema": "something-else"}')
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(
        StatementMetadataMissing,
        match="not a fund-ledger/statement/1 or fund-ledger/statement/2 document",
    ):
        read_statement_metadata(buffer.getvalue())


@needs_poppler
def test_long_transaction_list_repeats_its_header_on_every_page(tmp_path: Path) -> None:
    view = long_statement(150)
    pdf = render_statement(view)
    page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    assert page_count >= 3
    for page in range(2, page_count):
        text = poppler("pdftotext", pdf, tmp_path, "-f", str(page), "-l", str(page))
        assert "取引年月日" in text
        assert "相手方" in text
    assert read_statement_metadata(pdf) == statement_metadata(view)


def test_same_view_renders_the_same_bytes() -> None:
    assert render_statement(sample_statement()) == render_statement(sample_statement())


def test_statement_without_transactions_says_so() -> None:
    view = dataclasses.replace(sample_statement(), transactions=())
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(render_statement(view))).pages
    )
    assert "この期間の取引はありません。" in text


@pytest.mark.parametrize(
    ("closed_through", "line"),
    [
        (
            None,
            "帳簿の締め この期間の帳簿は締めていません。後日の記録で数値が変わることがあります。",
        ),
        (
            date(2026, 9, 30),
            "帳簿の締め 令和8年9月30日 (2026年9月30日) まで締めています。"
            "それより後の日付の数値は変わることがあります。",
        ),
        (
            date(2027, 3, 31),
            "帳簿の締め 令和9年3月31日 (2027年3月31日) まで締めています。"
            "この期間の数値は確定しています。",
        ),
    ],
)
def test_statement_says_whether_its_figures_are_final(
    closed_through: date | None, line: str
) -> None:
    view = dataclasses.replace(sample_statement(), books_closed_through=closed_through)
    text = PdfReader(io.BytesIO(render_statement(view))).pages[0].extract_text()
    assert line in "".join(text.split("\n")).replace("\u3000", " ")

"""Receipts rendered to PDF and read back with real PDF readers: poppler's pdftotext and pdffonts
(CI installs poppler-utils) and pypdf.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports import render_annual_receipt, render_receipt
from reports.layout import MARGIN, PAGE_WIDTH
from reports.samples import COMPANY, DONOR, ISSUER, sample_annual_receipt, sample_receipt

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts) is not installed: apt-get install poppler-utils",
)
LONG_ADDRESS = (
    "京都府亀岡市余部町宝久保1番地の1 亀岡協働まちづくりセンター内 "
    + "保津川下り乗船場前通り東入る南側 " * 6
    + "ひと・まち交流ビル 北棟 12階 1201号室 亀岡市民活動推進会議 事務局気付"
)


def poppler(tool: str, pdf: bytes, tmp_path: Path, *options: str) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    arguments = [tool, *options, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout


def squeeze(text: str) -> str:
    """Text without any whitespace, so wrapped lines read as one."""
    return re.sub(r"\s+", "", text)


@needs_poppler
def test_receipt_prints_number_donor_amount_dates_purpose_and_foundation(tmp_path: Path) -> None:
    text = poppler("pdftotext", render_receipt(sample_receipt()), tmp_path, "-layout")
    for expected in (
        "寄附金受領証明書",
        "No. 2026-000123",
        "発行日",
        "令和8年4月10日 (2026年4月10日)",
        "〒621-0806",
        "京都府亀岡市余部町宝久保1番地の1",
        "亀岡 花子 様",
        "¥12,345-",
        "受領年月日",
        "令和8年4月1日 (2026年4月1日)",
        "寄附金として（亀岡協働基金 保津川の清掃）",
        "公益財団法人 京都地域創造基金",
        "理事長 山田 一郎",
        "公益法人の発行する受領書のため印紙税は非課税です。",
    ):
        assert expected in text.replace("　", " "), expected
    assert squeeze(ISSUER.certification_statement) in squeeze(text)
    assert "再発行" not in text
    assert "主たる目的である業務" not in text


@needs_poppler
def test_company_reissue_is_addressed_onchu_marked_and_states_principal_work(
    tmp_path: Path,
) -> None:
    view = sample_receipt(reissue=True, donor=COMPANY)
    text = poppler("pdftotext", render_receipt(view), tmp_path, "-layout")
    assert "株式会社 保津川ネットワーク 御中" in text.replace("　", " ")
    assert "様" not in text
    assert "No. 2026-000123-2" in text
    assert text.count("再発行") >= 2  # the mark at the top and the note at the foot
    assert "No. 2026-000123 の証明書は無効とし、本証明書に代えます。" in text
    assert "当法人の主たる目的である業務に関連する寄附金であることを証明いたします。" in squeeze(
        text
    )


def test_reprint_of_a_lost_receipt_keeps_its_number_and_is_marked() -> None:
    view = dataclasses.replace(sample_receipt(), reissue=True)
    text = PdfReader(io.BytesIO(render_receipt(view))).pages[0].extract_text()
    assert "2026-000123" in text
    assert "2026-000123-" not in text
    assert "再発行" in text


def test_general_money_reads_ippan_in_the_purpose() -> None:
    view = dataclasses.replace(sample_receipt(), designation_name=None)
    text = PdfReader(io.BytesIO(render_receipt(view))).pages[0].extract_text()
    assert "寄附金として（亀岡協働基金" in text
    assert "一般）" in text


def test_pypdf_reads_the_donor_and_amount_and_the_document_info() -> None:
    reader = PdfReader(io.BytesIO(render_receipt(sample_receipt())))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert [round(float(v)) for v in page.mediabox[2:]] == [595, 842]  # A4
    text = page.extract_text()
    assert "亀岡 花子" in text
    assert "¥12,345-" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "寄附金受領証明書 No. 2026-000123"
    assert str(reader.metadata["/CreationDate"]) == "D:20260410000000+09'00'"


@needs_poppler
@pytest.mark.parametrize(
    "pdf",
    [
        pytest.param(lambda: render_receipt(sample_receipt()), id="receipt"),
        pytest.param(lambda: render_annual_receipt(sample_annual_receipt(120)), id="annual"),
    ],
)
def test_only_the_embedded_japanese_font_is_used(tmp_path: Path, pdf: object) -> None:
    assert callable(pdf)
    lines = poppler("pdffonts", pdf(), tmp_path).splitlines()[2:]
    assert lines, "no font at all"
    for line in lines:
        name, kind, *_, emb, sub, _uni, _object, _generation = line.split()
        assert re.fullmatch(r"[A-Z]{6}\+IPAexMincho", name), line
        assert (kind, emb, sub) == ("TrueType", "yes", "yes"), line


@needs_poppler
def test_very_long_address_and_name_wrap_inside_the_page(tmp_path: Path) -> None:
    donor = dataclasses.replace(
        DONOR, address=LONG_ADDRESS, name="亀岡市民活動推進会議 " * 5 + "代表 亀岡 花子"
    )
    pdf = render_receipt(dataclasses.replace(sample_receipt(), donor=donor))
    text = poppler("pdftotext", pdf, tmp_path)
    assert squeeze(LONG_ADDRESS) in squeeze(text)
    assert squeeze(donor.name + "様") in squeeze(text)
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">',
        poppler("pdftotext", pdf, tmp_path, "-bbox"),
    )
    assert words
    right_edge = PAGE_WIDTH - MARGIN + 1
    assert all(float(x_min) >= MARGIN - 1 and float(x_max) <= right_edge for x_min, x_max in words)
    assert not any(squeeze(LONG_ADDRESS) in squeeze(line) for line in text.splitlines())


@needs_poppler
def test_long_annual_receipt_runs_onto_pages_that_repeat_the_table_header(
    tmp_path: Path,
) -> None:
    view = sample_annual_receipt(120)
    pdf = render_annual_receipt(view)
    page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    assert page_count >= 3
    for page in range(1, page_count + 1):
        text = poppler("pdftotext", pdf, tmp_path, "-layout", "-f", str(page), "-l", str(page))
        assert "年間寄附金受領証明書 No. 2027-000007" in text
        assert re.search(rf"\b{page}\s*/\s*{page_count}\b", text)
        if page < page_count:
            assert "受領年月日" in text
            assert "金額" in text
    text = poppler("pdftotext", pdf, tmp_path, "-layout")
    assert "合計（120件）" in text
    assert text.count("¥") >= 120 + 2
    assert f"¥{view.total_yen:,}-" in text
    assert "令和8年 (2026年)中に" in text
    assert "令和8年1月5日 (2026年1月5日)" in text


def test_annual_receipt_in_the_year_of_the_era_change_names_both_eras() -> None:
    view = dataclasses.replace(
        sample_annual_receipt(1),
        year=2019,
        issued_on=date(2020, 1, 10),
        lines=(
            dataclasses.replace(sample_annual_receipt(1).lines[0], received_on=date(2019, 5, 1)),
        ),
    )
    text = PdfReader(io.BytesIO(render_annual_receipt(view))).pages[0].extract_text()
    assert "平成31年・令和元年 (2019年)中に" in text
    assert "令和元年5月1日 (2019年5月1日)" in text


def test_same_view_renders_the_same_bytes() -> None:
    assert render_receipt(sample_receipt()) == render_receipt(sample_receipt())
    assert render_annual_receipt(sample_annual_receipt()) == render_annual_receipt(
        sample_annual_receipt()
    )


def test_same_view_renders_the_same_bytes_in_another_process() -> None:
    script = (
        "import hashlib; from reports import render_receipt; "
        "from reports.samples import sample_receipt; "
        "print(hashlib.sha256(render_receipt(sample_receipt())).hexdigest())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert other == hashlib.sha256(render_receipt(sample_receipt())).hexdigest()


def test_different_views_render_different_bytes() -> None:
    other = dataclasses.replace(sample_receipt(), amount_yen=12_346)
    assert render_receipt(other) != render_receipt(sample_receipt())

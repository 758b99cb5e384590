"""年間寄附金受領証明書: every donation of one donor in one calendar year, as PDF bytes.
A long year runs onto more pages, the table's header repeated on each.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from reports import wording
from reports.blocks import amount_box, donor_block, footer_blocks, heading, text
from reports.layout import CONTENT_WIDTH, DocumentInfo, build_pdf
from reports.typeface import paragraph, styles, table_style
from reports.views import AnnualReceiptView
from reports.wareki import format_date_ja, format_year_ja, format_yen

NUMBER_WIDTH = 12 * mm
DATE_WIDTH = 62 * mm
AMOUNT_WIDTH = 32 * mm


def render_annual_receipt(view: AnnualReceiptView) -> bytes:
    """The annual receipt as PDF bytes; the same view always gives the same bytes."""
    style = styles()
    received = wording.ANNUAL_RECEIVED_STATEMENT.format(year=format_year_ja(view.year))
    flowables: list[Flowable] = [
        *heading(
            wording.ANNUAL_RECEIPT_TITLE,
            view.receipt_number,
            view.issued_on,
            reissue=view.reissue,
            replaces_receipt_number=view.replaces_receipt_number,
        ),
        *donor_block(view.donor),
        amount_box("合計金額", view.total_yen),
        Spacer(1, 5 * mm),
        paragraph(received, style.body),
        Spacer(1, 3 * mm),
        _donations_table(view),
        Spacer(1, 8 * mm),
        KeepTogether(footer_blocks(view.issuer, view.donor.kind, reissue=view.reissue)),
    ]
    title = wording.ANNUAL_RECEIPT_TITLE + (f"（{wording.REISSUE_MARK}）" if view.reissue else "")
    info = DocumentInfo(
        title=f"{title} {view.year}年 No. {view.receipt_number}",
        subject=f"{view.donor.name} {view.donor.kind.honorific} {format_yen(view.total_yen)}",
        author=view.issuer.name,
        created_on=view.issued_on,
        footer=f"{wording.ANNUAL_RECEIPT_TITLE} No. {view.receipt_number}　{view.donor.name}",
    )
    return build_pdf(flowables, info)


def _donations_table(view: AnnualReceiptView) -> Table:
    style = styles()
    headers = ("No.", "受領年月日", "基金・使途指定（但し書き：寄附金として）", "金額")
    rows: list[list[Flowable | str]] = [[paragraph(h, style.cell_header) for h in headers]]
    for number, line in enumerate(view.lines, start=1):
        purpose = f"{line.fund_name}　{line.designation_name or wording.GENERAL_DESIGNATION}"
        rows.append(
            [
                paragraph(str(number), style.cell_right),
                paragraph(format_date_ja(line.received_on), style.cell),
                paragraph(text(purpose), style.cell),
                paragraph(format_yen(line.amount_yen), style.cell_right),
            ]
        )
    rows.append(
        [
            "",
            paragraph(f"合計（{len(view.lines)}件）", style.cell),
            "",
            paragraph(format_yen(view.total_yen), style.cell_right),
        ]
    )
    purpose_width = CONTENT_WIDTH - NUMBER_WIDTH - DATE_WIDTH - AMOUNT_WIDTH
    table = Table(
        rows,
        colWidths=[NUMBER_WIDTH, DATE_WIDTH, purpose_width, AMOUNT_WIDTH],
        repeatRows=1,
    )
    table.setStyle(
        table_style(
            *[
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")),
                ("LINEABOVE", (0, -1), (-1, -1), 1.0, colors.black),
                ("SPAN", (1, -1), (2, -1)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table

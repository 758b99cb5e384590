"""寄附金受領証明書: the receipt for one donation, as PDF bytes."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from reports import wording
from reports.blocks import (
    amount_box,
    donor_block,
    footer_blocks,
    heading,
    text,
)
from reports.layout import CONTENT_WIDTH, DocumentInfo, build_pdf
from reports.typeface import paragraph, styles, table_style
from reports.views import ReceiptView
from reports.wareki import format_date_ja, format_yen


def render_receipt(view: ReceiptView) -> bytes:
    """The receipt as PDF bytes; the same view always gives the same bytes."""
    flowables: list[Flowable] = [
        *heading(
            wording.RECEIPT_TITLE,
            view.receipt_number,
            view.issued_on,
            reissue=view.reissue,
            replaces_receipt_number=view.replaces_receipt_number,
        ),
        *donor_block(view.donor),
        amount_box("金額", view.amount_yen),
        Spacer(1, 5 * mm),
        _details(view),
        Spacer(1, 4 * mm),
        paragraph(wording.RECEIVED_STATEMENT, styles().body),
        Spacer(1, 8 * mm),
        *footer_blocks(view.issuer, view.donor.kind, reissue=view.reissue),
    ]
    title = wording.RECEIPT_TITLE + (f"（{wording.REISSUE_MARK}）" if view.reissue else "")
    info = DocumentInfo(
        title=f"{title} No. {view.receipt_number}",
        subject=f"{view.donor.name} {view.donor.kind.honorific} {format_yen(view.amount_yen)}",
        author=view.issuer.name,
        created_on=view.issued_on,
        footer=f"{wording.RECEIPT_TITLE} No. {view.receipt_number}",
    )
    return build_pdf(flowables, info)


def _details(view: ReceiptView) -> Table:
    style = styles()
    rows = [
        ["受領年月日", format_date_ja(view.received_on)],
        ["但し書き", text(wording.purpose_line(view.fund_name, view.designation_name))],
    ]
    table = Table(
        [[label, paragraph(value, style.body)] for label, value in rows],
        colWidths=[30 * mm, CONTENT_WIDTH - 30 * mm],
    )
    table.setStyle(
        table_style(
            *[
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("FONTSIZE", (0, 0), (0, -1), 10),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        )
    )
    return table

"""Pieces shared by the receipts: the heading with its number and 再発行 mark, the donor's
address block, the foundation's block and its statements.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from reports import wording
from reports.layout import CONTENT_WIDTH
from reports.typeface import paragraph, register_font, styles, table_style
from reports.views import DonorKind, DonorView, IssuerView
from reports.wareki import format_date_ja, format_yen

REISSUE_COLOUR = colors.HexColor("#b00000")


def text(value: str) -> str:
    """Plain text made safe for a reportlab paragraph (its markup is XML), on one line: the
    paragraph wraps it, and an explicit break would slow Japanese line breaking down."""
    return escape(" ".join(value.splitlines()))


def heading(
    title: str,
    receipt_number: str,
    issued_on: date,
    *,
    reissue: bool,
    replaces_receipt_number: str | None,
) -> list[Flowable]:
    style = styles()
    flowables: list[Flowable] = [ReissueMark()] if reissue else []
    flowables += [
        paragraph(f"No. {text(receipt_number)}", style.right),
        paragraph(f"発行日　{format_date_ja(issued_on)}", style.right),
        Spacer(1, 6 * mm),
        paragraph(text(title), style.title),
    ]
    if replaces_receipt_number is not None:
        line = wording.REPLACES_STATEMENT.format(number=text(replaces_receipt_number))
        flowables.append(paragraph(line, style.centre))
    flowables.append(Spacer(1, 6 * mm))
    return flowables


class ReissueMark(Flowable):
    """再発行 in a red box at the top left; takes no room, so the heading beside it keeps its
    place (it is drawn below the point where it stands)."""

    width_pt = 28 * mm
    height_pt = 11 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(REISSUE_COLOUR)
        canvas.setFillColor(REISSUE_COLOUR)
        canvas.setLineWidth(1.5)
        canvas.rect(0, -self.height_pt, self.width_pt, self.height_pt, stroke=1, fill=0)
        canvas.setFont(register_font(), 14)
        canvas.drawCentredString(self.width_pt / 2, -self.height_pt / 2 - 5, wording.REISSUE_MARK)
        canvas.restoreState()


def donor_block(donor: DonorView) -> list[Flowable]:
    style = styles()
    lines = [f"〒{text(donor.postal_code)}"] if donor.postal_code else []
    if donor.address:
        lines.append(text(donor.address))
    name = paragraph(
        f"{text(donor.name)}　{donor.kind.honorific}", style.addressee
    )  # wraps when long; the honorific stays with it
    underline = Table([[name]], colWidths=[CONTENT_WIDTH * 0.7], hAlign="LEFT")
    underline.setStyle(
        table_style(
            *_no_padding(),
            ("LINEBELOW", (0, 0), (-1, -1), 0.8, colors.black),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        )
    )
    block: list[Flowable] = [paragraph(line, style.body) for line in lines]
    return [*block, Spacer(1, 3 * mm), underline, Spacer(1, 6 * mm)]


def amount_box(label: str, amount_yen: int) -> Table:
    style = styles()
    box = Table(
        [[label, paragraph(format_yen(amount_yen), style.amount)]],
        colWidths=[28 * mm, 85 * mm],
        rowHeights=[16 * mm],
    )
    box.setStyle(
        table_style(
            *[
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("FONTSIZE", (0, 0), (0, 0), 10),
                ("ALIGN", (0, 0), (0, 0), "CENTER"),
                ("LINEAFTER", (0, 0), (0, 0), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (0, 0), colors.HexColor("#f0f0f0")),
            ]
        )
    )
    return box


def issuer_block(issuer: IssuerView) -> list[Flowable]:
    """The foundation's name, address and representative, in the right part of the page."""
    name_style, body_style = _issuer_styles()
    address = f"〒{text(issuer.postal_code)}　" if issuer.postal_code else ""
    return [
        paragraph(text(issuer.name), name_style),
        paragraph(address + text(issuer.address), body_style),
        paragraph(text(issuer.representative), body_style),
    ]


def statements(issuer: IssuerView, donor_kind: DonorKind) -> list[Flowable]:
    """The foundation's 公益認定 statement, and for a company the principal-work statement.

    One paragraph per statement: a paragraph with a line break inside (`<br/>`) takes
    reportlab's much slower mixed-fragment path for Japanese line breaking.
    """
    style = styles()
    paragraphs = [paragraph(text(issuer.certification_statement), style.small)]
    if donor_kind is DonorKind.ORGANISATION:
        paragraphs.append(paragraph(wording.PRINCIPAL_WORK_STATEMENT, style.small))
    paragraphs.append(paragraph(wording.STAMP_DUTY_STATEMENT, style.small))
    box = Table([[paragraphs]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        table_style(
            ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
            ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
            ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
        )
    )
    return [box]


def footer_blocks(issuer: IssuerView, donor_kind: DonorKind, *, reissue: bool) -> list[Flowable]:
    """The foundation's block and its statements (a multi-page document keeps them together)."""
    flowables: list[Flowable] = [
        *issuer_block(issuer),
        Spacer(1, 8 * mm),
        *statements(issuer, donor_kind),
    ]
    if reissue:
        flowables += [Spacer(1, 6 * mm), paragraph(wording.REISSUE_STATEMENT, styles().small)]
    return flowables


@functools.cache
def _issuer_styles() -> tuple[ParagraphStyle, ParagraphStyle]:
    style, indent = styles(), CONTENT_WIDTH * 0.4
    return (
        ParagraphStyle("issuer_name", parent=style.heading, leftIndent=indent),
        ParagraphStyle("issuer_body", parent=style.body, leftIndent=indent),
    )


def _no_padding() -> Sequence[tuple[object, ...]]:
    return [
        (side, (0, 0), (-1, -1), 0)
        for side in ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")
    ]

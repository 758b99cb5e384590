"""基金収支報告書: a fund's statement for a period, as PDF bytes, with its figures embedded as
JSON (`reports.statement_metadata`) for `verify --statement`.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from reports import wording
from reports.blocks import text
from reports.layout import CONTENT_WIDTH, DocumentInfo, build_pdf
from reports.statement_metadata import (
    ATTACHMENT_NAME,
    StatementMetadataMissing,
    attach,
    encode,
    read_statement_metadata,
    statement_metadata,
)
from reports.statement_view import (
    PeriodClosing,
    PotFigures,
    StatementTransaction,
    StatementView,
)
from reports.typeface import styles, table_style
from reports.wareki import format_date_ja, format_yen

__all__ = [
    "StatementMetadataMissing",
    "read_statement_metadata",
    "render_statement",
    "statement_metadata",
]

POTS_PER_TABLE = 4
LABEL_WIDTH = 46 * mm
# (label, figure, sign): the rows of the figures table, in the order a reader adds them up.
FIGURE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("期首残高", "opening_balance_yen", ""),
    ("寄附金", "donations_yen", "＋"),
    ("寄附金の返金・取消", "refunds_yen", "－"),
    ("運営費", "host_fees_yen", "－"),
    ("助成金の交付", "disbursements_yen", "－"),
    ("助成金の返還", "returns_yen", "＋"),
    ("期末残高", "closing_balance_yen", ""),
    ("期首未払助成額", "opening_committed_yen", ""),
    ("助成決定", "grants_awarded_yen", "＋"),
    ("助成の減額・取消", "grants_reduced_yen", "－"),
    ("交付", "disbursements_yen", "－"),
    ("期末未払助成額", "closing_committed_yen", ""),
    ("期末助成可能額", "available_yen", ""),
    ("指定解除（振替）", "restriction_releases_yen", ""),
)
COMPACT = (("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2))
BOLD_ROWS = frozenset({0, 6, 11, 12})
TRANSACTION_WIDTHS_MM = (14, 22, 18, 50, 30, 24, 16)


def render_statement(view: StatementView) -> bytes:
    """The statement as PDF bytes; the same view always gives the same bytes."""
    style = styles()
    period = f"{format_date_ja(view.period_from)} 〜 {format_date_ja(view.period_to)}"
    flowables: list[Flowable] = [
        Paragraph(wording.STATEMENT_TITLE, style.title),
        Paragraph(text(view.fund_name), style.centre),
        Spacer(1, 3 * mm),
        Paragraph(f"対象期間　{period}", style.body),
        Paragraph(
            f"作成日　{format_date_ja(view.issued_on)}　　作成者　{text(view.issuer_name)}",
            style.body,
        ),
        Paragraph(f"帳簿の締め　{_closing_line(view)}", style.body),
        Paragraph("1. 使途指定ごとの収支", style.heading),
        *_figure_tables(view),
        Paragraph("2. 取引明細", style.heading),
        _transactions_table(view.transactions),
        KeepTogether([Paragraph("3. 台帳との照合", style.heading), _audit_table(view)]),
    ]
    info = DocumentInfo(
        title=f"{wording.STATEMENT_TITLE} {view.fund_name} {view.period_from}〜{view.period_to}",
        subject=f"positions {view.first_position}..{view.last_position}; "
        f"chain head {view.chain_head_hash}",
        author=view.issuer_name,
        created_on=view.issued_on,
        footer=f"{wording.STATEMENT_TITLE}　{view.fund_name}",
    )
    content = encode(view)
    return build_pdf(flowables, info, on_first_page=lambda canvas, _doc: attach(canvas, content))


def _closing_line(view: StatementView) -> str:
    """Whether the period's figures are final (BRIEF rule 7): its books closed when the
    statement was made, or which of its days may still receive a late entry."""
    closing = view.period_closing
    if closing is PeriodClosing.OPEN:
        return wording.PERIOD_OPEN
    assert view.books_closed_through is not None
    closed_through = format_date_ja(view.books_closed_through)
    if closing is PeriodClosing.IN_PART:
        return wording.PERIOD_CLOSED_IN_PART.format(day=closed_through)
    return wording.PERIOD_CLOSED.format(day=closed_through)


def _audit_table(view: StatementView) -> Table:
    style = styles()
    rows = [
        ("対象の記録（台帳の位置）", f"{view.first_position} 〜 {view.last_position}"),
        (f"ハッシュチェーンの値（位置 {view.last_position}）", view.chain_head_hash),
        (
            "照合の方法",
            f"fund-ledger verify --expect-head {view.chain_head_hash[:12]}… で台帳と照合できます。"
            f"数値は添付ファイル {ATTACHMENT_NAME} にも収めています。",
        ),
    ]
    table = Table(
        [[Paragraph(label, style.cell), Paragraph(value, style.cell)] for label, value in rows],
        colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH],
        hAlign="LEFT",
    )
    table.setStyle(
        table_style(
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f4f4f4")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            *COMPACT,
        )
    )
    return table


def _figure_tables(view: StatementView) -> list[Flowable]:
    columns = [*view.pots, view.total] if len(view.pots) > 1 else list(view.pots)
    tables: list[Flowable] = []
    for start in range(0, len(columns), POTS_PER_TABLE):
        tables += [_figure_table(columns[start : start + POTS_PER_TABLE]), Spacer(1, 4 * mm)]
    return tables


def _figure_table(pots: list[PotFigures]) -> Table:
    style = styles()
    value_width = (CONTENT_WIDTH - LABEL_WIDTH) / POTS_PER_TABLE
    header = [Paragraph("", style.cell_header)] + [
        Paragraph(text(pot.designation_name or wording.GENERAL_DESIGNATION), style.cell_header)
        for pot in pots
    ]
    rows = [header]
    for label, figure, sign in FIGURE_ROWS:
        label_text = f"　{sign} {label}" if sign else label
        rows.append(
            [Paragraph(label_text, style.cell)]
            + [Paragraph(format_yen(getattr(pot, figure)), style.cell_right) for pot in pots]
        )
    table = Table(
        rows, colWidths=[LABEL_WIDTH] + [value_width] * len(pots), repeatRows=1, hAlign="LEFT"
    )
    commands: list[tuple[object, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        *COMPACT,
        ("LINEABOVE", (0, 8), (-1, 8), 1.0, colors.black),
    ]
    commands += [
        ("BACKGROUND", (0, r + 1), (-1, r + 1), colors.HexColor("#f4f4f4")) for r in BOLD_ROWS
    ]
    table.setStyle(table_style(*commands))
    return table


def _transactions_table(transactions: tuple[StatementTransaction, ...]) -> Flowable:
    style = styles()
    if not transactions:
        return Paragraph("この期間の取引はありません。", style.body)
    headers = ("位置", "取引年月日", "種別", "相手方", "使途指定", "金額", "運営費")
    rows = [[Paragraph(h, style.cell_header) for h in headers]]
    for t in transactions:
        fee = format_yen(t.host_fee_yen) if t.host_fee_yen else ""
        if fee and t.kind.gives_fee_back:
            fee = "△" + fee
        cells = [
            (str(t.position), style.cell_right),
            (t.effective_on.isoformat(), style.cell),
            (t.kind.label, style.cell),
            (text(t.counterparty), style.cell),
            (text(t.designation_name or wording.GENERAL_DESIGNATION), style.cell),
            (format_yen(t.amount_yen), style.cell_right),
            (fee, style.cell_right),
        ]
        rows.append([Paragraph(value, cell_style) for value, cell_style in cells])
    table = Table(rows, colWidths=[w * mm for w in TRANSACTION_WIDTHS_MM], repeatRows=1)
    table.setStyle(
        table_style(
            *[
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                *COMPACT,
            ]
        )
    )
    return table

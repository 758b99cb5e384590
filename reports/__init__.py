"""PDF documents rendered from plain view objects: receipts, annual receipts, fund statements.

Pure functions from a view (frozen dataclasses defined here) to PDF bytes; the same view gives
the same bytes. Nothing here reads the ledger or a database: the caller builds the views.
"""

from reports.annual_receipt import render_annual_receipt
from reports.receipt import render_receipt
from reports.statement import read_statement_metadata, render_statement, statement_metadata
from reports.statement_view import (
    PeriodClosing,
    PotFigures,
    StatementTransaction,
    StatementView,
    TransactionKind,
)
from reports.views import (
    AnnualReceiptLine,
    AnnualReceiptView,
    DonorKind,
    DonorView,
    IssuerView,
    ReceiptView,
)

__all__ = [
    "AnnualReceiptLine",
    "AnnualReceiptView",
    "DonorKind",
    "DonorView",
    "IssuerView",
    "PeriodClosing",
    "PotFigures",
    "ReceiptView",
    "StatementTransaction",
    "StatementView",
    "TransactionKind",
    "read_statement_metadata",
    "render_annual_receipt",
    "render_receipt",
    "render_statement",
    "statement_metadata",
]

"""The statement's figures as machine-readable JSON, embedded in the PDF as an attached file
(`statement.json`, listed in the catalogue's /Names /EmbeddedFiles, so any viewer shows it as
an attachment), and read back with pypdf.

A later `verify --statement FILE` compares `read_statement_metadata(pdf)` with
`statement_metadata(view)` of a view it builds from the ledger: equal dicts, same figures.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields
from typing import Any, Final

from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFName,
    PDFStream,
    PDFStreamFilterZCompress,
    PDFString,
)
from reportlab.pdfgen.canvas import Canvas

from reports.statement_view import PotFigures, StatementView

ATTACHMENT_NAME: Final = "statement.json"
SCHEMA: Final = "fund-ledger/statement/2"
# Statements made before the books of a fund could be closed carry no `books_closed_through`;
# they are read, and verified, as they were made.
SCHEMA_1: Final = "fund-ledger/statement/1"
SCHEMAS: Final = (SCHEMA_1, SCHEMA)


class StatementMetadataMissing(ValueError):
    """The PDF carries no (or an unreadable) statement.json."""


def statement_metadata(view: StatementView, *, schema: str = SCHEMA) -> dict[str, Any]:
    """The figures of `view` as plain JSON-ready data (what the PDF carries), in `schema`
    (one of `SCHEMAS`; a verifier asks for the one a statement was made in)."""
    if schema not in SCHEMAS:
        raise ValueError(f"no statement schema {schema!r}")
    closed = view.books_closed_through
    closed_through = None if closed is None else closed.isoformat()
    since_2 = {} if schema == SCHEMA_1 else {"books_closed_through": closed_through}
    return {
        "schema": schema,
        "fund_name": view.fund_name,
        "issuer_name": view.issuer_name,
        "period_from": view.period_from.isoformat(),
        "period_to": view.period_to.isoformat(),
        "issued_on": view.issued_on.isoformat(),
        "first_position": view.first_position,
        "last_position": view.last_position,
        "chain_head_hash": view.chain_head_hash,
        "pots": [_figures(pot) for pot in view.pots],
        "total": {k: v for k, v in _figures(view.total).items() if k != "designation_name"},
        "transactions": [
            {
                "position": t.position,
                "effective_on": t.effective_on.isoformat(),
                "kind": t.kind.value,
                "counterparty": t.counterparty,
                "designation_name": t.designation_name,
                "amount_yen": t.amount_yen,
                "host_fee_yen": t.host_fee_yen,
            }
            for t in view.transactions
        ],
        **since_2,
    }


def _figures(pot: PotFigures) -> dict[str, Any]:
    figures: dict[str, Any] = {field.name: getattr(pot, field.name) for field in fields(pot)}
    figures["available_yen"] = pot.available_yen
    return figures


def encode(view: StatementView, *, schema: str = SCHEMA) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8; the same view, the same bytes."""
    text = json.dumps(
        statement_metadata(view, schema=schema),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return text.encode("utf-8")


def attach(canvas: Canvas, content: bytes) -> None:
    """Embed `content` as the attachment `statement.json` of the document being drawn."""
    document = getattr(canvas, "_doc")  # noqa: B009 (reportlab has no public API for this)
    stream = PDFStream(
        dictionary=PDFDictionary(
            {
                "Type": PDFName("EmbeddedFile"),
                "Subtype": PDFName("application#2Fjson"),
                "Params": PDFDictionary({"Size": len(content)}),
            }
        ),
        content=content,
        filters=[PDFStreamFilterZCompress()],
    )
    file_spec = PDFDictionary(
        {
            "Type": PDFName("Filespec"),
            "F": PDFString(ATTACHMENT_NAME),
            "UF": PDFString(ATTACHMENT_NAME),
            "Desc": PDFString("statement figures (JSON)"),
            "AFRelationship": PDFName("Data"),
            "EF": PDFDictionary({"F": document.Reference(stream)}),
        }
    )
    names = PDFArray([PDFString(ATTACHMENT_NAME), document.Reference(file_spec)])
    canvas.setCatalogEntry(
        "Names", PDFDictionary({"EmbeddedFiles": PDFDictionary({"Names": names})})
    )


def read_statement_metadata(pdf_bytes: bytes) -> dict[str, Any]:
    """The figures a statement PDF carries, as `statement_metadata` gave them."""
    from pypdf import PdfReader  # only readers need it; rendering does not

    try:
        attachments = PdfReader(io.BytesIO(pdf_bytes)).attachments
        contents = attachments.get(ATTACHMENT_NAME)
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise StatementMetadataMissing(f"not a readable PDF: {error}") from error
    if not contents:
        raise StatementMetadataMissing(f"the PDF has no {ATTACHMENT_NAME}")
    try:
        metadata = json.loads(contents[0].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StatementMetadataMissing(f"{ATTACHMENT_NAME} is not JSON: {error}") from error
    if not isinstance(metadata, dict) or metadata.get("schema") not in SCHEMAS:
        raise StatementMetadataMissing(
            f"{ATTACHMENT_NAME} is not a {' or '.join(SCHEMAS)} document"
        )
    return metadata

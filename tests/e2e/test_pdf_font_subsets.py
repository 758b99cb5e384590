"""The embedded font holds the glyphs a document prints and no others (read back with pypdf):
reportlab's default would also embed all of ASCII in every receipt, used or not, and split a
receipt's glyphs over two subsets.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, PdfObject, StreamObject

from reports import render_annual_receipt, render_receipt, render_statement
from reports.samples import COMPANY, sample_annual_receipt, sample_receipt, sample_statement

DOCUMENTS: dict[str, Callable[[], bytes]] = {
    "receipt": lambda: render_receipt(sample_receipt()),
    "reissued company receipt": lambda: render_receipt(sample_receipt(reissue=True, donor=COMPANY)),
    "annual receipt": lambda: render_annual_receipt(sample_annual_receipt()),
    "statement": lambda: render_statement(sample_statement()),
}


def resolved(value: PdfObject, kind: type[DictionaryObject]) -> DictionaryObject:
    found = value.get_object()
    assert isinstance(found, kind), type(found)
    return found


def glyph_count(font: DictionaryObject) -> int:
    """`numGlyphs` of the embedded TrueType file (its `maxp` table)."""
    descriptor = resolved(font["/FontDescriptor"], DictionaryObject)
    stream = resolved(descriptor["/FontFile2"], StreamObject)
    assert isinstance(stream, StreamObject)
    data = stream.get_data()
    (table_count,) = struct.unpack(">H", data[4:6])
    for index in range(table_count):
        entry = data[12 + 16 * index : 28 + 16 * index]
        if entry[:4] == b"maxp":
            (offset,) = struct.unpack(">L", entry[8:12])
            (count,) = struct.unpack(">H", data[offset + 4 : offset + 6])
            return int(count)
    raise AssertionError("the embedded font has no maxp table")


@pytest.mark.parametrize("render", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_one_page_document_embeds_one_subset_of_only_the_characters_it_prints(
    render: Callable[[], bytes],
) -> None:
    reader = PdfReader(io.BytesIO(render()))
    [page] = reader.pages
    resources = resolved(page["/Resources"], DictionaryObject)
    fonts = [
        resolved(font, DictionaryObject)
        for font in resolved(resources["/Font"], DictionaryObject).values()
    ]
    printed = set(page.extract_text()) - {" ", "\n"}

    assert len(fonts) == 1
    # the characters printed, the missing-glyph glyph and the space
    assert glyph_count(fonts[0]) <= len(printed) + 2

"""The one Japanese font every PDF embeds, and the paragraph styles that use it.

The font file ships inside this package (`reports/fonts/`, IPA Font License), so nothing depends
on fonts installed on the machine or in the reader's viewer. It is registered with reportlab once
per process (loading it costs about 0.05 s); reportlab embeds only the glyphs a document uses.
Two settings make that embedding cheaper without changing a printed glyph:
- `asciiReadable=False`: reportlab's default reserves the first subset's codes 32–126 for
  ASCII and embeds those 95 glyphs in every document, used or not (about 13 KB of an annual
  receipt's 72); without it a subset holds only the characters the document prints, so a
  receipt usually needs one subset instead of two. (The content streams then show text as
  subset codes rather than readable ASCII; the ToUnicode maps still extract it.)
- the face's tables are sliced from the font file once per process: reportlab takes a fresh
  copy of the 7 MB glyph table for every subset of every document it embeds.

Every style uses this font with `wordWrap='CJK'` (otherwise Japanese lines only break at
spaces, and may break before 。), and documents start their canvas in it too, so no PDF ever
refers to a base-14 font such as Helvetica that it does not embed.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from reportlab.lib.colors import HexColor
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, TableStyle

FONT_NAME: Final = "IPAexMincho"
FONT_PATH: Final = Path(__file__).parent / "fonts" / "ipaexm.ttf"
PARAGRAPHS_PARSED_MAX: Final = 4_096  # (text, style) pairs whose parse is kept


@functools.cache
def register_font() -> str:
    """Register the embedded font with reportlab (once per process) and return its name."""
    font = TTFont(FONT_NAME, str(FONT_PATH), asciiReadable=False)
    # Tables are immutable bytes, read-only to reportlab: one copy serves every document.
    font.face.get_table = functools.cache(font.face.get_table)  # type: ignore[method-assign]
    pdfmetrics.registerFont(font)
    # <b> and <i> in a paragraph map to the same face instead of a base-14 fallback.
    pdfmetrics.registerFontFamily(
        FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
    )
    return FONT_NAME


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of all documents; build them with `styles()`."""

    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    right: ParagraphStyle
    centre: ParagraphStyle
    cell: ParagraphStyle
    cell_right: ParagraphStyle
    cell_header: ParagraphStyle
    addressee: ParagraphStyle
    amount: ParagraphStyle


Alignment = Literal[0, 1, 2]  # reportlab's TA_LEFT, TA_CENTER, TA_RIGHT
LEFT: Final = 0
CENTRE: Final = 1
RIGHT: Final = 2


def _style(
    name: str,
    size: float,
    alignment: Alignment = LEFT,
    *,
    space_before: float = 0,
    space_after: float = 0,
    colour: str = "#000000",
) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=register_font(),
        bulletFontName=register_font(),
        fontSize=size,
        leading=round(size * 1.45, 1),
        alignment=alignment,
        wordWrap="CJK",
        spaceBefore=space_before,
        spaceAfter=space_after,
        textColor=HexColor(colour),
    )


@functools.cache
def styles() -> Styles:
    return Styles(
        title=_style("title", 20, CENTRE, space_after=4),
        heading=_style("heading", 12, space_before=8, space_after=4),
        body=_style("body", 10),
        small=_style("small", 8.5),
        right=_style("right", 10, RIGHT),
        centre=_style("centre", 10, CENTRE),
        cell=_style("cell", 8.5),
        cell_right=_style("cell_right", 8.5, RIGHT),
        cell_header=_style("cell_header", 8.5, CENTRE),
        addressee=_style("addressee", 15),
        amount=_style("amount", 22, CENTRE),
    )


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """`Paragraph(text, style)`, its markup parsed once per process for each text and style.

    Parsing is about 60 µs of a paragraph, and most of what a receipt prints recurs from one
    receipt to the next (the wording, the foundation's details, dates, amounts, fund names).
    The parsed fragments are shared and only read: each call gets its own copy of the
    paragraph, which wrapping and drawing then change."""
    return copy.copy(_parsed(text, style))


@functools.lru_cache(maxsize=PARAGRAPHS_PARSED_MAX)
def _parsed(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(text, style)


def table_style(*commands: Any) -> TableStyle:
    """A table style whose cells use the embedded font: reportlab's default cell font is
    Helvetica, and a table sets it for every cell (even one holding a paragraph or nothing).
    """
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_font()), *commands])

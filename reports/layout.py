"""The page every document is printed on: A4, the embedded font from the first byte, a footer
with `page / pages`, and reproducible bytes.

Reproducible: reportlab's `invariant` mode fixes the document id and the timestamps, and the
creation date written in the PDF is the document's own date (its issue date), so the same view
renders the same bytes in any process, on any day.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.typeface import register_font

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 18 * mm
FOOTER_Y: Final = 10 * mm
CONTENT_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
PRODUCER: Final = f"fund-ledger reports (reportlab {reportlab.Version})"

PageHook = Callable[[Canvas, BaseDocTemplate], None]


@dataclass(frozen=True)
class DocumentInfo:
    """What goes into the PDF's information dictionary, and the footer of every page."""

    title: str
    subject: str
    author: str  # the issuing foundation
    created_on: date
    footer: str  # printed at the left of every page's foot, e.g. the receipt number


def _pdf_date(created_on: date) -> Callable[..., str]:
    stamp = f"D:{created_on:%Y%m%d}000000+09'00'"  # midnight in Japan

    def formatter(*_ignored: int) -> str:
        return stamp

    return formatter


class _FooterCanvas(Canvas):
    """A canvas that holds its pages back until the end, to print `page / pages` on each."""

    def __init__(self, *args: Any, footer: str, created_on: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_states: list[dict[str, Any]] = []
        self.setDateFormatter(_pdf_date(created_on))

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._page_states.append(dict(self.__dict__))
        getattr(self, "_startPage")()  # noqa: B009 (reportlab has no public name for it)

    def save(self) -> None:
        page_count = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._draw_footer(page_count)
            super().showPage()
        super().save()

    def _draw_footer(self, page_count: int) -> None:
        self.saveState()
        self.setFont(register_font(), 8)
        self.setFillGray(0.3)
        self.drawString(MARGIN, FOOTER_Y, self._footer)
        self.drawRightString(
            PAGE_WIDTH - MARGIN, FOOTER_Y, f"{self.getPageNumber()} / {page_count}"
        )
        self.restoreState()


def _nothing(canvas: Canvas, document: BaseDocTemplate) -> None:
    del canvas, document


def build_pdf(
    flowables: Sequence[Flowable],
    info: DocumentInfo,
    *,
    on_first_page: PageHook = _nothing,
    keywords: Sequence[str] = (),
) -> bytes:
    """Lay `flowables` out on as many A4 pages as they need and return the PDF's bytes."""
    font_name = register_font()
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=info.title,
        subject=info.subject,
        author=info.author,
        creator="fund-ledger",
        producer=PRODUCER,
        keywords=list(keywords),
        invariant=1,
        initialFontName=font_name,
        lang="ja",
    )
    frame = Frame(
        MARGIN,
        MARGIN + 4 * mm,
        CONTENT_WIDTH,
        PAGE_HEIGHT - 2 * MARGIN - 4 * mm,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    first = PageTemplate(
        id="first", frames=[frame], onPage=on_first_page, autoNextPageTemplate="later"
    )
    later = PageTemplate(id="later", frames=[frame])
    document.addPageTemplates([first, later])
    canvas_maker = functools.partial(_FooterCanvas, footer=info.footer, created_on=info.created_on)
    document.build(list(flowables), canvasmaker=canvas_maker)
    return buffer.getvalue()

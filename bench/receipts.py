"""Receipt-rendering benchmark: `render_receipt` beside a bare reportlab page.

Run `python -m bench.receipts` (see `--help`). Each round renders the sample receipt N times,
and N times a bare one-page reportlab canvas with the same embedded font drawing the same
text (the receipt's own text, read back from its PDF), one string per line, no layout engine.
The two alternate within each round (order reversed every other round), and the ratio is the
median of the per-round ratios, since the machine drifts over minutes. The bar: the receipt
renders at least at half the bare page's rate.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from reports import render_receipt
from reports.samples import sample_receipt
from reports.typeface import register_font

RATIO_MIN = 0.50


@dataclass(frozen=True)
class Measurement:
    label: str
    render: Callable[[], bytes]


def receipt_text() -> list[str]:
    """The text the sample receipt prints, line by line."""
    page = PdfReader(io.BytesIO(render_receipt(sample_receipt()))).pages[0]
    return [line for line in page.extract_text().splitlines() if line.strip()]


def bare_page(lines: list[str]) -> Callable[[], bytes]:
    font_name = register_font()

    def render() -> bytes:
        buffer = io.BytesIO()
        # (the stubs mistype initialFontName as a float)
        options: dict[str, Any] = {"initialFontName": font_name}
        canvas = Canvas(buffer, pagesize=A4, invariant=1, **options)
        canvas.setFont(font_name, 10)
        y = A4[1] - 60
        for line in lines:
            canvas.drawString(50, y, line)
            y -= 14
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    return render


def rate_per_s(render: Callable[[], bytes], count: int) -> float:
    started_s = time.perf_counter()
    for _ in range(count):
        render()
    return count / (time.perf_counter() - started_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.receipts", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="default %(default)s")
    parser.add_argument("--count", type=int, default=50, help="PDFs per measurement per round")
    parser.add_argument("--check", action="store_true", help="exit 1 if the bar is missed")
    arguments = parser.parse_args(argv)
    view = sample_receipt()
    lines = receipt_text()
    receipt = Measurement("render_receipt (platypus)", lambda: render_receipt(view))
    bare = Measurement(f"bare reportlab page ({len(lines)} lines)", bare_page(lines))
    for measurement in (receipt, bare):  # warm-up: font registration, caches
        measurement.render()
    rates: dict[str, list[float]] = {receipt.label: [], bare.label: []}
    for round_number in range(arguments.rounds):
        order = (receipt, bare) if round_number % 2 == 0 else (bare, receipt)
        for measurement in order:
            rates[measurement.label].append(rate_per_s(measurement.render, arguments.count))
    ratios = [r / b for r, b in zip(rates[receipt.label], rates[bare.label], strict=True)]
    ratio = statistics.median(ratios)
    print(f"{'what':<34} {'PDFs/s':>8} {'ms/PDF':>8} {'KB':>6} {'ratio':>6} {'bar':>6}")
    for measurement in (receipt, bare):
        median = statistics.median(rates[measurement.label])
        size_kb = len(measurement.render()) / 1024
        is_receipt = measurement is receipt
        ratio_text = f"{ratio:.2f}" if is_receipt else "1.00"
        bar_text = f">={RATIO_MIN:.2f}" if is_receipt else ""
        print(
            f"{measurement.label:<34} {median:>8.1f} {1000 / median:>8.2f} "
            f"{size_kb:>6.1f} {ratio_text:>6} {bar_text:>6}"
        )
    passed = ratio >= RATIO_MIN
    print(
        f"\n{arguments.rounds} rounds x {arguments.count} PDFs; rate = median of rounds; "
        f"ratio = median of per-round ratios; bar {'met' if passed else 'MISSED'}"
        f" (load average {os.getloadavg()[0]:.1f})"
    )
    return 1 if arguments.check and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())

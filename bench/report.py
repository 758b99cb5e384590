"""The results table: median rates, ratios measured side by side, and the bars.

A ratio is the median over rounds of (this rate / the baseline's rate in the same round):
the machine drifts between rounds, not within the few seconds that separate a pair.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.rounds import MEASUREMENTS, MEASUREMENTS_BY_NAME, Results


@dataclass(frozen=True)
class Comparison:
    baseline: str  # name of the measurement compared against
    ratio_min: float | None  # the bar; None when the ratio is for information only


COMPARISONS = {
    "ledger_one": Comparison("bare_one", 0.60),
    "ledger_batch": Comparison("bare_batch", 0.80),
    "bare_one": Comparison("raw_batch", None),
    "bare_batch": Comparison("raw_batch", None),
}


@dataclass(frozen=True)
class Row:
    label: str
    backend: str
    rate_per_s: float
    unit: str
    spread_pct: float  # (slowest to fastest round) / median
    ratio: float | None
    baseline_label: str
    ratio_min: float | None

    @property
    def passed(self) -> bool | None:
        if self.ratio_min is None or self.ratio is None:
            return None
        return self.ratio >= self.ratio_min


def build_rows(results: Results, backends: Sequence[str], batch_size: int) -> list[Row]:
    rows = []
    for backend in backends:
        for measurement in MEASUREMENTS:
            rates = _rates(results, measurement.name, backend)
            if not rates:
                continue
            comparison = COMPARISONS.get(measurement.name)
            baseline = MEASUREMENTS_BY_NAME[comparison.baseline] if comparison else None
            ratio = (
                _paired_ratio(results, measurement.name, comparison.baseline, backend)
                if comparison
                else None
            )
            median = statistics.median(rates)
            rows.append(
                Row(
                    label=_label(measurement.label, batch_size),
                    backend=backend,
                    rate_per_s=median,
                    unit=measurement.unit,
                    spread_pct=100 * (max(rates) - min(rates)) / median,
                    ratio=ratio,
                    baseline_label=_label(baseline.label, batch_size) if baseline else "",
                    ratio_min=comparison.ratio_min if comparison else None,
                )
            )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    header = ("measurement", "backend", "rate", "unit", "spread", "ratio", "of", "bar", "result")
    lines = [header]
    for row in rows:
        lines.append(
            (
                row.label,
                row.backend,
                f"{row.rate_per_s:,.0f}",
                row.unit,
                f"±{row.spread_pct / 2:.0f}%",
                "" if row.ratio is None else f"{row.ratio:.2f}",
                row.baseline_label,
                "" if row.ratio_min is None else f"≥ {row.ratio_min:.2f}",
                {True: "pass", False: "FAIL", None: ""}[row.passed],
            )
        )
    return render_columns(lines, right_aligned={2, 4, 5})


def render_columns(lines: Sequence[Sequence[str]], right_aligned: set[int]) -> str:
    """Cells padded to their column's width, numbers (`right_aligned` columns) to the right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(
            cell.rjust(width) if i in right_aligned else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


def bars_missed(rows: Sequence[Row]) -> list[Row]:
    return [row for row in rows if row.passed is False]


def _rates(results: Results, name: str, backend: str) -> list[float]:
    return [timing.rate_per_s for timing in results.get((name, backend), [])]


def _paired_ratio(results: Results, name: str, baseline: str, backend: str) -> float | None:
    pairs = zip(_rates(results, name, backend), _rates(results, baseline, backend), strict=False)
    ratios = [rate / baseline_rate for rate, baseline_rate in pairs]
    return statistics.median(ratios) if ratios else None


def _label(label: str, batch_size: int) -> str:
    return label.replace("xN", f"x{batch_size}")

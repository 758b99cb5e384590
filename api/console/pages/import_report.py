"""An import's report as the console shows it (`templates/import_preview.html`): one line per
line of the file that has a problem, each in Japanese where its code is known (else the
importer's own message), and of the other rows the first `PREVIEW_ROWS_SHOWN_MAX`; the totals
are over every row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.console.messages import PROBLEMS_JA
from api.console.web import CONSOLE_PREFIX
from api.imports.csvfile import Problem
from api.imports.run import ImportReport, RowResult, RowStatus

PREVIEW_ROWS_SHOWN_MAX = 500  # rows without a problem shown; a file may hold 100,000

# The importer's problem codes (`api.imports`), in Japanese.
IMPORT_PROBLEMS_JA = {
    "bad-encoding": (
        "文字コードが UTF-8 でも Shift_JIS（CP932）でもありません。文字コードを選んでください。"
    ),
    "truncated": "ファイルが途中で切れています。元のファイルを確認してください。",
    "bad-csv": "CSV の形式が正しくありません。",
    "empty-file": "ファイルに見出し行がありません。",
    "bad-header": "見出し行が正しくありません。",
    "column-count": "列の数が見出し行と合いません。",
    "bad-date": "取引日が正しくありません（2026-04-01 の形で、今日までの日付）。",
    "bad-amount": "金額が正しくありません（1円以上の整数）。",
    "bad-payer": "振込依頼人名が正しくありません。",
    "bad-reference": "参照番号が正しくありません。",
    "bad-donor-id": "寄附者IDが正しくありません。",
    "bad-designation": "使途指定の書き方が正しくありません。",
    "bad-memo": "メモが長すぎるか、正しくありません。",
    "bad-payer-account": "振替口座番号が正しくありません（00120-3-456789 の形）。",
    "unknown-donor": "その寄附者IDの寄附者は登録されていません。",
    "unmatched-payer": (
        "振込依頼人名に合う寄附者がいません。寄附者を登録するか、寄附者IDの列に書いてください。"
    ),
    "ambiguous-payer": "振込依頼人名に合う寄附者が複数います。寄附者IDの列に書いてください。",
    "ambiguous-account": (
        "この振替口座番号の寄附者が複数います。寄附者の口座番号を直すか、寄附者IDの列に書いてください。"
    ),
    "account-name-mismatch": (
        "振替口座番号の寄附者と、振込依頼人名に合う寄附者が違います。寄附者IDの列に書いてください。"
    ),
    "duplicate-row": "前の行と同じ内容です（重複）。別の振込なら、メモで区別してください。",
    "reference-reused": "前の行と同じ参照番号で、内容が違います。",
    "idempotency-key-reused": "この参照番号の振込は、以前に別の内容で取り込まれています。",
}
STATUS_JA = {
    RowStatus.NEW: "新規",
    RowStatus.ALREADY_RECORDED: "取込済み（記録しません）",
    RowStatus.RECORDED: "記録しました",
}


@dataclass(frozen=True)
class ShownProblem:
    text_ja: str
    detail: str  # the importer's message, shown beside a general Japanese one


@dataclass(frozen=True)
class ReportLine:
    line: int
    row: RowResult | None
    status_ja: str
    problems: tuple[ShownProblem, ...]


def problem_ja(problem: Problem) -> str:
    found = IMPORT_PROBLEMS_JA.get(problem.code) or PROBLEMS_JA.get(problem.code)
    return found or problem.message


@dataclass(frozen=True)
class ReportLines:
    shown: list[ReportLine]  # by line
    count: int  # the lines there are to show, shown or not


def report_lines(
    rows: Iterable[RowResult],
    problems: Iterable[Problem],
    *,
    rejected: bool = False,
    rows_shown_max: int = PREVIEW_ROWS_SHOWN_MAX,
) -> ReportLines:
    """By line: the row planned there (if any) and the problems found there; every line with
    a problem, and the first `rows_shown_max` of the others."""
    row_at = {row.planned.row.line: row for row in rows}
    problems_at: dict[int, list[ShownProblem]] = {}
    for problem in problems:
        shown = ShownProblem(problem_ja(problem), problem.message)
        problems_at.setdefault(problem.line, []).append(shown)
    ordinary = sorted(set(row_at) - set(problems_at))
    lines = []
    for line in sorted(set(problems_at).union(ordinary[:rows_shown_max])):
        row = row_at.get(line)
        status = "記録していません" if rejected or row is None else STATUS_JA[row.status]
        lines.append(ReportLine(line, row, status, tuple(problems_at.get(line, ()))))
    return ReportLines(lines, len(problems_at) + len(ordinary))


def report_context(
    report: ImportReport,
    problems: tuple[Problem, ...],
    *,
    confirm_fields: Mapping[str, str] | None = None,
    rejected: bool = False,
) -> dict[str, Any]:
    """What `import_preview.html` shows: the dry run (`confirm_fields` holds the confirm
    form's hidden fields when it may be confirmed), an import refused (`rejected`), or one
    done."""
    plan = report.plan
    lines = report_lines(report.rows, problems, rejected=rejected)
    fund_page = f"{CONSOLE_PREFIX}/funds/{plan.fund_id}"
    if report.position is not None:
        fund_page += f"?position={report.position}"
    return {
        "stage": "rejected" if rejected else ("preview" if report.dry_run else "done"),
        "plan": plan,
        "lines": lines.shown,
        "line_count": lines.count,
        "rows_shown_max": PREVIEW_ROWS_SHOWN_MAX,
        "problem_count": len(problems),
        "totals": {
            "row_count": plan.row_count,
            "total_yen": plan.total_yen,
            "fee_total_yen": sum(row.planned.fee_yen for row in report.rows),
            "new": report.count(RowStatus.NEW),
            "recorded": report.count(RowStatus.RECORDED),
            "already_recorded": report.count(RowStatus.ALREADY_RECORDED),
        },
        "confirm_fields": confirm_fields,
        "fund_page": fund_page,
        "upload_page": f"{CONSOLE_PREFIX}/imports?fund_id={plan.fund_id}",
    }

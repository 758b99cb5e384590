"""An import's report as plain JSON (the API's answer, the CLI's `--json`) and as lines."""

from __future__ import annotations

from typing import Any

from api.imports.csvfile import Problem
from api.imports.run import ImportReport, RowResult, RowStatus
from ledger.money import format_yen

_WOULD = {RowStatus.NEW: "would record", RowStatus.ALREADY_RECORDED: "already recorded"}


def report_json(report: ImportReport) -> dict[str, Any]:
    plan = report.plan
    return {
        "dry_run": report.dry_run,
        "fund_id": str(plan.fund_id),
        "fund_name": plan.fund_name,
        "method": plan.method,
        "encoding": plan.encoding,
        "row_count": plan.row_count,
        "total_yen": plan.total_yen,
        "fee_total_yen": sum(row.planned.fee_yen for row in report.rows),
        "new": report.count(RowStatus.NEW),
        "recorded": report.count(RowStatus.RECORDED),
        "already_recorded": report.count(RowStatus.ALREADY_RECORDED),
        "position": report.position,
        "rows": [row_json(row) for row in report.rows],
        "problems": [problem_json(problem) for problem in report.problems],
    }


def row_json(row: RowResult) -> dict[str, Any]:
    planned, line = row.planned, row.planned.row
    return {
        "line": line.line,
        "status": row.status.value,
        "donation_id": str(row.donation_id),
        "donor_id": str(planned.donor.donor_id),
        "donor_name": planned.donor.name,
        "matched_by": planned.matched_by,
        "payer_name": line.payer_name,
        "payer_account": line.payer_account,
        "effective_on": line.effective_on.isoformat(),
        "amount_yen": line.amount_yen,
        "fee_rate_bp": planned.fee_rate_bp,
        "fee_yen": planned.fee_yen,
        "designation": line.designation,
        "reference": line.reference,
        "idempotency_key": planned.command.idempotency_key,
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    return {"line": problem.line, "code": problem.code, "message": problem.message}


def row_line(row: RowResult, fund_name: str) -> str:
    """`line 2: ¥10,000 (fee ¥350) on 2026-04-01, ﾔﾏﾀﾞ ﾀﾛｳ → 山田 太郎 (…) by name to 亀岡協働基金
    general: would record`; the donor was found by id, account or name."""
    planned, line = row.planned, row.planned.row
    status = _WOULD.get(row.status, row.status.value)
    return (
        f"line {line.line}: {format_yen(line.amount_yen)} (fee {format_yen(planned.fee_yen)})"
        f" on {line.effective_on.isoformat()}, {line.payer_name} → {planned.donor.name}"
        f" ({planned.donor.donor_id}) by {planned.matched_by}"
        f" to {fund_name} {line.designation or 'general'}: {status}"
    )


def problem_line(problem: Problem) -> str:
    return f"line {problem.line}: {problem.code}: {problem.message}"


def summary_line(report: ImportReport) -> str:
    plan = report.plan
    total = f"{plan.row_count} rows, {format_yen(plan.total_yen)} in valid rows"
    if report.dry_run:
        new, already = report.count(RowStatus.NEW), report.count(RowStatus.ALREADY_RECORDED)
        verdict = (
            f"{len(report.problems)} problem(s): the import would record nothing"
            if report.problems
            else f"the import would record {new}, {already} already recorded"
        )
        return f"dry run, nothing recorded: {total} ({plan.encoding}); {verdict}"
    recorded = report.count(RowStatus.RECORDED)
    already = report.count(RowStatus.ALREADY_RECORDED)
    if not report.rows:
        return f"imported {total}: the file has no rows, nothing recorded"
    if recorded == 0:
        return f"imported {total}: nothing new recorded, all {already} were already recorded"
    where = f" at position {report.position}" if report.position is not None else ""
    return f"imported {total}: {recorded} donations recorded{where}, {already} already recorded"

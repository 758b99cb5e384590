"""The journal search as staff use it (電子帳簿保存法): by effective-date range, amount range
and counterparty, a page at a time; a value that cannot be read is said next to its field;
the whole matching journal downloads as the auditor's CSV export writes it."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape
from typing import Any
from uuid import UUID

import pytest

from api.audit.csv_export import COLUMNS, write_csv
from api.audit.entries import Selection, positioned_entries
from api.console.pages import journal
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.console.conftest import AUDITOR
from tests.console.pages import Console

BOM = b"\xef\xbb\xbf"
_ROW = re.compile(r'<tr data-position="(\d+)" data-posting="(\d+)">')


def _donate(console: Console, fund_id: str, donor_id: str, amount_yen: int, day: str) -> int:
    return int(console.api.donate(fund_id, donor_id, amount_yen, day)["position"])


def _journal(console: Console) -> dict[str, Any]:
    """A fund at 3.50%, two donors, three donations (each: amount and fee, debit and credit)."""
    api = console.api
    fund_id = api.open_fund()
    yamada = api.register_donor()
    suzuki = api.register_donor(name="鈴木 花子", kana="スズキ ハナコ")
    return {
        "fund_id": fund_id,
        "april_1": _donate(console, fund_id, yamada, 10_000, "2026-04-01"),  # fee 350
        "april_15": _donate(console, fund_id, suzuki, 3_000, "2026-04-15"),  # fee 105
        "may_1": _donate(console, fund_id, yamada, 50_000, "2026-05-01"),  # fee 1,750
    }


def _shown(page: Any) -> set[tuple[int, int]]:
    """(position, posting index) of every posting the results table shows."""
    return {(int(p), int(i)) for p, i in _ROW.findall(page.text)}


def _api_rows(console: Console, **params: Any) -> set[tuple[int, int]]:
    items = console.api.read("/v1/journal", page_size=1000, **params)["items"]
    return {(item["position"], item["posting_index"]) for item in items}


def _postings(position: int, count: int = 4) -> set[tuple[int, int]]:
    return {(position, index) for index in range(count)}


def test_search_by_date_range_shows_exactly_that_range(admin: Console) -> None:
    made = _journal(admin)
    page = admin.get(
        "/console/journal", position=made["may_1"], **{"from": "2026-04-02", "to": "2026-04-30"}
    )
    assert page.status_code == 200, page.text
    assert _shown(page) == _postings(made["april_15"])
    assert _shown(page) == _api_rows(admin, **{"from": "2026-04-02", "to": "2026-04-30"})
    assert "令和8年4月15日" in page.text
    assert "2026-04-15" in page.text


def test_search_by_amount_range_reads_commas_and_full_width_digits(admin: Console) -> None:
    made = _journal(admin)
    page = admin.get(
        "/console/journal", position=made["may_1"], amount_min="3,000", amount_max="１０，０００"
    )
    assert page.status_code == 200, page.text
    # The donations' own postings (index 0 and 1) in range; the fees and ¥50,000 are not.
    wanted = {(made["april_1"], 0), (made["april_1"], 1)}
    wanted |= {(made["april_15"], 0), (made["april_15"], 1)}
    assert _shown(page) == wanted
    assert _shown(page) == _api_rows(admin, amount_min_yen=3_000, amount_max_yen=10_000)
    assert "¥10,000" in page.text
    assert "¥50,000" not in page.text


def test_search_by_counterparty_is_exact_and_combines_with_dates(admin: Console) -> None:
    made = _journal(admin)
    everyone = admin.get("/console/journal", position=made["may_1"], counterparty="山田 太郎")
    assert _shown(everyone) == _postings(made["april_1"]) | _postings(made["may_1"])
    combined = admin.get("/console/journal", counterparty="山田 太郎", to="2026-04-30")
    assert _shown(combined) == _postings(made["april_1"])
    assert _shown(admin.get("/console/journal", counterparty="山田")) == set()


def test_results_come_a_page_at_a_time_with_a_next_page_link(admin: Console) -> None:
    api = admin.api
    fund_id, donor_id = api.open_fund(), api.register_donor()
    last = 0
    for day in range(1, 27):  # 26 donations, 104 postings: a page of 100 and one of 4
        last = _donate(admin, fund_id, donor_id, 1_000 + day, f"2026-04-{day:02d}")
    first = admin.get("/console/journal", position=last, fund_id=fund_id)
    assert len(_shown(first)) == journal.PAGE_SIZE
    link = re.search(r'<a href="([^"]+)" rel="next">次のページ</a>', first.text)
    assert link is not None
    second = admin.get(unescape(link.group(1)))
    assert len(_shown(second)) == 4
    assert not _shown(first) & _shown(second)
    assert _shown(first) | _shown(second) == _api_rows(admin, fund_id=fund_id)
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "日付を 2026-04-01 の形で入力してください。"),
        ({"to": "4月1日"}, "to", "日付を 2026-04-01 の形で入力してください。"),
        ({"amount_min": "千円"}, "amount_min", "半角数字で、整数を入力してください。"),
        ({"amount_max": "-5"}, "amount_max", "半角数字で、整数を入力してください。"),
        (
            {"from": "2026-05-01", "to": "2026-04-01"},
            "to",
            "「から」と同じか後の日付を入力してください。",
        ),
        ({"fund_id": "kameoka"}, "fund_id", "一覧から選んでください。"),
    ],
)
def test_a_value_that_cannot_be_read_is_shown_next_to_its_field(
    admin: Console, params: dict[str, str], field: str, message: str
) -> None:
    made = _journal(admin)
    page = admin.get("/console/journal", position=made["may_1"], **params)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert f'<p class="field-error" id="error-{field}">{message}</p>' in page.text
    assert f'id="field-{field}"' in page.text
    assert _shown(page) == set()
    download = admin.get("/console/journal.csv", **params)
    assert download.status_code == 422
    assert download.headers["content-type"].startswith("text/html")


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"), newline="")))


def test_csv_download_holds_the_header_and_only_the_matching_postings(admin: Console) -> None:
    made = _journal(admin)
    response = admin.get("/console/journal.csv", position=made["may_1"], amount_min="3000")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="journal-[0-9-]+\.csv"', disposition)
    assert b"\r\n" in response.content
    header, *rows = _csv_rows(response.content)
    assert tuple(header) == COLUMNS
    at = {name: COLUMNS.index(name) for name in ("位置", "行番号", "借方金額", "貸方金額")}
    found = {(int(r[at["位置"]]), int(r[at["行番号"]]) - 1) for r in rows}
    assert found == _api_rows(admin, amount_min_yen=3_000)
    assert sorted(int(r[at["借方金額"]] or r[at["貸方金額"]]) for r in rows) == [
        3_000,
        3_000,
        10_000,
        10_000,
        50_000,
        50_000,
    ]


def test_csv_download_is_byte_for_byte_the_auditors_export(
    admin: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _journal(admin)
    monkeypatch.setattr(journal, "CSV_PAGE_SIZE", 3)  # several pages, even for this journal
    params = {"fund_id": made["fund_id"], "from": "2026-04-10", "to": "2026-05-31"}
    response = admin.get("/console/journal.csv", position=made["may_1"], **params)
    ledger = FundLedger(env=eventsourcing_env(admin.api.database_url))
    try:
        selection = Selection(UUID(made["fund_id"]), date(2026, 4, 10), date(2026, 5, 31))
        exported = io.BytesIO()
        write_csv(positioned_entries(ledger, selection), exported, encoding="utf-8")
    finally:
        ledger.close()
    assert response.status_code == 200
    assert response.content == exported.getvalue()
    assert len(_csv_rows(response.content)) == 1 + 8


def test_an_auditor_can_search_and_download(console: Console) -> None:
    assert console.sign_in(AUDITOR).status_code == 200
    made = _journal(console)
    page = console.get("/console/journal", position=made["may_1"], counterparty="鈴木 花子")
    assert page.status_code == 200
    assert _shown(page) == _postings(made["april_15"])
    download = console.get("/console/journal.csv", counterparty="鈴木 花子")
    assert download.status_code == 200
    assert len(_csv_rows(download.content)) == 1 + 4


def test_the_journal_needs_a_signed_in_user(console: Console) -> None:
    response = console.client.get("/console/journal.csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")

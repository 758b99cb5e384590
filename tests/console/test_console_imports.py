"""An administrator uploads a bank transfer list: the console checks it (the dry run, nothing
recorded), shows each row and keeps the file for its confirm; confirming records every row
once, however often it is sent, and deletes the kept file; a file with a problem cannot be
confirmed; a confirm of an upload that is another user's, unknown, too old or changed since,
an upload past the bound, and an auditor's post are all refused and record nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import sqlalchemy as sa

from api.console.pages.import_report import PREVIEW_ROWS_SHOWN_MAX
from api.console.pages.imports import CONFIRM_BYTES_MAX
from api.console.pending_imports import (
    PENDING_IMPORT_TTL_S,
    PENDING_IMPORTS_PER_USER_MAX,
    find_upload,
    keep_upload,
)
from api.console.staff_tables import console_pending_imports
from api.http.routes.imports import UPLOAD_BYTES_MAX
from api.imports.csvfile import FILE_SIZE_BYTES_MAX
from api.imports.plan import ImportRequest
from projections.database import engine_for
from tests.console.conftest import ADMIN, AUDITOR
from tests.console.pages import Console, Form, head_position

DATA = Path(__file__).parents[1] / "data"
HEADER = "effective_on,amount_yen,payer_name,reference,donor_id,designation,memo\n"
PREVIEW = "/console/imports/preview"
CONFIRM = "/console/imports/confirm"


def _world(console: Console) -> str:
    """The Kameoka fund at 3.50% with `hozugawa`, and the donors of the sample lists."""
    api = console.api
    fund_id = api.open_fund()
    designation = {"designation": "hozugawa", "name": "保津川の清掃"}
    api.created(f"/v1/funds/{fund_id}/designations", designation)
    api.register_donor()
    api.register_donor(name="鈴木 花子", kana="すずき はなこ")
    api.register_donor(
        kind="organisation", name="株式会社 保津川商事", kana="カブシキカイシャ ホヅガワショウジ"
    )
    return fund_id


def _sample() -> bytes:
    return (DATA / "donations_utf8.csv").read_bytes()


def _preview(console: Console, fund_id: str, data: bytes) -> httpx.Response:
    form = console.form("/console/imports", PREVIEW)
    form.files = {"file": ("donations.csv", data, "text/csv")}
    return console.post(form, fund_id=fund_id)


def _donations(console: Console, fund_id: str, position: int | None = None) -> list[Any]:
    waiting = None if position is None else {"position": position}
    return list(console.api.read("/v1/donations", waiting_for=waiting, fund_id=fund_id)["items"])


def _kept_uploads(console: Console, changes: dict[str, Any] | None = None) -> int:
    """How many uploads the server keeps; `changes` first update every one of them."""
    engine = engine_for(console.api.database_url)
    try:
        with engine.begin() as connection:
            if changes:
                connection.execute(console_pending_imports.update().values(changes))
            count = sa.select(sa.func.count()).select_from(console_pending_imports)
            return int(connection.scalar(count) or 0)
    finally:
        engine.dispose()


def _csrf_token(console: Console) -> str:
    return console.form("/console/", "/console/logout").fields["csrf_token"]


def _position(page: httpx.Response) -> int:
    found = re.search(r'href="/console/funds/[0-9a-f-]+\?position=(\d+)"', page.text)
    assert found is not None, page.text
    return int(found.group(1))


def test_preview_shows_every_row_and_records_nothing(admin: Console) -> None:
    fund_id = _world(admin)
    before = head_position(admin.api.database_url)
    page = _preview(admin, fund_id, _sample())
    assert page.status_code == 200, page.text
    assert re.findall(r'<tr data-line="(\d+)"', page.text) == ["2", "3", "4", "5"]
    for shown in (
        "山田 太郎",
        "鈴木 花子",
        "株式会社 保津川商事",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "¥50,000",
        "hozugawa",
    ):
        assert shown in page.text
    assert "令和8年4月1日" in page.text
    assert '<td data-figure="total">¥64,000</td>' in page.text
    assert f'action="{CONFIRM}"' in page.text
    assert head_position(admin.api.database_url) == before
    assert _donations(admin, fund_id) == []


def test_confirm_records_every_row_as_the_signed_in_administrator(
    admin_on_both: Console,
) -> None:
    admin = admin_on_both
    fund_id = _world(admin)
    done = admin.post(admin.form(_preview(admin, fund_id, _sample()), CONFIRM))
    assert done.status_code == 200, done.text
    assert "4 件を記録しました" in done.text
    donations = _donations(admin, fund_id, _position(done))
    assert sorted(d["amount_yen"] for d in donations) == [1_000, 3_000, 10_000, 50_000]
    journal = admin.api.read("/v1/journal", fund_id=fund_id)["items"]
    assert {item["actor"] for item in journal} == {ADMIN}
    assert _kept_uploads(admin) == 0


def test_confirm_form_carries_the_upload_id_not_the_file(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    assert set(confirm.fields) == {"csrf_token", "upload_id", "fund_id", "method", "encoding"}
    assert len(confirm.fields["upload_id"]) == 43
    assert _kept_uploads(admin) == 1


def test_confirming_twice_records_the_rows_once(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    first = admin.post(confirm)
    assert "4 件を記録しました" in first.text
    position = head_position(admin.api.database_url)
    again = admin.post(confirm)
    assert again.status_code == 422
    assert "確認したファイルはもうサーバーにありません" in again.text
    assert "何も記録していません" in again.text
    assert head_position(admin.api.database_url) == position
    assert len(_donations(admin, fund_id, _position(first))) == 4
    previewed_again = _preview(admin, fund_id, _sample())
    assert f'action="{CONFIRM}"' not in previewed_again.text
    assert "すべて取込済み" in previewed_again.text


def test_two_previews_of_one_file_both_confirmed_record_it_once(admin: Console) -> None:
    fund_id = _world(admin)
    first = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    second = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    done = admin.post(first)
    position = head_position(admin.api.database_url)
    again = admin.post(second)
    assert again.status_code == 200
    assert "0 件を記録しました" in again.text
    assert "4 件は以前に取り込まれていた" in again.text
    assert head_position(admin.api.database_url) == position
    assert len(_donations(admin, fund_id, _position(done))) == 4


def test_the_kept_file_is_deleted_once_imported(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    assert _kept_uploads(admin) == 1
    assert admin.post(confirm).status_code == 200
    assert _kept_uploads(admin) == 0


def test_a_file_with_nothing_to_confirm_is_not_kept(admin: Console) -> None:
    fund_id = _world(admin)
    admin.post(admin.form(_preview(admin, fund_id, _sample()), CONFIRM))
    _preview(admin, fund_id, _sample())  # all recorded already
    _preview(admin, fund_id, (HEADER + "2026-04-01,1.5,ﾔﾏﾀﾞ ﾀﾛｳ,,,,\n").encode())
    assert _kept_uploads(admin) == 0


def test_a_file_with_a_bad_row_shows_its_problem_and_cannot_be_confirmed(admin: Console) -> None:
    fund_id = _world(admin)
    rows = [
        "2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,",
        "2026-04-01,1.5,ﾔﾏﾀﾞ ﾀﾛｳ,,,,",
        "2026-04-02,500,ﾀﾅｶ ｼﾞﾛｳ,,,,",
    ]
    before = head_position(admin.api.database_url)
    page = _preview(admin, fund_id, (HEADER + "\n".join(rows) + "\n").encode())
    assert page.status_code == 200
    assert "問題が 2 件あるため" in page.text
    assert re.search(r'data-line="3"[^>]*>.*?金額が正しくありません', page.text, re.S)
    assert re.search(r'data-line="4"[^>]*>.*?振込依頼人名に合う寄附者がいません', page.text, re.S)
    assert f'action="{CONFIRM}"' not in page.text
    assert head_position(admin.api.database_url) == before


def test_a_file_that_went_wrong_since_its_preview_is_refused_with_its_problems(
    admin: Console,
) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    admin.api.register_donor(address="京都府亀岡市安町2-2")  # a namesake: ﾔﾏﾀﾞ ﾀﾛｳ is ambiguous
    before = head_position(admin.api.database_url)
    refused = admin.post(confirm)
    assert refused.status_code == 422
    assert "何も記録していません" in refused.text
    for line in ("2", "5"):
        shown = re.search(rf'data-line="{line}"[^>]*>.*?</tr>', refused.text, re.S)
        assert shown is not None
        assert "振込依頼人名に合う寄附者が複数います" in shown.group(0)
    assert f'action="{CONFIRM}"' not in refused.text
    assert head_position(admin.api.database_url) == before


def _refused(console: Console, fund_id: str, form: Form) -> None:
    before = head_position(console.api.database_url)
    refused = console.post(form)
    assert refused.status_code == 422
    assert "確認したファイルはもうサーバーにありません" in refused.text
    assert "何も記録していません" in refused.text
    assert head_position(console.api.database_url) == before
    assert _donations(console, fund_id) == []


def test_a_confirm_whose_kept_file_was_changed_is_refused_and_records_nothing(
    admin: Console,
) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    _kept_uploads(admin, {"data": _sample().replace(b"50000", b"90000")})
    _refused(admin, fund_id, confirm)


def test_a_confirm_of_an_upload_past_its_age_is_refused_and_deletes_it(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    engine = engine_for(admin.api.database_url)
    try:
        with engine.connect() as connection:
            created = connection.scalar(sa.select(console_pending_imports.c.created_at_utc))
    finally:
        engine.dispose()
    assert created is not None
    older = created - timedelta(seconds=PENDING_IMPORT_TTL_S + 1)
    _kept_uploads(admin, {"created_at_utc": older})
    _refused(admin, fund_id, confirm)
    assert _kept_uploads(admin) == 0


@pytest.mark.parametrize(
    "changed",
    [
        {"upload_id": "x" * 43},
        {"upload_id": ""},
        {"upload_id": "x" * 10_000},
        {"method": "postal_transfer"},
        {"encoding": "cp932"},
    ],
    ids=["unknown", "missing", "too-long", "other-method", "other-encoding"],
)
def test_a_confirm_of_an_unknown_upload_or_other_settings_is_refused(
    admin: Console, changed: dict[str, str]
) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    confirm.fields.update(changed)
    _refused(admin, fund_id, confirm)
    assert _kept_uploads(admin) == 1


def test_a_confirm_of_another_fund_than_previewed_is_refused(admin: Console) -> None:
    fund_id = _world(admin)
    other_fund_id = admin.api.open_fund(name="別の基金")
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    confirm.fields["fund_id"] = other_fund_id
    _refused(admin, other_fund_id, confirm)
    assert _donations(admin, fund_id) == []


def test_another_administrators_upload_is_refused_and_records_nothing(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    admin.add_user("kanri2", "admin")
    admin.sign_out()
    assert admin.sign_in("kanri2").status_code == 200
    confirm.fields["csrf_token"] = _csrf_token(admin)
    _refused(admin, fund_id, confirm)
    assert _kept_uploads(admin) == 1  # still the first administrator's to confirm
    admin.sign_out()
    assert admin.sign_in(ADMIN).status_code == 200
    confirm.fields["csrf_token"] = _csrf_token(admin)
    assert "4 件を記録しました" in admin.post(confirm).text


def test_a_refused_import_keeps_the_file_for_the_same_confirm(admin: Console) -> None:
    fund_id = _world(admin)
    rows = "2026-04-01,1000,ﾀﾅｶ ｼﾞﾛｳ,BK-1,,,\n"
    preview = _preview(admin, fund_id, (HEADER + rows).encode())
    assert f'action="{CONFIRM}"' not in preview.text  # nobody matches ﾀﾅｶ ｼﾞﾛｳ yet
    admin.api.register_donor(name="田中 次郎", kana="タナカ ジロウ")
    confirm = admin.form(_preview(admin, fund_id, (HEADER + rows).encode()), CONFIRM)
    admin.api.register_donor(name="田中 次郎", kana="タナカ ジロウ", address="亀岡市2")
    assert admin.post(confirm).status_code == 422  # ambiguous now: nothing recorded
    assert _kept_uploads(admin) == 1
    assert _donations(admin, fund_id) == []


def test_old_uploads_and_a_users_uploads_past_the_few_newest_are_deleted(
    admin: Console,
) -> None:
    wanted = ImportRequest(fund_id=uuid4())
    start = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    engine = engine_for(admin.api.database_url)
    try:
        old = keep_upload(engine, AUDITOR, b"old", wanted, now=start)
        later = start + timedelta(seconds=PENDING_IMPORT_TTL_S)
        ids = [
            keep_upload(engine, ADMIN, b"a", wanted, now=later + timedelta(seconds=n))
            for n in range(PENDING_IMPORTS_PER_USER_MAX + 1)
        ]
        assert find_upload(engine, old, AUDITOR, now=start) is None  # deleted on the way
        found = [find_upload(engine, upload_id, ADMIN, now=later) for upload_id in ids]
        assert [pending is not None for pending in found] == [False] + [True] * (len(ids) - 1)
        assert found[-1] is not None
        assert found[-1].data == b"a"
        assert found[-1].wanted == wanted
    finally:
        engine.dispose()
    assert _kept_uploads(admin) == PENDING_IMPORTS_PER_USER_MAX


def _auditor_post(console: Console, action: str, **fields: str) -> httpx.Response:
    form = Form(action, "post", {**fields, "csrf_token": _csrf_token(console)})
    if action == PREVIEW:
        form.files = {"file": ("donations.csv", _sample(), "text/csv")}
    return console.post(form)


def test_an_auditor_can_neither_preview_nor_confirm(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    admin.sign_out()
    assert admin.sign_in(AUDITOR).status_code == 200
    before = head_position(admin.api.database_url)
    assert admin.get("/console/imports").status_code == 403
    settings = {"fund_id": fund_id, "method": "bank_transfer", "encoding": "auto"}
    assert _auditor_post(admin, PREVIEW, **settings).status_code == 403
    refused = _auditor_post(admin, CONFIRM, **confirm.fields)
    assert refused.status_code == 403
    assert "監査担当のアカウントでは" in refused.text
    assert head_position(admin.api.database_url) == before
    assert _kept_uploads(admin) == 1


def test_a_file_past_the_size_bound_is_refused(admin: Console) -> None:
    fund_id = _world(admin)
    page = _preview(admin, fund_id, b"x" * (FILE_SIZE_BYTES_MAX + 1))
    assert page.status_code == 413
    assert 'id="error-file"' in page.text
    assert "ファイルが大きすぎます" in page.text


def test_a_declared_body_past_the_bound_is_refused_before_it_is_read(admin: Console) -> None:
    csrf = admin.form("/console/imports", PREVIEW).fields["csrf_token"]
    headers = {
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(UPLOAD_BYTES_MAX + 1),
    }
    body = f'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n--x--\r\n'
    response = admin.client.post(PREVIEW, content=body.encode(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "ファイルが大きすぎます" in response.text


def _streamed_past(bytes_max: int, first: bytes, part: bytes) -> Iterator[bytes]:
    yield first
    for _ in range(bytes_max // len(part) + 2):
        yield part


@pytest.mark.parametrize("action", [PREVIEW, CONFIRM])
def test_a_streamed_body_past_the_bound_is_cut_off(admin: Console, action: str) -> None:
    csrf = admin.form("/console/imports", PREVIEW).fields["csrf_token"]
    if action == PREVIEW:
        headers = {"Content-Type": "multipart/form-data; boundary=x"}
        first = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        chunks = _streamed_past(UPLOAD_BYTES_MAX, first, b"y" * 65_536)
    else:  # fields each under the form parser's bound for one field
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        first = f"csrf_token={csrf}".encode()
        chunks = _streamed_past(CONFIRM_BYTES_MAX, first, b"&f=" + b"A" * 4_096)
    response = admin.client.post(action, content=chunks, headers=headers)
    assert response.status_code == 413
    assert "ファイルが大きすぎます" in response.text


def test_a_confirm_past_its_small_bound_is_refused(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    before = head_position(admin.api.database_url)
    refused = admin.post(confirm, padding="A" * CONFIRM_BYTES_MAX)
    assert refused.status_code == 413
    assert head_position(admin.api.database_url) == before
    assert _kept_uploads(admin) == 1


def test_a_preview_whose_form_cannot_be_read_is_refused(admin: Console) -> None:
    headers = {"Content-Type": "multipart/form-data"}  # no boundary
    refused = admin.client.post(PREVIEW, content=b"--x--\r\n", headers=headers)
    assert refused.status_code == 400
    assert "フォームを読み取れませんでした" in refused.text


def test_a_file_of_more_than_a_form_fields_bound_is_kept_whole(admin: Console) -> None:
    fund_id = _world(admin)
    padded = HEADER + "2026-04-01,2000,ﾔﾏﾀﾞ ﾀﾛｳ,BK-LARGE-1,,,\n" + "\n" * 1_200_000  # blank lines
    confirm = admin.form(_preview(admin, fund_id, padded.encode()), CONFIRM)
    done = admin.post(confirm)
    assert "1 件を記録しました" in done.text
    assert [d["amount_yen"] for d in _donations(admin, fund_id, _position(done))] == [2_000]


def _many_rows(count: int) -> str:
    return "".join(f"2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,BK-MANY-{n},,,\n" for n in range(1, count + 1))


def test_a_long_list_shows_its_first_rows_and_the_totals_of_all(admin: Console) -> None:
    fund_id = _world(admin)
    count = PREVIEW_ROWS_SHOWN_MAX + 100
    page = _preview(admin, fund_id, (HEADER + _many_rows(count)).encode())
    assert page.status_code == 200
    shown = re.findall(r'<tr data-line="(\d+)"', page.text)
    assert shown == [str(line) for line in range(2, PREVIEW_ROWS_SHOWN_MAX + 2)]
    assert f"先頭 {PREVIEW_ROWS_SHOWN_MAX} 行を表示しています（全 {count} 行）" in page.text
    assert f'<td data-figure="row-count">{count}</td>' in page.text
    assert f'<td data-figure="total">¥{count * 1_000:,}</td>' in page.text
    assert f"<td>¥{count * 35:,}</td>" in page.text  # the fees: 3.50% of each ¥1,000
    assert f'<td data-figure="new">{count}</td>' in page.text
    done = admin.post(admin.form(page, CONFIRM))
    assert f"{count} 件を記録しました" in done.text
    assert len(re.findall(r'<tr data-line="', done.text)) == PREVIEW_ROWS_SHOWN_MAX
    assert f"（全 {count} 行）" in done.text


def test_a_long_list_shows_every_problem_past_the_rows_shown(admin: Console) -> None:
    fund_id = _world(admin)
    count = PREVIEW_ROWS_SHOWN_MAX + 100
    bad = "2026-04-01,1.5,ﾔﾏﾀﾞ ﾀﾛｳ,BK-BAD,,,\n"
    page = _preview(admin, fund_id, (HEADER + _many_rows(count) + bad).encode())
    shown = re.findall(r'<tr data-line="(\d+)"', page.text)
    assert len(shown) == PREVIEW_ROWS_SHOWN_MAX + 1
    assert shown[-1] == str(count + 2)
    assert "問題のある行はすべて、ほかの行は先頭" in page.text
    assert f'action="{CONFIRM}"' not in page.text

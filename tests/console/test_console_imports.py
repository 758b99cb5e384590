"""An administrator uploads a bank transfer list: the console checks it (the dry run, nothing
recorded) and shows each row; confirming records every row once, however often it is sent;
a file with a problem cannot be confirmed; a confirm whose file was changed on the way, an
upload past the bound, and an auditor's post are all refused and record nothing."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from api.console.pages.imports import (
    CONFIRM_BYTES_MAX,
    FILE_PART_CHARS,
    carried_fields,
    carried_file,
)
from api.http.routes.imports import UPLOAD_BYTES_MAX
from api.imports.csvfile import FILE_SIZE_BYTES_MAX
from api.imports.plan import ImportRequest
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


def test_confirm_records_every_row_as_the_signed_in_administrator(admin: Console) -> None:
    fund_id = _world(admin)
    done = admin.post(admin.form(_preview(admin, fund_id, _sample()), CONFIRM))
    assert done.status_code == 200, done.text
    assert "4 件を記録しました" in done.text
    donations = _donations(admin, fund_id, _position(done))
    assert sorted(d["amount_yen"] for d in donations) == [1_000, 3_000, 10_000, 50_000]
    journal = admin.api.read("/v1/journal", fund_id=fund_id)["items"]
    assert {item["actor"] for item in journal} == {ADMIN}


def test_confirming_twice_records_the_rows_once(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    first = admin.post(confirm)
    position = head_position(admin.api.database_url)
    again = admin.post(confirm)
    assert again.status_code == 200
    assert "0 件を記録しました" in again.text
    assert "4 件は以前に取り込まれていた" in again.text
    assert head_position(admin.api.database_url) == position
    assert len(_donations(admin, fund_id, _position(first))) == 4
    previewed_again = _preview(admin, fund_id, _sample())
    assert f'action="{CONFIRM}"' not in previewed_again.text
    assert "すべて取込済み" in previewed_again.text


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


@pytest.mark.parametrize("changed", ["file", "sha256"])
def test_a_confirm_whose_file_was_changed_is_refused_and_records_nothing(
    admin: Console, changed: str
) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    other = _sample().replace(b"50000", b"90000")
    if changed == "file":
        confirm.fields["file_base64_1"] = base64.urlsafe_b64encode(other).decode()
    else:
        confirm.fields["sha256"] = hashlib.sha256(other).hexdigest()
    before = head_position(admin.api.database_url)
    refused = admin.post(confirm)
    assert refused.status_code == 422
    assert "内容が確認時と一致しません" in refused.text
    assert head_position(admin.api.database_url) == before
    assert _donations(admin, fund_id) == []


def _auditor_post(console: Console, action: str, **fields: str) -> httpx.Response:
    csrf = console.form("/console/", "/console/logout").fields["csrf_token"]
    form = Form(action, "post", {**fields, "csrf_token": csrf})
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
        chunks = _streamed_past(CONFIRM_BYTES_MAX, first, b"&f=" + b"A" * 500_000)
    response = admin.client.post(action, content=chunks, headers=headers)
    assert response.status_code == 413
    assert "ファイルが大きすぎます" in response.text


def test_a_confirm_with_a_field_past_the_parsers_bound_is_refused(admin: Console) -> None:
    fund_id = _world(admin)
    confirm = admin.form(_preview(admin, fund_id, _sample()), CONFIRM)
    before = head_position(admin.api.database_url)
    refused = admin.post(confirm, file_base64_1="A" * (1024 * 1024 + 4))
    assert refused.status_code == 400
    assert "フォームを読み取れませんでした" in refused.text
    assert head_position(admin.api.database_url) == before


def test_a_file_of_several_form_fields_is_carried_whole(admin: Console) -> None:
    fund_id = _world(admin)
    padded = HEADER + "2026-04-01,2000,ﾔﾏﾀﾞ ﾀﾛｳ,BK-LARGE-1,,,\n" + "\n" * 1_200_000  # blank lines
    confirm = admin.form(_preview(admin, fund_id, padded.encode()), CONFIRM)
    assert int(confirm.fields["file_parts"]) == 2
    done = admin.post(confirm)
    assert "1 件を記録しました" in done.text
    assert [d["amount_yen"] for d in _donations(admin, fund_id, _position(done))] == [2_000]


def test_carried_fields_give_back_the_same_bytes_and_nothing_else() -> None:
    data = bytes(range(256)) * 12_000  # 3 MB: 4 MB in base64, five parts
    fields = carried_fields(data, ImportRequest(fund_id=uuid4()))
    parts = [fields[f"file_base64_{n}"] for n in range(1, int(fields["file_parts"]) + 1)]
    assert len(parts) == 5
    assert all(len(part) <= FILE_PART_CHARS for part in parts)
    assert carried_file(fields) == data
    assert carried_file({**fields, "file_parts": "3"}) is None  # a part left out
    assert carried_file({**fields, "file_base64_1": "!" + fields["file_base64_1"][1:]}) is None
    assert carried_file({**fields, "sha256": "ｆ" * 64}) is None

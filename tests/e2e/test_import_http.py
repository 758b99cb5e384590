"""`POST /v1/imports/donations` through HTTP: multipart upload, the dry run, an import and its
replay, a 422 problem listing each bad line, 413 past the size bound (declared or streamed),
and admin only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.http.routes.imports import UPLOAD_BYTES_MAX
from api.imports.csvfile import FILE_SIZE_BYTES_MAX
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.e2e.http import Api
from tests.unit.test_import_plan import DATA, World, csv_bytes, seed_world

PATH = "/v1/imports/donations"
PROBLEM = "urn:fund-ledger:problem:"


@pytest.fixture
def world(api: Api) -> World:
    ledger = FundLedger(env=eventsourcing_env(api.database_url))
    try:
        return seed_world(ledger)
    finally:
        ledger.close()


def upload(
    api: Api, world: World, data: bytes, *, as_: Any = None, **params: Any
) -> httpx.Response:
    headers = api.admin if as_ is None else as_
    return api.client.post(
        PATH,
        params={"fund_id": str(world.fund_id), **params},
        files={"file": ("donations.csv", data, "text/csv")},
        headers=headers,
    )


def test_a_dry_run_reports_each_row_and_records_nothing(api: Api, world: World) -> None:
    before = api.read("/v1/events", page_size=500)["items"]

    response = upload(api, world, (DATA / "donations_cp932.csv").read_bytes(), dry_run="true")

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert report["encoding"] == "cp932"
    assert [
        (r["line"], r["donor_name"], r["amount_yen"], r["fee_yen"]) for r in report["rows"]
    ] == [
        (2, "山田 太郎", 10_000, 350),
        (3, "鈴木 花子", 3_000, 105),
        (4, "株式会社 保津川商事", 50_000, 1_750),
        (5, "山田 太郎", 1_000, 35),
    ]
    assert api.read("/v1/events", page_size=500)["items"] == before


def test_an_import_records_and_its_replay_records_nothing_new(api: Api, world: World) -> None:
    data = (DATA / "donations_utf8.csv").read_bytes()

    first = upload(api, world, data)
    again = upload(api, world, data)

    assert first.status_code == 201, first.text
    assert first.json()["recorded"] == 4
    position = int(first.headers["Ledger-Position"])
    assert again.status_code == 200
    assert (again.json()["recorded"], again.json()["already_recorded"]) == (0, 4)
    donations = api.read(
        "/v1/donations", waiting_for={"position": position}, fund_id=str(world.fund_id)
    )["items"]
    assert sorted(d["amount_yen"] for d in donations) == [1_000, 3_000, 10_000, 50_000]


def test_a_file_with_bad_rows_is_a_422_problem_listing_each_line(api: Api, world: World) -> None:
    data = csv_bytes("2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "2026-04-01,1.5,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "x,1,ﾔﾏﾀﾞ ﾀﾛｳ,,,,")

    response = upload(api, world, data)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM + "import-rejected"
    assert [(p["line"], p["code"]) for p in problem["problems"]] == [
        (3, "bad-amount"),
        (4, "bad-date"),
    ]


def test_a_file_past_the_size_bound_is_a_413_problem(api: Api, world: World) -> None:
    response = upload(api, world, b"x" * (FILE_SIZE_BYTES_MAX + 1))

    assert response.status_code == 413
    assert response.json()["type"] == PROBLEM + "import-too-large"


def test_a_declared_body_past_the_bound_is_refused_before_it_is_read(
    api: Api, world: World
) -> None:
    headers = {**api.admin, "Content-Type": "multipart/form-data; boundary=x"}
    headers["Content-Length"] = str(UPLOAD_BYTES_MAX + 1)

    response = api.client.post(
        PATH, params={"fund_id": str(world.fund_id)}, content=b"--x--\r\n", headers=headers
    )

    assert response.status_code == 413
    assert response.json()["type"] == PROBLEM + "import-too-large"


def test_a_streamed_body_past_the_bound_is_cut_off_with_a_413(api: Api, world: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(UPLOAD_BYTES_MAX // 65_536 + 2):
            yield b"y" * 65_536

    headers = {**api.admin, "Content-Type": "multipart/form-data; boundary=x"}
    response = api.client.post(
        PATH, params={"fund_id": str(world.fund_id)}, content=chunks(), headers=headers
    )

    assert response.status_code == 413
    assert response.json()["type"] == PROBLEM + "import-too-large"


def test_an_auditor_may_not_import(api: Api, world: World) -> None:
    response = upload(api, world, (DATA / "donations_utf8.csv").read_bytes(), as_=api.auditor)

    assert response.status_code == 403


def test_an_unknown_fund_is_a_404_problem(api: Api, world: World) -> None:
    response = api.client.post(
        PATH,
        params={"fund_id": str(world.donor_ids["山田 太郎"])},
        files={"file": ("a.csv", (DATA / "donations_utf8.csv").read_bytes(), "text/csv")},
        headers=api.admin,
    )

    assert response.status_code == 404
    assert response.json()["type"] == PROBLEM + "not-found"

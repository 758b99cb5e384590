"""A donor's postal transfer account (振替口座) through the HTTP API and the CLI: registered,
shown, corrected and cleared; a malformed one is an RFC 9457 problem, or one CLI error line;
and the postal sample file imported end to end, matched by account."""

from __future__ import annotations

import json

from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.e2e.http import Api
from tests.e2e.test_cli import cli
from tests.unit.test_import_plan import donations_of
from tests.unit.test_import_postal_account import (
    POSTAL_SAMPLE,
    POSTAL_SAMPLE_DONATIONS,
    seed_postal_world,
)


def test_a_donor_registered_with_a_postal_account_shows_it_canonical(api: Api) -> None:
    donor_id = api.register_donor(postal_account="００１２０－３－４５６７８")

    donor = api.read(f"/v1/donors/{donor_id}")

    assert donor["postal_account"] == "00120-3-045678"


def test_a_donor_registered_without_a_postal_account_shows_null(api: Api) -> None:
    donor = api.read(f"/v1/donors/{api.register_donor()}")

    assert donor["postal_account"] is None


def test_a_postal_account_is_corrected_and_cleared_and_left_alone_when_not_given(
    api: Api,
) -> None:
    donor_id = api.register_donor()
    path = f"/v1/donors/{donor_id}/corrections"

    api.created(path, {"postal_account": "00120-3-456789", "reason": "届出"})
    given = api.read(f"/v1/donors/{donor_id}")
    api.created(path, {"address": "京都府亀岡市安町1", "reason": "転居"})
    kept = api.read(f"/v1/donors/{donor_id}")
    api.created(path, {"postal_account": None, "reason": "解約"})
    cleared = api.read(f"/v1/donors/{donor_id}")

    assert (given["postal_account"], kept["postal_account"]) == ("00120-3-456789", "00120-3-456789")
    assert cleared["postal_account"] is None


def test_a_malformed_postal_account_is_a_problem_naming_the_field(api: Api) -> None:
    body = {
        "kind": "individual",
        "name": "山田 太郎",
        "kana": "ヤマダ タロウ",
        "postal_code": "621-0806",
        "address": "京都府亀岡市",
        "postal_account": "12345-6-7",
    }

    response = api.post("/v1/donors", body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "postal_account" in response.text


def test_the_cli_registers_shows_and_corrects_a_postal_account(sqlite_url: str) -> None:
    registered = cli(
        sqlite_url,
        *("donor", "register", "--kind", "individual", "--name", "山田 太郎"),
        *("--kana", "ヤマダ タロウ", "--postal-code", "621-0806", "--address", "亀岡市"),
        *("--idempotency-key", "donor-1", "--postal-account", "00120 3 456789", "--json"),
    )
    donor_id = json.loads(registered.stdout)["id"]
    shown = cli(sqlite_url, "donor", "show", donor_id)
    cleared = cli(
        sqlite_url, "donor", "correct", donor_id, "--reason", "解約", "--postal-account", ""
    )
    after = cli(sqlite_url, "donor", "show", donor_id, "--json")

    assert registered.exit_code == 0, registered.output
    assert "postal account 00120-3-456789" in shown.stdout
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(after.stdout)["postal_account"] is None


def test_the_cli_refuses_a_malformed_postal_account_in_one_line(sqlite_url: str) -> None:
    result = cli(
        sqlite_url,
        *("donor", "register", "--kind", "individual", "--name", "山田 太郎"),
        *("--kana", "ヤマダ タロウ", "--postal-code", "621-0806", "--address", "亀岡市"),
        *("--idempotency-key", "donor-1", "--postal-account", "振替"),
    )

    assert result.exit_code != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("error:")
    assert "postal_account" in line


def test_the_postal_sample_imports_through_the_cli_matched_by_account(database_url: str) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    world = seed_postal_world(ledger)
    args = ("import", "donations", str(POSTAL_SAMPLE), "--fund", str(world.fund_id))
    method = ("--method", "postal_transfer")

    dry = cli(database_url, *args, *method, "--dry-run")
    imported = cli(database_url, *args, *method)

    assert dry.exit_code == 0, dry.output
    assert [line.split(" by ")[1].split()[0] for line in dry.stdout.splitlines()[:4]] == [
        "account",
        "account",
        "account",
        "name",
    ]
    assert imported.exit_code == 0, imported.output
    assert "4 donations recorded" in imported.stdout
    assert donations_of(ledger, world) == POSTAL_SAMPLE_DONATIONS
    ledger.close()

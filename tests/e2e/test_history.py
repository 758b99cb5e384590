"""`fund-ledger history`: the events behind a figure or a record, with when each was recorded,
its effective date, who recorded it and why; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from api.cli import app
from ledger.claim import claim_id
from tests.e2e.test_export_tools import PERIOD_ENDS, audited_ledger

runner = CliRunner()


def as_(actor: str, url: str, *args: str) -> Result:
    return runner.invoke(app, ["--database-url", url, "--actor", actor, *args])


def created(actor: str, url: str, *args: str) -> str:
    result = as_(actor, url, *args, "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def life_of_a_donation_and_a_grant(url: str) -> dict[str, str]:
    assert as_("setup", url, "init").exit_code == 0
    fund = created("事務局 田中", url, "fund", "open", "--name", "亀岡協働基金", "--host",
                   "京都地域創造基金", "--fee-rate-bp", "350")  # fmt: skip
    donor = created("事務局 田中", url, "donor", "register", "--kind", "individual", "--name",
                    "山田 太郎", "--kana", "ヤマダ タロウ", "--postal-code", "621-0806",
                    "--address", "亀岡市")  # fmt: skip
    assert as_("事務局 鈴木", url, "donor", "correct", donor, "--address", "亀岡市 2-2",
               "--reason", "転居").exit_code == 0  # fmt: skip
    donation = created("事務局 田中", url, "donation", "record", "--fund", fund, "--donor", donor,
                       "--amount", "100000", "--method", "bank_transfer", "--date", "2026-04-01",
                       "--idempotency-key", "bank-0001")  # fmt: skip
    assert as_("事務局 鈴木", url, "donation", "refund", donation, "--amount", "3000", "--reason",
               "寄附者の申し出", "--date", "2026-04-10").exit_code == 0  # fmt: skip
    grant = created("理事 佐藤", url, "grant", "award", "--fund", fund,
                    "--grantee", "NPO法人 保津川", "--representative", "代表",
                    "--purpose", "河川清掃", "--amount", "50000",
                    "--date", "2026-05-01")  # fmt: skip
    for args in (["disburse", grant, "--amount", "20000", "--date", "2026-05-10"],
                 ["reduce", grant, "--amount", "5000", "--reason", "事業縮小",
                  "--date", "2026-06-01"],
                 ["return", grant, "--amount", "1000", "--reason", "未使用",
                  "--date", "2026-07-01"],
                 ["cancel", grant, "--reason", "事業中止", "--date", "2026-08-01"]):  # fmt: skip
        assert as_("理事 佐藤", url, "grant", *args).exit_code == 0
    return {"fund": fund, "donor": donor, "donation": donation, "grant": grant}


def history(url: str, *args: str) -> list[dict[str, Any]]:
    result = as_("監事", url, "history", *args, "--json")
    assert result.exit_code == 0, result.output
    events: list[dict[str, Any]] = json.loads(result.stdout)["events"]
    return events


def test_a_donations_history_says_who_recorded_each_event_when_and_why(database_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(database_url)
    result = as_("監事", database_url, "history", "--donation", ids["donation"])
    assert result.exit_code == 0, result.output
    recorded, refunded = result.stdout.splitlines()
    assert "effective 2026-04-01, Donation.Recorded" in recorded
    assert "by 事務局 田中" in recorded
    assert "effective 2026-04-10, Donation.Refunded" in refunded
    assert "refund amount ¥3,000 fee returned ¥105" in refunded
    assert refunded.endswith("by 事務局 鈴木; why: 寄附者の申し出")
    events = history(database_url, "--donation", ids["donation"])
    assert [e["type"] for e in events] == ["Donation.Recorded", "Donation.Refunded"]
    assert events[0]["position"] < events[1]["position"]
    assert events[0]["recorded_at"].endswith("+09:00")
    assert events[1]["amounts_yen"] == {"amount_yen": 3000, "fee_returned_yen": 105}


def test_a_donations_history_includes_its_receipts_issued_and_voided(database_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(database_url)
    issued = as_("事務局 田中", database_url, "receipts", "issue", "--donation", ids["donation"],
                 "--json")  # fmt: skip
    assert issued.exit_code == 0, issued.output
    number = json.loads(issued.stdout)["number"]
    voided = as_("事務局 田中", database_url, "receipts", "void", number, "--reason", "宛名の誤り")
    assert voided.exit_code == 0, voided.output
    events = history(database_url, "--donation", ids["donation"])
    assert [e["type"] for e in events] == ["Donation.Recorded", "Donation.Refunded",
                                           "Receipt.Issued", "Receipt.Voided"]  # fmt: skip
    assert events[3]["reason"] == "宛名の誤り"
    assert events[3]["actor"] == "事務局 田中"
    donor_events = [e["type"] for e in history(database_url, "--donor", ids["donor"])]
    assert donor_events[-2:] == ["Receipt.Issued", "Receipt.Voided"]


def test_a_grants_history_holds_every_change_in_log_order(database_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(database_url)
    events = history(database_url, "--grant", ids["grant"])
    assert [e["type"] for e in events] == ["Grant.Awarded", "Grant.Disbursed", "Grant.Reduced",
                                           "Grant.Returned", "Grant.Cancelled"]  # fmt: skip
    assert [e["reason"] for e in events][2:] == ["事業縮小", "未使用", "事業中止"]
    assert {e["actor"] for e in events} == {"理事 佐藤"}
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]


def test_a_donors_history_includes_its_corrections_and_its_donations(database_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(database_url)
    events = history(database_url, "--donor", ids["donor"])
    assert [e["type"] for e in events] == ["Donor.Registered", "Donor.DetailsCorrected",
                                           "Donation.Recorded", "Donation.Refunded"]  # fmt: skip
    assert events[1]["reason"] == "転居"
    assert "亀岡市 2-2" in events[1]["summary"]


def test_a_funds_history_ends_at_its_balances_as_of_that_date(database_url: str) -> None:
    with audited_ledger(database_url, steps=60) as (_ledger, _engine, history_):
        fund_id = str(next(iter(history_.funds)))
        for end in PERIOD_ENDS:
            events = history(database_url, "--fund", fund_id, "--as-of", end.isoformat())
            last = {e["pot"]: e["pot_after_yen"] for e in events if e["pot"] is not None}
            result = as_("監事", database_url, "balances", "--fund", fund_id, "--as-of",
                         end.isoformat(), "--json")  # fmt: skip
            assert result.exit_code == 0, result.output
            (fund,) = json.loads(result.stdout)["funds"]
            expected = {
                pot["pot"]: {"cash_yen": pot["cash_yen"], "committed_yen": pot["committed_yen"]}
                for pot in fund["pots"]
            }
            assert last == expected, end
            assert all(e["effective_on"] is None or e["effective_on"] <= end.isoformat()
                       for e in events if e["type"] != "Fund.FeeRateChanged")  # fmt: skip
            assert [e["position"] for e in events] == sorted(e["position"] for e in events)


def test_the_readable_fund_history_ends_with_the_figures_as_of_the_date(sqlite_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(sqlite_url)
    result = as_("監事", sqlite_url, "history", "--fund", ids["fund"], "--as-of", "2026-05-05")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("#1 recorded")
    assert "Fund.Opened" in lines[0]
    assert lines[-1] == (
        "as of 2026-05-05: pot general: cash ¥93,605, committed ¥50,000, available ¥43,605"
    )
    assert not any("Grant.Disbursed" in line for line in lines)


def test_unknown_ids_and_wrong_selectors_are_refused_in_one_line(sqlite_url: str) -> None:
    ids = life_of_a_donation_and_a_grant(sqlite_url)
    missing = str(claim_id("never"))
    cases = {
        "give exactly one of": ["history"],
        "exactly one of --fund": ["history", "--donation", ids["donation"],
                                  "--grant", ids["grant"]],
        f"no donation with id {ids['grant']}": ["history", "--donation", ids["grant"]],
        f"no grant with id {missing}": ["history", "--grant", missing],
        "--as-of: is required with --fund": ["history", "--fund", ids["fund"]],
        "--as-of: applies to --fund only": ["history", "--donor", ids["donor"], "--as-of",
                                            "2026-05-01"],
        f"no fund with id {ids['donor']}": ["history", "--fund", ids["donor"], "--as-of",
                                            "2026-05-01"],
        "--donation: must be an id": ["history", "--donation", "bank-0001"],
        "--as-of: must be a date": ["history", "--fund", ids["fund"], "--as-of", "2026-13-01"],
    }  # fmt: skip
    for expected, args in cases.items():
        result = as_("監事", sqlite_url, *args)
        assert result.exit_code == 1, expected
        assert expected in result.stderr, (expected, result.stderr)
        assert result.stderr.count("\n") == 1

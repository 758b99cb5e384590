"""Funds (fee schedule, designations) and donors (registration, corrections as events)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from ledger import commands as c
from ledger.donor import Donor
from ledger.errors import DuplicateDesignation, InvalidInput, NotFound
from ledger.fund import Fund
from tests.unit.conftest import MAIN_FUND_NAME, Ledger

HOST = "公益財団法人 京都地域創造基金"


def donor_command(**changes: Any) -> c.RegisterDonor:
    fields: dict[str, Any] = {
        "kind": "individual",
        "name": "山田 花子",
        "kana": "ヤマダ ハナコ",
        "postal_code": "621-0806",
        "address": "京都府亀岡市安町野々神8",
        "email": "hanako@example.jp",
        "publish_name": False,
    }
    fields.update(changes)
    return c.RegisterDonor(**fields)


# Funds


def test_fund_opens_with_its_fee_rate_and_empty_pots(ledger: Ledger) -> None:
    before = ledger.position()
    outcome = ledger.run(c.OpenFund(MAIN_FUND_NAME, HOST, 350, target_yen=500_000))

    [opened] = ledger.events_since(before)
    assert isinstance(opened, Fund.Opened)
    assert (opened.name, opened.fee_rate_bp, opened.target_yen) == (MAIN_FUND_NAME, 350, 500_000)
    assert outcome.aggregate_id == opened.originator_id
    fund = ledger.state(outcome.aggregate_id)
    assert (fund.cash_yen, fund.committed_yen) == ({"general": 0}, {"general": 0})


@pytest.mark.parametrize(
    "command",
    [
        c.OpenFund("", HOST, 350),
        c.OpenFund("  ", HOST, 350),
        c.OpenFund(MAIN_FUND_NAME, "", 350),
        c.OpenFund(MAIN_FUND_NAME, HOST, -1),
        c.OpenFund(MAIN_FUND_NAME, HOST, 5001),
        c.OpenFund(MAIN_FUND_NAME, HOST, True),
        c.OpenFund(MAIN_FUND_NAME, HOST, 3.5),
        c.OpenFund(MAIN_FUND_NAME, HOST, 350, target_yen=0),
        c.OpenFund("x" * 201, HOST, 350),
    ],
    ids=[
        "empty-name",
        "blank-name",
        "empty-host",
        "rate-1",
        "rate-5001",
        "rate-bool",
        "rate-float",
        "target-0",
        "long-name",
    ],
)
def test_fund_with_invalid_settings_is_rejected(ledger: Ledger, command: c.OpenFund) -> None:
    ledger.refused(command, InvalidInput)


def test_many_funds_keep_separate_balances(ledger: Ledger) -> None:
    kameoka = ledger.open_fund(350)
    hozugawa = ledger.open_fund(1000)
    ledger.donate(kameoka, 10_000)
    ledger.donate(hozugawa, 10_000)
    assert (ledger.cash(kameoka), ledger.cash(hozugawa)) == (9_650, 9_000)


def test_designation_is_added_as_an_event_with_an_empty_pot(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    before = ledger.position()
    ledger.run(c.AddDesignation(fund_id, "hozu-river", "保津川の清掃"))
    [added] = ledger.events_since(before)
    assert isinstance(added, Fund.DesignationAdded)
    assert added.designation == "hozu-river"
    assert ledger.cash(fund_id, "hozu-river") == 0


def test_designation_added_twice_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350, "kids")
    ledger.refused(c.AddDesignation(fund_id, "kids", "子ども"), DuplicateDesignation)


@pytest.mark.parametrize(
    "code", ["general", "Kids", "", "-kids", "子ども", "kids project", "a" * 41, None, 1]
)
def test_designation_with_an_invalid_code_is_rejected(ledger: Ledger, code: object) -> None:
    fund_id = ledger.open_fund()
    ledger.refused(c.AddDesignation(fund_id, code, "名前"), InvalidInput)


@pytest.mark.parametrize("code", ["a", "0", "kids-2026", "a" * 40])
def test_designation_with_a_valid_code_is_accepted(ledger: Ledger, code: str) -> None:
    fund_id = ledger.open_fund()
    ledger.run(c.AddDesignation(fund_id, code, "名前"))
    assert code in ledger.state(fund_id).designations


def test_designation_of_an_unknown_fund_is_rejected(ledger: Ledger) -> None:
    donor_id = ledger.register_donor()
    ledger.refused(c.AddDesignation(donor_id, "kids", "子ども"), NotFound)


def test_fee_rate_change_is_an_event_and_leaves_the_opening_rate_in_history(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    before = ledger.position()
    ledger.run(c.ChangeFeeRate(fund_id, 400, date(2027, 4, 1), "2027年度から4%"))
    [changed] = ledger.events_since(before)
    assert isinstance(changed, Fund.FeeRateChanged)
    assert (changed.fee_rate_bp, changed.effective_from) == (400, date(2027, 4, 1))
    fund = ledger.state(fund_id)
    assert (fund.fee_rate_bp_on(date(2027, 3, 31)), fund.fee_rate_bp_on(date(2027, 4, 1))) == (
        350,
        400,
    )


@pytest.mark.parametrize(
    ("rate", "effective_from", "reason"),
    [
        (5001, date(2026, 4, 1), "理由"),
        (-1, date(2026, 4, 1), "理由"),
        (True, date(2026, 4, 1), "理由"),
        (400, date(1999, 12, 31), "理由"),
        (400, "2026-04-01", "理由"),
        (400, date(2026, 4, 1), ""),
    ],
    ids=["rate-5001", "rate-negative", "rate-bool", "before-2000", "text-date", "no-reason"],
)
def test_fee_rate_change_with_invalid_input_is_rejected(
    ledger: Ledger, rate: object, effective_from: object, reason: str
) -> None:
    fund_id = ledger.open_fund(350)
    ledger.refused(c.ChangeFeeRate(fund_id, rate, effective_from, reason), InvalidInput)


@pytest.mark.parametrize(
    "moment",
    [datetime(2026, 4, 1, 0, 0), datetime(2026, 4, 1, 0, 0, tzinfo=UTC)],
    ids=["naive", "aware"],
)
def test_fee_rate_change_dated_with_a_date_and_time_is_rejected(
    ledger: Ledger, moment: datetime
) -> None:
    # like every other effective date, a rate change takes a plain date; a datetime must be
    # refused as input, not crash the comparison with 2000-01-01 (TypeError)
    fund_id = ledger.open_fund(350)
    ledger.refused(c.ChangeFeeRate(fund_id, 400, moment, "改定"), InvalidInput)


def test_fund_rebuilt_from_its_snapshot_has_the_same_balances_and_fee_schedule(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350, "kids")
    ledger.run(c.ChangeFeeRate(fund_id, 500, date(2026, 1, 1), "値上げ"))
    donor_id = ledger.register_donor()
    for n in range(205):  # the fund is snapshotted every 200 events
        designation = "kids" if n % 2 else None
        ledger.donate(fund_id, 1_000 + n, designation=designation, donor_id=donor_id)

    live = ledger.state(fund_id)
    assert ledger.app.snapshots is not None
    assert list(ledger.app.snapshots.get(fund_id))
    rebuilt = ledger.app.repository.get(fund_id, version=live.version)  # bypasses the cache

    assert rebuilt.version == live.version > 200
    assert (rebuilt.cash_yen, rebuilt.committed_yen) == (live.cash_yen, live.committed_yen)
    assert rebuilt.fee_rate_bp_on(date(2025, 12, 31)) == 350
    assert rebuilt.fee_rate_bp_on(date(2026, 1, 1)) == 500
    assert rebuilt.designations == {"kids": "kids project"}


# Donors


def test_donor_registration_records_the_normalised_details(ledger: Ledger) -> None:
    before = ledger.position()
    outcome = ledger.run(
        donor_command(
            name=" 山田 花子 ", postal_code="６２１－０８０６", email=" hanako@example.jp "
        )
    )
    [registered] = ledger.events_since(before)
    assert isinstance(registered, Donor.Registered)
    assert registered.originator_id == outcome.aggregate_id
    assert (registered.name, registered.postal_code, registered.email) == (
        "山田 花子",
        "621-0806",
        "hanako@example.jp",
    )


@pytest.mark.parametrize(
    ("given_code", "normalised"),
    [
        ("621-0806", "621-0806"),
        ("6210806", "621-0806"),
        ("６２１－０８０６", "621-0806"),
        ("６２１０８０６", "621-0806"),
        (" 621-0806 ", "621-0806"),
    ],
)
def test_postal_code_is_normalised_to_ascii_digits_with_a_hyphen(
    ledger: Ledger, given_code: str, normalised: str
) -> None:
    donor_id = ledger.run(donor_command(postal_code=given_code)).aggregate_id
    assert ledger.state(donor_id).postal_code == normalised


@pytest.mark.parametrize("given_code", ["〒621-0806", "〒６２１－０８０６", "〒 621-0806"])
def test_postal_code_written_with_the_postal_mark_is_accepted(
    ledger: Ledger, given_code: str
) -> None:
    donor_id = ledger.run(donor_command(postal_code=given_code)).aggregate_id
    assert ledger.state(donor_id).postal_code == "621-0806"


@pytest.mark.parametrize(
    "given_code",
    ["", "621-080", "62-10806", "621--0806", "abc-defg", "621 0806", None, 6210806],
    ids=repr,
)
def test_postal_code_that_is_not_seven_japanese_digits_is_rejected(
    ledger: Ledger, given_code: object
) -> None:
    error = ledger.refused(donor_command(postal_code=given_code), InvalidInput)
    assert error.field == "postal_code"


@pytest.mark.parametrize(
    "given_code",
    ["٦٢١-٠٨٠٦", "६२१०८०६", "６２１-٠٨٠٦"],
    ids=["arabic-indic", "devanagari", "mixed"],
)
def test_postal_code_in_digits_of_another_script_is_rejected(
    ledger: Ledger, given_code: str
) -> None:
    # `\d` matches any Unicode digit; such a code would be stored as it is, not as 621-0806
    error = ledger.refused(donor_command(postal_code=given_code), InvalidInput)
    assert error.field == "postal_code"


@pytest.mark.parametrize(
    "address", ["a@b", "a b@example.jp", "@example.jp", "hanako@", "a@@example.jp", 1]
)
def test_donor_with_an_invalid_email_is_rejected(ledger: Ledger, address: object) -> None:
    error = ledger.refused(donor_command(email=address), InvalidInput)
    assert error.field == "email"


@pytest.mark.parametrize("address", [None, ""])
def test_donor_without_an_email_is_accepted(ledger: Ledger, address: str | None) -> None:
    donor_id = ledger.run(donor_command(email=address)).aggregate_id
    assert ledger.state(donor_id).email is None


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "  "},
        {"name": "\u3000"},
        {"name": "山田\x00花子"},
        {"name": None},
        {"kana": ""},
        {"address": ""},
        {"kind": "company"},
        {"publish_name": "yes"},
    ],
    ids=repr,
)
def test_donor_with_missing_or_invalid_details_is_rejected(
    ledger: Ledger, changes: dict[str, Any]
) -> None:
    ledger.refused(donor_command(**changes), InvalidInput)


def test_donor_organisation_is_accepted(ledger: Ledger) -> None:
    donor_id = ledger.run(donor_command(kind="organisation", name="亀岡商工会議所")).aggregate_id
    assert ledger.state(donor_id).kind == "organisation"


def test_donor_correction_is_an_event_with_only_what_changed(ledger: Ledger) -> None:
    donor_id = ledger.register_donor("山田 花子")
    before = ledger.position()

    ledger.run(
        c.CorrectDonor(donor_id, {"name": "山田 花子", "postal_code": "６２１０８２６"}, "転居")
    )

    [corrected] = ledger.events_since(before)
    assert isinstance(corrected, Donor.DetailsCorrected)
    assert corrected.changes == {"postal_code": "621-0826"}
    assert (corrected.reason, corrected.actor) == ("転居", "staff:tanaka")
    assert ledger.state(donor_id).postal_code == "621-0826"


def test_donor_correction_keeps_the_original_details_in_history(ledger: Ledger) -> None:
    donor_id = ledger.register_donor("山田 花子")
    ledger.run(c.CorrectDonor(donor_id, {"name": "山田 華子"}, "誤字"))
    registered = [e for e in ledger.events_since(0) if isinstance(e, Donor.Registered)]
    assert [e.name for e in registered] == ["山田 花子"]
    assert ledger.state(donor_id).name == "山田 華子"


def test_every_donor_correction_is_a_separate_event(ledger: Ledger) -> None:
    donor_id = ledger.register_donor()
    before = ledger.position()
    ledger.run(c.CorrectDonor(donor_id, {"email": "new@example.jp"}, "変更"))
    ledger.run(c.CorrectDonor(donor_id, {"email": None}, "削除"))
    ledger.run(c.CorrectDonor(donor_id, {"publish_name": True}, "公表希望"))
    corrections = [e.changes for e in ledger.events_since(before)]
    assert corrections == [{"email": "new@example.jp"}, {"email": None}, {"publish_name": True}]


@pytest.mark.parametrize(
    "changes",
    [{"name": "山田 花子"}, {"name": " 山田 花子 "}, {"postal_code": "６２１－０８０６"}],
    ids=repr,
)
def test_donor_correction_that_changes_nothing_records_nothing(
    ledger: Ledger, changes: dict[str, Any]
) -> None:
    donor_id = ledger.register_donor("山田 花子")
    before = ledger.position()
    outcome = ledger.run(c.CorrectDonor(donor_id, changes, "確認"))
    assert ledger.events_since(before) == []
    assert outcome.position is None


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"kind": "organisation"},
        {"amount_yen": 1},
        {"name": ""},
        {"postal_code": "621"},
        {"email": "x@y"},
    ],
    ids=repr,
)
def test_donor_correction_with_invalid_changes_is_rejected(
    ledger: Ledger, changes: dict[str, Any]
) -> None:
    donor_id = ledger.register_donor()
    ledger.refused(c.CorrectDonor(donor_id, changes, "訂正"), InvalidInput)


def test_donor_correction_without_a_reason_is_rejected(ledger: Ledger) -> None:
    donor_id = ledger.register_donor()
    ledger.refused(c.CorrectDonor(donor_id, {"name": "別名"}, ""), InvalidInput)


def test_correction_of_an_unknown_donor_is_rejected(ledger: Ledger) -> None:
    fund_id: UUID = ledger.open_fund()
    ledger.refused(c.CorrectDonor(fund_id, {"name": "別名"}, "訂正"), NotFound)


def test_donation_after_a_name_correction_names_the_corrected_donor(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    donor_id = ledger.register_donor("山田 花子")
    ledger.run(c.CorrectDonor(donor_id, {"name": "山田 華子"}, "誤字"))
    donation_id = ledger.donate(fund_id, 1_000, donor_id=donor_id)
    assert ledger.state(donation_id).counterparty == "山田 華子"

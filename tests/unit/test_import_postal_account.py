"""名寄せ by postal transfer account (振替口座): a row's `payer_account` finds the one donor
with that account; two donors with it, or an account and a name that point at different
donors, are listed and nothing is recorded; an account no donor has falls back to the name.

`seed_postal_world` and `POSTAL_SAMPLE_DONATIONS` are shared with the e2e import tests."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from api.imports.ledger_reads import registered_donors
from api.imports.matching import DonorDirectory, DonorEntry
from api.imports.plan import ImportRequest
from api.imports.run import RowStatus, dry_run, import_donations
from ledger import commands as c
from ledger.errors import ImportRejected
from ledger.service import FundLedger
from tests.unit.conftest import new_ledger
from tests.unit.test_import_plan import ACTOR, DATA, World, donations_of, log_head, seed_world

POSTAL_SAMPLE = DATA / "postal_transfers_cp932.csv"
HEADER = "effective_on,amount_yen,payer_name,reference,payer_account\n"
YAMADA_ACCOUNT = "00120-3-456789"
SATO_ACCOUNT = "00100-8-1234"  # the first 佐藤 一郎's (his namesake has none), unpadded
# The rows of the postal sample, as `donations_of` lists them.
POSTAL_SAMPLE_DONATIONS = [
    (date(2026, 4, 3), 5_000, "山田 太郎", None, "PT20260403-0001"),  # account and name
    (date(2026, 4, 10), 20_000, "佐藤 一郎", None, "PT20260410-0002"),  # account, not namesake
    (date(2026, 4, 20), 3_000, "山田 太郎", None, "PT20260420-0003"),  # account; name unknown
    (date(2026, 5, 1), 1_000, "鈴木 花子", None, "PT20260501-0004"),  # no account: name
]


def seed_postal_world(ledger: FundLedger) -> World:
    """`seed_world`, with postal accounts given to 山田 太郎 and to the first 佐藤 一郎, whom
    `donor_ids` names (`seed_world`'s names the last of the namesakes)."""
    world = seed_world(ledger)
    first_sato = next(d for d in registered_donors(ledger) if d.name == "佐藤 一郎").donor_id
    for donor_id, account in (
        (world.donor_ids["山田 太郎"], YAMADA_ACCOUNT),
        (first_sato, SATO_ACCOUNT),
    ):
        ledger.execute(c.CorrectDonor(donor_id, {"postal_account": account}, "届出"), actor=ACTOR)
    return World(world.fund_id, {**world.donor_ids, "佐藤 一郎": first_sato})


@pytest.fixture
def ledger() -> FundLedger:
    return new_ledger()


@pytest.fixture
def world(ledger: FundLedger) -> World:
    return seed_postal_world(ledger)


def postal_csv(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def postal_request(world: World) -> ImportRequest:
    return world.request(method="postal_transfer")


def test_the_postal_sample_imports_as_exactly_its_rows(ledger: FundLedger, world: World) -> None:
    report = import_donations(
        ledger, POSTAL_SAMPLE.read_bytes(), postal_request(world), actor=ACTOR
    )

    assert report.plan.encoding == "cp932"
    assert report.count(RowStatus.RECORDED) == 4
    assert donations_of(ledger, world) == POSTAL_SAMPLE_DONATIONS


def test_the_dry_run_says_how_each_row_was_matched(ledger: FundLedger, world: World) -> None:
    report = dry_run(ledger, POSTAL_SAMPLE.read_bytes(), postal_request(world))

    assert [(r.planned.row.line, r.planned.matched_by) for r in report.rows] == [
        (2, "account"),
        (3, "account"),
        (4, "account"),
        (5, "name"),
    ]


def test_a_row_with_a_donor_id_is_matched_by_id_whatever_its_account(
    ledger: FundLedger, world: World
) -> None:
    suzuki = world.donor_ids["鈴木 花子"]
    data = (
        "effective_on,amount_yen,payer_name,reference,payer_account,donor_id\n"
        f"2026-04-03,5000,ﾔﾏﾀﾞ ﾀﾛｳ,,{YAMADA_ACCOUNT},{suzuki}\n"
    ).encode()

    [row] = dry_run(ledger, data, postal_request(world)).rows

    assert (row.planned.donor.donor_id, row.planned.matched_by) == (suzuki, "id")


def test_two_donors_sharing_an_account_are_listed_and_nothing_is_recorded(
    ledger: FundLedger, world: World
) -> None:
    suzuki = world.donor_ids["鈴木 花子"]
    ledger.execute(c.CorrectDonor(suzuki, {"postal_account": YAMADA_ACCOUNT}, "届出"), actor=ACTOR)
    head = log_head(ledger)
    data = postal_csv(f"2026-04-03,5000,ﾔﾏﾀﾞ ﾀﾛｳ,,{YAMADA_ACCOUNT}")

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, postal_request(world), actor=ACTOR)

    [(line, code, message)] = rejected.value.problems
    assert (line, code) == (2, "ambiguous-account")
    assert str(suzuki) in message
    assert str(world.donor_ids["山田 太郎"]) in message
    assert log_head(ledger) == head


def test_an_account_and_a_name_pointing_at_different_donors_are_listed(
    ledger: FundLedger, world: World
) -> None:
    head = log_head(ledger)
    data = postal_csv(f"2026-04-03,5000,ｽｽﾞｷ ﾊﾅｺ,,{YAMADA_ACCOUNT}")

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, postal_request(world), actor=ACTOR)

    [(line, code, message)] = rejected.value.problems
    assert (line, code) == (2, "account-name-mismatch")
    assert "山田 太郎" in message
    assert "鈴木 花子" in message
    assert log_head(ledger) == head


def test_an_account_no_donor_has_falls_back_to_the_name(ledger: FundLedger, world: World) -> None:
    data = postal_csv("2026-04-03,5000,ｽｽﾞｷ ﾊﾅｺ,,09999-9-999999")

    [row] = dry_run(ledger, data, postal_request(world)).rows

    assert (row.planned.donor.name, row.planned.matched_by) == ("鈴木 花子", "name")


def test_an_account_no_donor_has_and_a_name_of_namesakes_is_never_guessed(
    ledger: FundLedger, world: World
) -> None:
    data = postal_csv("2026-04-03,5000,ｻﾄｳ ｲﾁﾛｳ,,09999-9-999999")

    report = dry_run(ledger, data, postal_request(world))

    assert [(p.line, p.code) for p in report.problems] == [(2, "ambiguous-payer")]


@pytest.mark.parametrize("account", ["12345", "00120-3-", "00120-3-1234567", "振替"])
def test_a_malformed_payer_account_is_a_bad_row(
    ledger: FundLedger, world: World, account: str
) -> None:
    data = postal_csv(f"2026-04-03,5000,ﾔﾏﾀﾞ ﾀﾛｳ,,{account}")

    report = dry_run(ledger, data, postal_request(world))

    assert [(p.line, p.code) for p in report.problems] == [(2, "bad-payer-account")]


def test_the_account_matched_is_the_donors_latest(ledger: FundLedger, world: World) -> None:
    yamada = world.donor_ids["山田 太郎"]
    ledger.execute(c.CorrectDonor(yamada, {"postal_account": "00130-1-1"}, "変更"), actor=ACTOR)
    suzuki = world.donor_ids["鈴木 花子"]
    ledger.execute(c.CorrectDonor(suzuki, {"postal_account": None}, "確認"), actor=ACTOR)

    accounts = {d.name: d.postal_account for d in registered_donors(ledger)}
    data = postal_csv(
        "2026-04-03,5000,ﾔﾏﾀﾞ ﾀﾛｳ,,00130-1-000001", f"2026-04-04,5000,ﾔﾏﾀﾞ,,{YAMADA_ACCOUNT}"
    )
    report = dry_run(ledger, data, postal_request(world))

    assert (accounts["山田 太郎"], accounts["鈴木 花子"]) == ("00130-1-000001", None)
    assert [r.planned.matched_by for r in report.rows] == ["account"]
    assert [(p.line, p.code) for p in report.problems] == [(3, "unmatched-payer")]


def test_a_directory_compares_canonical_accounts() -> None:
    yamada = DonorEntry(uuid4(), "山田 太郎", "ヤマダ タロウ", YAMADA_ACCOUNT)
    directory = DonorDirectory([yamada, DonorEntry(uuid4(), "鈴木 花子", "スズキ ハナコ")])

    assert directory.match("ﾔﾏﾀﾞ", None, YAMADA_ACCOUNT).donor == yamada
    assert directory.match("ﾔﾏﾀﾞ", None, "00120-3-45678").donor is None  # not canonical

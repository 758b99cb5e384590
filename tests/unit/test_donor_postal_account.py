"""A donor's postal transfer account (ゆうちょ振替口座): how it is written, stored and corrected,
and how it enters a registration's request fingerprint."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ledger import commands as c
from ledger import values
from ledger.donor import Donor
from ledger.errors import IdempotencyKeyReused, InvalidInput
from tests.unit.conftest import Ledger
from tests.unit.test_funds_and_donors import donor_command


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("00120-3-456789", "00120-3-456789"),
        ("００１２０－３－４５６７８９", "00120-3-456789"),  # full-width digits and hyphens
        ("001203456789", "00120-3-456789"),
        ("00120 3 456789", "00120-3-456789"),
        ("００１２０　３　４５６７８９", "00120-3-456789"),  # full-width spaces
        (" 00120-3-456789 ", "00120-3-456789"),
        ("00120-3-45678", "00120-3-045678"),  # the 口座番号 is padded to six digits
        ("01010-8-1", "01010-8-000001"),
    ],
)
def test_a_postal_account_is_stored_in_one_canonical_form(written: str, canonical: str) -> None:
    assert values.postal_account(written) == canonical


@pytest.mark.parametrize(
    "written",
    [
        "",
        "10120-3-456789",  # the 口座記号 starts with 0
        "0012-3-456789",  # four digits
        "00120-34-56789",
        "00120-3-4567890",  # seven digits
        "00120-3-0",  # no account is number 0
        "00120--3-456789",
        "00120ー3ー456789",  # the long vowel mark is not a hyphen
        "٠٠١٢٠-٣-٤٥٦٧٨٩",  # digits of another script
        "00120-3-45678a",
        None,
        1203456789,
    ],
    ids=repr,
)
def test_a_postal_account_written_otherwise_is_refused(written: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        values.postal_account(written)
    assert refused.value.field == "postal_account"
    assert "00120-3-456789" in refused.value.message


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_no_postal_account_is_none(blank: str | None) -> None:
    assert values.optional_postal_account(blank) is None


def test_a_donor_registered_with_a_postal_account_carries_it_canonical(ledger: Ledger) -> None:
    before = ledger.position()

    outcome = ledger.run(donor_command(postal_account="００１２０－３－４５６７８"))

    [registered] = ledger.events_since(before)
    assert isinstance(registered, Donor.Registered)
    assert registered.postal_account == "00120-3-045678"
    assert ledger.state(outcome.aggregate_id).postal_account == "00120-3-045678"


def test_a_donor_registered_without_a_postal_account_has_none(ledger: Ledger) -> None:
    donor_id = ledger.run(donor_command()).aggregate_id

    assert ledger.state(donor_id).postal_account is None


def test_a_donor_with_a_bad_postal_account_is_refused(ledger: Ledger) -> None:
    error = ledger.refused(donor_command(postal_account="0012-3-4"), InvalidInput)

    assert error.field == "postal_account"


@pytest.mark.parametrize(
    ("changes", "recorded"),
    [
        ({"postal_account": "00120-3-1"}, [{"postal_account": "00120-3-000001"}]),
        ({"postal_account": "00120-3-000009"}, []),  # the account it has, written otherwise
        ({"postal_account": None}, [{"postal_account": None}]),
        ({"postal_account": ""}, [{"postal_account": None}]),
    ],
    ids=repr,
)
def test_a_postal_account_is_corrected_set_or_cleared(
    ledger: Ledger, changes: dict[str, Any], recorded: list[dict[str, Any]]
) -> None:
    donor_id = ledger.run(donor_command(postal_account="00120-3-9")).aggregate_id
    before = ledger.position()

    ledger.run(c.CorrectDonor(donor_id, changes, "届出"))

    assert [e.changes for e in ledger.events_since(before)] == recorded


def test_a_correction_to_a_bad_postal_account_is_refused(ledger: Ledger) -> None:
    donor_id = ledger.run(donor_command()).aggregate_id

    ledger.refused(c.CorrectDonor(donor_id, {"postal_account": "振替"}, "届出"), InvalidInput)


def test_a_registration_without_a_postal_account_keeps_its_old_fingerprint() -> None:
    # Keys stored before the field existed hold fingerprints without it: a retry must match.
    command = donor_command()

    assert c.request_fingerprint(command) == _fingerprint_before_postal_accounts(command)
    with_account = donor_command(postal_account="00120-3-456789")
    assert c.request_fingerprint(with_account) != c.request_fingerprint(command)


def test_a_key_first_used_without_an_account_is_refused_with_one(ledger: Ledger) -> None:
    key = ledger.key()
    first = ledger.run(donor_command(idempotency_key=key))

    again = ledger.run(donor_command(idempotency_key=key))
    ledger.refused(
        donor_command(idempotency_key=key, postal_account="00120-3-1"), IdempotencyKeyReused
    )

    assert (again.aggregate_id, again.replayed) == (first.aggregate_id, True)


def _fingerprint_before_postal_accounts(command: c.RegisterDonor) -> str:
    """As `request_fingerprint` documents it, over the fields RegisterDonor had then."""
    fields = ("kind", "name", "kana", "postal_code", "address", "email", "publish_name")
    content = {name: getattr(command, name) for name in fields}
    canonical = json.dumps(
        ["register_donor", content], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()

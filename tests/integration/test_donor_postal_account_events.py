"""Donors registered before they had a postal transfer account (振替口座): their stored
`Donor.Registered` events (class version 1, no `postal_account` in the state) still decode,
rebuild the donor without an account, and a retry of the request that registered them still
answers as a replay of its first use."""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger import commands as c
from ledger.claim import claim_id
from ledger.donor import Donor
from ledger.service import FundLedger
from ledger.store.config import eventsourcing_env
from ledger.store.verify import verify_chain
from tests.unit.conftest import events_after

ACTOR = "staff:tanaka"
KEY = "donor-registered-in-2025"
V1_REQUEST = {  # what RegisterDonor asked before it had a postal_account
    "kind": "individual",
    "name": "山田 太郎",
    "kana": "ヤマダ タロウ",
    "postal_code": "621-0806",
    "address": "京都府亀岡市",
    "email": None,
    "publish_name": False,
}


def v1_fingerprint() -> str:
    """The fingerprint as `request_fingerprint` documents it, computed by hand."""
    canonical = json.dumps(
        ["register_donor", V1_REQUEST], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def store_v1_registration(ledger: FundLedger) -> UUID:
    """Append a `Donor.Registered` event as the ledger stored it before postal accounts."""
    donor = Donor(
        id=claim_id(KEY),
        actor=ACTOR,
        request_fingerprint=v1_fingerprint(),
        postal_account=None,
        **V1_REQUEST,
    )
    [registered] = donor.collect_events()
    stored = ledger.mapper.to_stored_event(registered)
    state = ledger.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["postal_account"]
    old_state = ledger.mapper.transcoder.encode(state)
    ledger.recorder.insert_events(
        [StoredEvent(stored.originator_id, stored.originator_version, stored.topic, old_state)]
    )
    return donor.id


def test_a_donor_registered_before_postal_accounts_rebuilds_without_one(database_url: str) -> None:
    donor_id = store_v1_registration(FundLedger(env=eventsourcing_env(database_url)))

    reopened = FundLedger(env=eventsourcing_env(database_url))
    donor = reopened.get(donor_id)

    assert isinstance(donor, Donor)
    assert (donor.name, donor.kana, donor.postal_account) == ("山田 太郎", "ヤマダ タロウ", None)
    [event] = events_after(reopened, 0)
    assert isinstance(event, Donor.Registered)
    assert event.postal_account is None
    assert verify_chain(reopened.recorder).fault is None


def test_a_retry_of_a_registration_sent_before_postal_accounts_is_a_replay(
    database_url: str,
) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    donor_id = store_v1_registration(ledger)

    retried = ledger.execute(c.RegisterDonor(**V1_REQUEST, idempotency_key=KEY), actor=ACTOR)

    assert (retried.aggregate_id, retried.replayed) == (donor_id, True)
    assert len(events_after(ledger, 0)) == 1


def test_an_old_donor_can_be_given_a_postal_account_and_have_it_cleared(database_url: str) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    donor_id = store_v1_registration(ledger)

    ledger.execute(
        c.CorrectDonor(donor_id, {"postal_account": "00120-3-45678"}, "届出"), actor=ACTOR
    )
    given = FundLedger(env=eventsourcing_env(database_url)).get(donor_id)  # fresh, not cached
    ledger.execute(c.CorrectDonor(donor_id, {"postal_account": None}, "解約"), actor=ACTOR)
    cleared = FundLedger(env=eventsourcing_env(database_url)).get(donor_id)

    assert given.postal_account == "00120-3-045678"
    assert cleared.postal_account is None

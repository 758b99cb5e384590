"""A batch may read an aggregate and later change it: the donor a donation reads, then a
correction of that donor. On the real recorders the donor's read version must not refuse the
batch's own new event of the donor (it did: the batch gave up after 16 attempts)."""

from __future__ import annotations

from datetime import date

from ledger import commands as c
from ledger.donor import Donor
from ledger.service import FundLedger
from ledger.store import eventsourcing_env


def test_a_batch_that_reads_a_donor_then_corrects_it_records_both(database_url: str) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    try:
        fund = ledger.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", 350), actor="t")
        donor_id = ledger.execute(
            c.RegisterDonor("individual", "山田 太郎", "ヤマダ タロウ", "621-0806", "亀岡市"),
            actor="t",
        ).aggregate_id
        before = ledger.recorder.max_notification_id() or 0

        donation, correction = ledger.execute_batch(
            [
                c.RecordDonation(
                    "gift-1", fund.aggregate_id, donor_id, 1_000, "cash", date(2026, 4, 1)
                ),
                c.CorrectDonor(donor_id, {"address": "京都府亀岡市余部町"}, "転居"),
            ],
            actor="t",
        )

        assert not donation.replayed
        assert not correction.replayed
        donor = ledger.get(donor_id)
        assert isinstance(donor, Donor)
        assert donor.address == "京都府亀岡市余部町"
        # the donation, the correction, the fund's movement
        assert (ledger.recorder.max_notification_id() or 0) - before == 3
    finally:
        ledger.close()

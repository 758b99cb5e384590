"""Givens shared by integration tests: a fund and a donor to give to it."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger import commands as c
from ledger.service import FundLedger

DONATED_ON = date(2026, 4, 1)


def fund_and_donor(ledger: FundLedger, *, fee_rate_bp: int = 350) -> tuple[UUID, UUID]:
    """Open the Kameoka fund and register one donor; return their ids."""
    fund = ledger.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", fee_rate_bp), actor="t")
    donor = c.RegisterDonor("individual", "山田 太郎", "ヤマダ タロウ", "621-0806", "亀岡市")
    return fund.aggregate_id, ledger.execute(donor, actor="t").aggregate_id


def donation(key: str, fund_id: UUID, donor_id: UUID, amount_yen: int) -> c.RecordDonation:
    """A cash donation received on `DONATED_ON`."""
    return c.RecordDonation(key, fund_id, donor_id, amount_yen, "cash", DONATED_ON)

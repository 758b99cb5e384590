"""The aggregates' cheap copy (ledger/aggregate.py) must be as exact as copy.deepcopy."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from ledger import commands as c
from ledger.claim import claim_id
from ledger.service import FundLedger

TODAY = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _every_kind_of_aggregate() -> tuple[FundLedger, list[Any]]:
    app = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    fund = app.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", 350), actor="a")
    app.execute(c.AddDesignation(fund.aggregate_id, "river", "保津川"), actor="a")
    donor = app.execute(
        c.RegisterDonor("individual", "山田 太郎", "ヤマダ タロウ", "621-0806", "亀岡市"), actor="a"
    )
    donation = app.execute(
        c.RecordDonation(
            "d", fund.aggregate_id, donor.aggregate_id, 9_000, "cash", date(2026, 4, 1), "river"
        ),
        actor="a",
    )
    grant = app.execute(
        c.AwardGrant(
            "g", fund.aggregate_id, "NPO", "代表", "清掃", 5_000, "river", date(2026, 5, 1)
        ),
        actor="a",
    )
    app.execute(
        c.RefundDonation("r", donation.aggregate_id, 100, "申し出", date(2026, 5, 2)), actor="a"
    )
    ids = [fund, donor, donation, grant]
    aggregates = [app.get(outcome.aggregate_id) for outcome in ids]
    return app, [*aggregates, app.get(claim_id("r"))]


def test_copy_has_the_same_state_as_a_deep_copy() -> None:
    _, aggregates = _every_kind_of_aggregate()
    for aggregate in aggregates:
        assert copy.deepcopy(aggregate).__dict__ == aggregate.__dict__, type(aggregate)


def test_changing_a_copy_never_changes_the_original() -> None:
    _, aggregates = _every_kind_of_aggregate()
    fund = aggregates[0]
    cash_before = dict(fund.cash_yen)
    copied = copy.deepcopy(fund)
    copied.cash_yen["river"] += 1
    copied.fee_rates_bp["2030-01-01"] = 1
    claim = aggregates[-1]
    claim_copy = copy.deepcopy(claim)
    claim_copy.outcome["amounts_yen"]["amount_yen"] = 0
    assert fund.cash_yen == cash_before
    assert "2030-01-01" not in fund.fee_rates_bp
    assert claim.outcome["amounts_yen"]["amount_yen"] == 100

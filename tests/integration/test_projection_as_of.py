"""Balances replayed to a past effective date or log position (issue 3), on both databases:
they equal simple sums over the events up to that point, and the live read models are left
exactly as they were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from ledger.service import FundLedger
from projections import runner
from projections.as_of import balances_at
from projections.catalogue import all_projectors
from projections.fund_balances import FundBalances
from tests.integration.test_projections import (
    FIRST_DAY,
    GENERAL,
    all_events,
    as_totals,
    dump,
    expected_totals,
    new_history,
)


def _as_sums(found: list[FundBalances]) -> dict[tuple[object, str], dict[str, int]]:
    sums = {}
    for fund in found:
        sums[(fund.fund_id, "*")] = fund.totals
        for pot in fund.pots:
            sums[(fund.fund_id, pot.pot)] = pot.totals
    return sums


def _expected(
    ledger: FundLedger, keep: Callable[[int, Any], bool]
) -> dict[tuple[object, str], dict[str, int]]:
    return {key: as_totals(counter) for key, counter in expected_totals(ledger, keep).items()}


def _nonzero(
    sums: dict[tuple[object, str], dict[str, int]],
) -> dict[tuple[object, str], dict[str, int]]:
    return {key: totals for key, totals in sums.items() if any(totals.values())}


def test_balances_as_of_a_date_equal_the_sums_of_the_events_dated_up_to_it(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=11)
    for _ in range(200):
        history.step()
    runner.catch_up(ledger, engine, all_projectors())
    live = dump(engine)

    for day in (FIRST_DAY - timedelta(days=1), FIRST_DAY, date(2026, 7, 31), date(2026, 11, 20)):
        found = balances_at(ledger, as_of=day)
        expected = _expected(ledger, lambda _position, e, day=day: e.effective_on <= day)
        assert _nonzero(_as_sums(found)) == _nonzero(expected), day
        if day < FIRST_DAY:
            assert not _nonzero(expected), "nothing is dated before the history starts"
    assert _nonzero(expected), "the last day must see money"  # so the comparison bites

    assert dump(engine) == live


def test_balances_at_a_log_position_equal_the_sums_of_the_events_recorded_up_to_it(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=12)
    for _ in range(200):
        history.step()
    positions = [position for position, _ in all_events(ledger)]

    for stop in (positions[0], positions[len(positions) // 3], positions[-1]):
        found = balances_at(ledger, position=stop)
        expected = _expected(ledger, lambda position, _e, stop=stop: position <= stop)
        assert _nonzero(_as_sums(found)) == _nonzero(expected), stop
    whole = balances_at(ledger, position=positions[-1])
    assert {(f.fund_id, GENERAL) for f in whole} <= set(_as_sums(whole))


def test_balances_at_need_exactly_one_point_in_the_past(ledger: FundLedger) -> None:
    with pytest.raises(InvalidInput):
        balances_at(ledger)
    with pytest.raises(InvalidInput):
        balances_at(ledger, as_of=date(2026, 4, 1), position=3)
    with pytest.raises(InvalidInput):
        balances_at(ledger, position=-1)

"""Fixtures shared by the read-model tests: a ledger with a fixed clock and an engine on its
read models, on each database (`database_url`). A module that needs other read-model tables
overrides `ledger_and_engine`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from tests.integration.test_projections import read_side


@pytest.fixture
def ledger_and_engine(database_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    with read_side(database_url) as pair:
        yield pair


@pytest.fixture
def ledger(ledger_and_engine: tuple[FundLedger, Engine]) -> FundLedger:
    return ledger_and_engine[0]


@pytest.fixture
def engine(ledger_and_engine: tuple[FundLedger, Engine]) -> Engine:
    return ledger_and_engine[1]

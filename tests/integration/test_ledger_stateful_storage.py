"""The reference-model state machine of tests/unit, on the real databases.

The unit run explores widely in memory; these runs are fewer and shorter, to check that what
depends on storage (atomic saves, the cache, read versions, claims colliding on their ids,
snapshots) keeps the ledger in step with the model on SQLite and PostgreSQL too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from ledger.service import FundLedger
from ledger.store import create_tables, eventsourcing_env
from tests.unit.conftest import NOW_UTC
from tests.unit.test_ledger_stateful import LedgerAgainstModel

ON_A_DATABASE = settings(
    max_examples=12, stateful_step_count=30, deadline=None, report_multiple_bugs=False
)


def _machine_on(new_url: Callable[[], str]) -> type[LedgerAgainstModel]:
    class LedgerOnADatabase(LedgerAgainstModel):
        def __init__(self) -> None:
            super().__init__()
            self.app.close()  # the in-memory ledger the unit machine starts with
            self.app = FundLedger(env=eventsourcing_env(new_url()), clock=lambda: NOW_UTC)

        def teardown(self) -> None:
            self.app.close()
            super().teardown()

    return LedgerOnADatabase


def test_ledger_on_sqlite_agrees_with_the_reference_model(tmp_path: Path) -> None:
    files = iter(range(10_000))

    def new_url() -> str:
        url = f"sqlite:///{tmp_path / f'ledger-{next(files)}.sqlite'}"
        create_tables(url)
        return url

    run_state_machine_as_test(_machine_on(new_url), settings=ON_A_DATABASE)


@pytest.mark.postgres
def test_ledger_on_postgres_agrees_with_the_reference_model(
    new_postgres_url: Callable[[], str],
) -> None:
    run_state_machine_as_test(_machine_on(new_postgres_url), settings=ON_A_DATABASE)

"""Every read model the ledger has, and the creation of their tables.

`fund-ledger init` creates the tables once (`create_read_models`); other processes only use
them, so several can start at once against PostgreSQL (see notes/eventsourcing-9.5.md on
concurrent table creation).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import ConfigurationError
from projections import runner
from projections.database import engine_for
from projections.donor_directory import DonorDirectoryProjector
from projections.donor_summaries_projector import DonorSummariesProjector
from projections.fund_balances import FundBalancesProjector
from projections.grant_register import GrantRegisterProjector
from projections.journal_entries import JournalEntriesProjector
from projections.runner import Projector
from projections.tables import projection_tracking


def all_projectors() -> list[Projector]:
    """One projector of each read model, in the order they are applied."""
    return [
        FundBalancesProjector(),
        JournalEntriesProjector(),
        DonorSummariesProjector(),
        GrantRegisterProjector(),
        DonorDirectoryProjector(),
    ]


def create_read_model_tables(engine: Engine) -> None:
    """Create every read model's tables and the tracking table where missing; idempotent."""
    runner.create_tables(engine, all_projectors())


def create_read_models(database_url: str) -> None:
    """`create_read_model_tables` on the database of `database_url` (for `fund-ledger init`)."""
    engine = engine_for(database_url)
    try:
        create_read_model_tables(engine)
    finally:
        engine.dispose()


def check_read_model_tables(engine: Engine, database: str) -> None:
    """Raise `ConfigurationError` naming the first missing table, so that no command starts
    work on a database that `fund-ledger init` has not prepared."""
    tables = [projection_tracking, *(t for p in all_projectors() for t in p.tables)]
    inspector = sa.inspect(engine)
    for table in tables:
        if not inspector.has_table(table.name):
            raise ConfigurationError(
                f"database {database} has no read-model table {table.name}:"
                " run `fund-ledger init` (or `fund-ledger rebuild`) first"
            )

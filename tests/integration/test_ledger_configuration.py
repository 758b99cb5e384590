"""The ledger refuses to run on a store that would not hash-chain its events."""

from __future__ import annotations

import pytest

from ledger.errors import ConfigurationError
from ledger.service import FundLedger
from ledger.store import ChainedApplicationRecorder, eventsourcing_env


def test_ledger_on_a_database_url_stores_through_the_chained_recorder(database_url: str) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    assert isinstance(ledger.recorder, ChainedApplicationRecorder)
    ledger.close()


def test_environment_naming_another_recorder_is_refused(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The library reads app-prefixed variables before the settings it is given.
    monkeypatch.setenv(
        "FUNDLEDGER_APPLICATION_RECORDER_TOPIC", "eventsourcing.sqlite:SQLiteApplicationRecorder"
    )
    with pytest.raises(ConfigurationError, match="without the hash chain"):
        FundLedger(env=eventsourcing_env(sqlite_url))

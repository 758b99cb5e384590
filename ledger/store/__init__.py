"""The ledger's event storage: configuration, the hash-chained recorders, verification.

Applications get the chained recorder through `eventsourcing_env(database_url)`; tools that
work on the log without an application (`fund-ledger init`, `fund-ledger verify`) use
`create_tables` and `open_recorder`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.persistence import InfrastructureFactory, PersistenceError
from eventsourcing.utils import Environment

from ledger.errors import StorageError
from ledger.store.chain import GENESIS_HASH, ChainedRecorder, chain_hash
from ledger.store.config import APPLICATION_NAME, database_label, eventsourcing_env
from ledger.store.postgres import ChainedPostgresApplicationRecorder
from ledger.store.sqlite import ChainedSQLiteApplicationRecorder
from ledger.store.verify import ChainFault, ChainReport, verify_chain

__all__ = [
    "APPLICATION_NAME",
    "GENESIS_HASH",
    "ChainFault",
    "ChainReport",
    "ChainedApplicationRecorder",
    "ChainedPostgresApplicationRecorder",
    "ChainedRecorder",
    "ChainedSQLiteApplicationRecorder",
    "chain_hash",
    "create_tables",
    "database_label",
    "eventsourcing_env",
    "open_recorder",
    "verify_chain",
]


ChainedApplicationRecorder = ChainedSQLiteApplicationRecorder | ChainedPostgresApplicationRecorder


@contextmanager
def open_recorder(
    database_url: str, *, create_table: bool = False
) -> Iterator[ChainedApplicationRecorder]:
    """The chained recorder for `database_url`, its connections closed on exit.

    Only the URL configures it: no process environment variable can redirect it. The
    library's database errors, here and in the `with` body, become `StorageError`.
    """
    env = eventsourcing_env(database_url, create_table=create_table)
    factory = InfrastructureFactory.construct(Environment(env=env))
    try:
        recorder = factory.application_recorder()
        assert isinstance(recorder, ChainedApplicationRecorder), "see eventsourcing_env"
        yield recorder
    except PersistenceError as error:
        problem = " ".join(str(error).split())
        raise StorageError(f"{database_label(database_url)}: {problem}") from error
    finally:
        factory.close()


def create_tables(database_url: str) -> None:
    """Create the events, chain and snapshot tables where missing; safe to run again.

    Run it once, from `fund-ledger init`: every other process runs with CREATE_TABLE=n,
    because processes creating tables concurrently fail on PostgreSQL's catalogue.
    """
    env = eventsourcing_env(database_url, create_table=True)
    # Named like the application, because the library names the snapshot table after it.
    factory = InfrastructureFactory.construct(Environment(APPLICATION_NAME, env))
    try:
        factory.application_recorder()
        factory.aggregate_recorder(purpose="snapshots")
    except PersistenceError as error:
        problem = " ".join(str(error).split())
        raise StorageError(f"{database_label(database_url)}: {problem}") from error
    finally:
        factory.close()

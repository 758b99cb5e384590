"""Fresh, empty, initialised ledger databases for tests, on SQLite and PostgreSQL.

Fixtures:

- `database_url`: parametrised `sqlite` / `postgres`, so a test using it runs on both.
- `sqlite_url`, `postgres_url`: one backend each.
- `new_postgres_url`: a function returning another fresh PostgreSQL URL, for tests that need
  two databases.
- `postgres_database_url` (session): the bare session database, with no schema chosen.

Each URL is already initialised with `create_tables`, as `fund-ledger init` would.

Isolation. SQLite: one file under the test's `tmp_path`. PostgreSQL: one database per test
session, `fund_ledger_test_<pid>_<random>` (so parallel xdist workers never meet), dropped
`WITH (FORCE)` at the end; in it, one schema per test (`?schema=t_<n>`). The library creates
its tables, composite type and function schema-qualified, so everything a test writes stays
in its own schema, and a new schema costs milliseconds where a new database costs far more.

PostgreSQL comes from `FUND_LEDGER_TEST_POSTGRES_URL` (default
`postgresql://postgres@127.0.0.1:5432/test`, which must exist and allow CREATE DATABASE).
If it is unreachable, PostgreSQL tests fail, so CI cannot silently lose them; set
`FUND_LEDGER_TEST_POSTGRES=skip` to skip them instead (`-m "not postgres"` deselects them).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from ledger.store import create_tables, database_label

POSTGRES_URL_SETTING = "FUND_LEDGER_TEST_POSTGRES_URL"
POSTGRES_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_SKIP_SETTING = "FUND_LEDGER_TEST_POSTGRES"
POSTGRES_FIXTURES = frozenset({"postgres_url", "new_postgres_url", "postgres_database_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses PostgreSQL, so `-m "not postgres"` deselects it."""
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A database created for this test session (one per xdist worker), dropped at the end."""
    admin_url = os.environ.get(POSTGRES_URL_SETTING, POSTGRES_URL_DEFAULT)
    if os.environ.get(POSTGRES_SKIP_SETTING) == "skip":
        pytest.skip(f"{POSTGRES_SKIP_SETTING}=skip")
    admin = _admin_connection(admin_url)
    name = f"fund_ledger_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}", query=""))
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin_connection(admin_url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        problem = " ".join(str(error).split())
    pytest.fail(
        f"PostgreSQL at {database_label(admin_url)} is unreachable ({problem}). Start it, "
        f"point {POSTGRES_URL_SETTING} at one, or set {POSTGRES_SKIP_SETTING}=skip.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def new_postgres_url(postgres_database_url: str) -> Callable[[], str]:
    """A function that returns the URL of another fresh, initialised schema."""
    schema_numbers = itertools.count(1)

    def new_url() -> str:
        url = f"{postgres_database_url}?schema=t_{next(schema_numbers)}"
        create_tables(url)
        return url

    return new_url


@pytest.fixture
def postgres_url(new_postgres_url: Callable[[], str]) -> str:
    """A fresh, initialised PostgreSQL ledger (its own schema)."""
    return new_postgres_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, initialised SQLite ledger (its own file)."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    create_tables(url)
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, initialised ledger, once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    assert isinstance(url, str)
    return url

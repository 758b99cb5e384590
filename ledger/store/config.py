"""One setting, `FUND_LEDGER_DATABASE_URL`, mapped onto the eventsourcing environment.

Accepted forms:

    sqlite:///relative/path.sqlite      relative to the working directory
    sqlite:////absolute/path.sqlite
    sqlite:///:memory:                  a private in-memory database (tests, demos)
    postgresql://user[:password]@host[:port]/dbname[?schema=NAME]
    postgresql://user@/dbname?host=/var/run/postgresql      unix socket directory
    (`postgresql+psycopg://` and `postgres://` mean the same as `postgresql://`)

Both backends get our chained application recorder (`APPLICATION_RECORDER_TOPIC`), so every
event is hash-chained in its insert transaction. `CREATE_TABLE` is `y` only for
`create_table=True`: tables are created once by `fund-ledger init`, because processes starting
concurrently with `CREATE_TABLE=y` fail on the catalogue (see notes/eventsourcing-9.5.md). The
one exception is `:memory:`, whose fresh private database nobody else could ever initialise.

PostgreSQL settings, chosen here rather than left to the library's defaults:

- `POSTGRES_POOL_SIZE=5`, `POSTGRES_MAX_OVERFLOW=5`: at most 10 connections per process.
  Writes are serialised by the events table lock anyway, so more connections only add
  waiting; count 10 x processes against the server's `max_connections`.
- `POSTGRES_MAX_WAITING=20`: a bounded queue for a connection; beyond it a request fails at
  once instead of piling up behind a stuck database (the library default 0 is unbounded).
- `POSTGRES_CONNECT_TIMEOUT=5`: seconds to wait for a connection from the pool (the library
  uses it as the pool's checkout timeout).
- `POSTGRES_LOCK_TIMEOUT=5`: seconds to wait for the events table's EXCLUSIVE lock. The
  library default 0 waits forever; with a bound, a stuck writer makes others fail and retry
  (the library retries `OperationalError`) instead of hanging every request.
- `POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT=5`: the server ends a session that sits
  idle inside a transaction for 5 s, so a dead client cannot hold the table lock.
- `POSTGRES_PRE_PING=y`: check a pooled connection before use, so a restarted server costs
  a reconnect rather than a failed request.
- `POSTGRES_ENABLE_DB_FUNCTIONS=n`: the library's insert function skips the table lock, which
  would let notification ids commit out of order and would bypass our chain hook.

Schema names are restricted to lower-case identifiers: the library looks its composite type
up by the unquoted `schema.type` name, which PostgreSQL folds to lower case.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, unquote, urlsplit

from eventsourcing.utils import get_topic

from ledger.errors import ConfigurationError
from ledger.store.postgres import ChainedPostgresApplicationRecorder
from ledger.store.sqlite import ChainedSQLiteApplicationRecorder

SETTING_NAME = "FUND_LEDGER_DATABASE_URL"
APPLICATION_NAME = "FundLedger"  # the library names some tables and settings after it
SQLITE_SCHEMES = frozenset({"sqlite"})
POSTGRES_SCHEMES = frozenset({"postgresql", "postgresql+psycopg", "postgres"})
POSTGRES_PORT_DEFAULT = 5432
SQLITE_LOCK_TIMEOUT_SECONDS = 10
POSTGRES_ENV_CHOICES = {
    "POSTGRES_POOL_SIZE": "5",
    "POSTGRES_MAX_OVERFLOW": "5",
    "POSTGRES_MAX_WAITING": "20",
    "POSTGRES_CONNECT_TIMEOUT": "5",
    "POSTGRES_LOCK_TIMEOUT": "5",
    "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
    "POSTGRES_PRE_PING": "y",
    "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
}
SCHEMA_NAME_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
PARAMETER_NAME_PATTERN = re.compile(r"[a-z_]{1,40}")
PASSWORD_MASK = "***"
QUERY_PASSWORD_PATTERN = re.compile(r"([?&])password=[^&#]*")


def eventsourcing_env(database_url: str, *, create_table: bool = False) -> dict[str, str]:
    """The eventsourcing settings for `database_url`; raises `ConfigurationError`.

    No message ever repeats the URL: it may hold a password.
    """
    try:
        parts = urlsplit(database_url.strip())
    except ValueError:
        raise _invalid("it is not a URL") from None
    scheme = parts.scheme.lower()
    if scheme in SQLITE_SCHEMES:
        env = _sqlite_env(parts.netloc, parts.path, parts.query)
    elif scheme in POSTGRES_SCHEMES:
        env = _postgres_env(database_url.strip())
    elif not scheme:
        raise _invalid("no scheme; use sqlite:///path or postgresql://user@host/dbname")
    else:
        raise _invalid(f"unsupported scheme {scheme!r}; use sqlite or postgresql")
    env.setdefault("CREATE_TABLE", "y" if create_table else "n")  # `:memory:` has set it
    return env


def database_label(database_url: str) -> str:
    """`database_url` with any password masked, fit for logs and CLI output."""
    url = database_url.strip()
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return "<unparseable database URL>"
    userinfo, at_sign, hostport = netloc.rpartition("@")
    if at_sign and ":" in userinfo:
        masked = f"{userinfo.partition(':')[0]}:{PASSWORD_MASK}@{hostport}"
        url = url.replace(netloc, masked, 1)
    return QUERY_PASSWORD_PATTERN.sub(rf"\1password={PASSWORD_MASK}", url)


def _sqlite_env(netloc: str, path: str, query: str) -> dict[str, str]:
    if netloc:
        raise _invalid("a sqlite URL has no host; use sqlite:///relative or sqlite:////absolute")
    if query:
        raise _invalid("a sqlite URL takes no parameters")
    file_path = unquote(path.removeprefix("/"))
    if not file_path:
        raise _invalid("the sqlite URL names no file; use sqlite:///path/to/ledger.sqlite")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_LOCK_TIMEOUT": str(SQLITE_LOCK_TIMEOUT_SECONDS),
        "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteApplicationRecorder),
    }
    if file_path == ":memory:":
        # Shared cache, so the application's pooled connections all see one database; a
        # unique name, so two applications never do. "mode=memory" is what the library's
        # detect_memory_mode() looks for to serialise readers and writers.
        env["SQLITE_DBNAME"] = f"file:mem-{uuid.uuid4().hex}?mode=memory&cache=shared"
        env["CREATE_TABLE"] = "y"
    else:
        env["SQLITE_DBNAME"] = file_path
    return env


def _postgres_env(database_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    parameters = _query_parameters(parts.query)
    try:
        port = parts.port or POSTGRES_PORT_DEFAULT
    except ValueError:
        raise _invalid("the port is not a number from 1 to 65535") from None
    host = _postgres_host(unquote(parts.hostname or ""), parameters.pop("host", ""))
    user = unquote(parts.username or "")
    if not user:
        raise _invalid("no user name; use postgresql://user@host/dbname")
    dbname = unquote(parts.path.removeprefix("/"))
    if not dbname or "/" in dbname:
        raise _invalid("no database name; use postgresql://user@host/dbname")
    schema = parameters.pop("schema", "public")
    if not SCHEMA_NAME_PATTERN.fullmatch(schema):
        raise _invalid("schema must be a lower-case identifier of at most 63 characters")
    if parameters:
        unknown = _shown_name(sorted(parameters)[0])
        raise _invalid(f"unknown parameter {unknown}; accepted: schema, host")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresApplicationRecorder),
        **POSTGRES_ENV_CHOICES,
    }


def _query_parameters(query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in parameters:
            raise _invalid(f"parameter {_shown_name(name)} is given twice")
        parameters[name] = value
    return parameters


def _postgres_host(url_host: str, socket_directory: str) -> str:
    if url_host and socket_directory:
        raise _invalid("the host is given twice (in the URL and as ?host=)")
    if socket_directory and not socket_directory.startswith("/"):
        raise _invalid("?host= must be an absolute unix socket directory")
    host = url_host or socket_directory
    if not host:
        raise _invalid("no host; use postgresql://user@host/dbname")
    return host


def _shown_name(name: str) -> str:
    # A password with an unencoded "?" spills into the query: never echo what is not a name.
    return repr(name) if PARAMETER_NAME_PATTERN.fullmatch(name) else "(not a name)"


def _invalid(problem: str) -> ConfigurationError:
    return ConfigurationError(f"{SETTING_NAME}: {problem}")

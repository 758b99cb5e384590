"""Settings of the HTTP API process, from `FUND_LEDGER_*` environment variables
(pydantic-settings): the ledger's own (`ledger.settings.Settings`) plus these."""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field

from ledger.errors import ConfigurationError
from ledger.settings import Settings

READ_WAIT_S_MAX = 30.0
# Passwords that ship with images and tutorials: never acceptable in production.
WELL_KNOWN_PASSWORDS = frozenset(
    {"postgres", "password", "changeme", "secret", "admin", "root", "example", "test"}
)


class ApiSettings(Settings):
    # `production` refuses to start on SQLite or with a missing or well-known password.
    environment: Literal["development", "production"] = "development"
    # `json`: one JSON object a line, for a log collector.
    log_format: Literal["text", "json"] = "text"
    # How long a read with `min_position` may wait for the read models to reach it.
    read_wait_s: float = Field(default=5.0, gt=0, le=READ_WAIT_S_MAX)
    # Run the projectors inside the API process (the embedded default). Turn it off when a
    # separate `fund-ledger project` process feeds the read models.
    project_in_process: bool = True
    # Seconds between two polls of the log by the in-process projector (it is also woken
    # at once by this process's own writes).
    projection_poll_s: float = Field(default=0.5, gt=0, le=60)
    # Seconds a valid token is remembered without looking it up again (`api.http.principals`):
    # a revoked token is refused at most this long after `fund-ledger token revoke`. 0: never.
    token_cache_s: float = Field(default=1.0, ge=0, le=60)
    # `/readyz` answers 503 while the read models are more events than this behind the log.
    ready_lag_events_max: int = Field(default=10_000, ge=0)
    # The staff console (`/console`): consecutive wrong passwords that lock an account, for
    # how long, and how long an idle session lives.
    console_failures_max: int = Field(default=5, ge=1, le=100)
    console_lockout_s: float = Field(default=900.0, gt=0, le=7 * 24 * 3600)
    console_session_idle_s: float = Field(default=8 * 3600.0, gt=0, le=7 * 24 * 3600)
    # Mark the console's cookies `Secure` (sent over HTTPS only; browsers also send them to
    # http://localhost). Turn off only behind a proxy on plain HTTP you trust.
    console_cookie_secure: bool = True

    def check_production(self) -> None:
        """Refuse, in production, what is only fit for a laptop; `ConfigurationError` names it
        (never the password itself)."""
        if self.environment != "production":
            return
        parts = urlsplit(self.database_url)
        if not parts.scheme.startswith("postgresql"):
            raise ConfigurationError(
                "production needs a postgresql:// FUND_LEDGER_DATABASE_URL, not the embedded SQLite"
            )
        password = unquote(parts.password or "")
        if not password:
            raise ConfigurationError("production needs a database password in the URL")
        if password.lower() in WELL_KNOWN_PASSWORDS:
            raise ConfigurationError("production refuses a well-known default database password")

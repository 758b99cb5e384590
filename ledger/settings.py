"""Process settings, read from `FUND_LEDGER_*` environment variables (pydantic-settings).

Callers (the CLI's options, later the HTTP API) pass overrides as keyword arguments; what they
leave out comes from the environment, then from the defaults here.
"""

from __future__ import annotations

import getpass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_URL_DEFAULT = "sqlite:///fund-ledger.sqlite"  # a file in the working directory


def os_user_name() -> str:
    """The OS user name, or "" when the system has none (the service then refuses the actor)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUND_LEDGER_")

    database_url: str = DATABASE_URL_DEFAULT
    # Who records the events; later issues replace this with authenticated tokens.
    actor: str = Field(default_factory=os_user_name)

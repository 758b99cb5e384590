"""Settings of the HTTP API process, from `FUND_LEDGER_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from ledger.settings import Settings

READ_WAIT_S_MAX = 30.0


class ApiSettings(Settings):
    # How long a read with `min_position` may wait for the read models to reach it.
    read_wait_s: float = Field(default=5.0, gt=0, le=READ_WAIT_S_MAX)
    # Run the projectors inside the API process (the embedded default). Turn it off when a
    # separate `fund-ledger project` process feeds the read models.
    project_in_process: bool = True
    # Seconds between two polls of the log by the in-process projector (it is also woken
    # at once by this process's own writes).
    projection_poll_s: float = Field(default=0.5, gt=0, le=60)

"""The two servers `bench.api` compares, each started as `python -m bench.api_servers KIND
DATABASE_URL PORT` under the same uvicorn settings (one worker; uvloop and httptools, which
uvicorn picks when installed, as they are with the project):

- `ledger`: the real app, as `fund-ledger serve` runs it (projectors in process);
- `baseline`: a minimal FastAPI app on the same paths, with the same request body model:
  `POST /v1/donations` does one raw psycopg INSERT of a comparable row into a plain table,
  `GET /v1/funds/{fund_id}/balance` one primary-key SELECT. Both are sync `def` endpoints
  (FastAPI's thread pool) on a psycopg pool, as the ledger's are on its own pools.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.http import create_app
from api.http.schemas import DonationCreate
from api.http.settings import ApiSettings

LEDGER = "ledger"
BASELINE = "baseline"
BASELINE_POOL_SIZE_MIN = 5  # as the ledger's pool (POSTGRES_POOL_SIZE, MAX_OVERFLOW)
BASELINE_POOL_SIZE_MAX = 10
DONATIONS_TABLE = "baseline_donations"
BALANCES_TABLE = "baseline_balances"

SCHEMA_STATEMENTS = (
    f"CREATE TABLE {DONATIONS_TABLE} (donation_id uuid PRIMARY KEY, fund_id uuid NOT NULL,"
    " donor_id uuid NOT NULL, amount_yen bigint NOT NULL, method text NOT NULL,"
    " idempotency_key text NOT NULL UNIQUE, recorded_at_utc timestamptz NOT NULL)",
    f"CREATE TABLE {BALANCES_TABLE} (fund_id uuid PRIMARY KEY, name text NOT NULL,"
    " received_yen bigint NOT NULL, fee_yen bigint NOT NULL, available_yen bigint NOT NULL)",
)


def baseline_app(conninfo: str) -> FastAPI:
    pool = ConnectionPool(
        conninfo, min_size=BASELINE_POOL_SIZE_MIN, max_size=BASELINE_POOL_SIZE_MAX, open=False
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=True)
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/donations", status_code=201)
    def record_donation(
        body: DonationCreate,
        idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=200)],
    ) -> dict[str, Any]:
        donation_id = uuid4()
        with pool.connection() as connection:
            connection.execute(
                f"INSERT INTO {DONATIONS_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    donation_id,
                    body.fund_id,
                    body.donor_id,
                    body.amount_yen,
                    body.method,
                    idempotency_key,
                    datetime.now(UTC),
                ),
            )
        return {"kind": "record_donation", "id": donation_id, "amounts_yen": {}}

    @app.get("/v1/funds/{fund_id}/balance")
    def balance(fund_id: UUID) -> dict[str, Any]:
        with pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(
                f"SELECT * FROM {BALANCES_TABLE} WHERE fund_id = %s", (fund_id,)
            ).fetchone()
        if row is None:
            raise HTTPException(404)
        return row

    return app


def main(argv: list[str] | None = None) -> int:
    kind, database_url, port = sys.argv[1:] if argv is None else argv
    if kind == LEDGER:
        app = create_app(ApiSettings(database_url=database_url, project_in_process=True))
    elif kind == BASELINE:
        app = baseline_app(database_url)
    else:
        raise SystemExit(f"unknown server {kind!r}; choose {LEDGER} or {BASELINE}")
    # `fund-ledger serve` logs at info (an access-log line per request); both servers here log
    # warnings only, so that neither pays for a log the benchmark throws away.
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())

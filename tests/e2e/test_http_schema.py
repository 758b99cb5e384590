"""The HTTP API against its own OpenAPI schema (schemathesis), in process through ASGI.

Stateless: every operation gets a bounded number of generated requests, valid and invalid
(on SQLite: on PostgreSQL the same takes over a minute). Stateful: schemathesis chains
operations through the links it infers from the schema (the `id` a write answers feeds the
path of a later call), on SQLite and PostgreSQL. Every response must pass four checks: no
5xx, a documented status code, the documented content type, and a body that matches the
documented schema.

One app per backend serves the whole module, on a ledger seeded with one fund (and a
designation), one donor, one donation and one grant. Generated ids are the seeded ones most of
the time (random otherwise), so that writes reach the domain's rules and not only the 404 of
an unknown id, and `min_position` is mostly a position already in the log. Every request is
made as an admin (negative cases also drop the Authorization header, and expect 401).
Hypothesis runs derandomised and keeps no example database, so CI sends the same requests
on every run.

The schema is loaded from `app.openapi()` at import, so that pytest shows one test per
operation; each request goes to the fixture's app (`app=`), whose lifespan schemathesis
starts on the first request and the fixture ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.cli.session import Session
from api.http import create_app
from api.http.settings import ApiSettings
from api.tokens import create_token
from ledger import commands as c
from ledger.claim import claim_id
from ledger.settings import Settings
from ledger.store import create_tables
from projections.database import engine_for

# Failures that need a change in `api/http` (the fix each needs is in its comment), each
# with the checks it excuses (None: all). Delete an entry when its fix lands.
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
STATELESS_EXAMPLES_MAX = 25
STATEFUL_SCENARIOS_MAX = 20
STATEFUL_STEPS_MAX = 6
KNOWN_ID_PROBABILITY = 0.8  # how often a generated id is a seeded one
KNOWN_POSITION_PROBABILITY = 0.9  # how often `min_position` is one in the log
# Long enough for the projector to reach any position in the log (one beyond it is refused
# at once).
READ_WAIT_S = 10.0
CATCH_UP_S_MAX = 30.0
HYPOTHESIS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Creating commands take their aggregate's id from their idempotency key, so the seeded ids
# are known before the ledger exists (the fixture checks it).
SEED_KEYS = {
    "fund_id": "schema-test-fund",
    "donor_id": "schema-test-donor",
    "donation_id": "schema-test-donation",
    "grant_id": "schema-test-grant",
}
SEEDED_IDS = {name: claim_id(key) for name, key in SEED_KEYS.items()}
SEEDED_POSITIONS = ["1", "2", "3"]


def _config() -> schemathesis.Config:
    dictionaries: dict[str, Any] = {
        name: {"values": [str(value)]} for name, value in SEEDED_IDS.items()
    }
    dictionaries["positions"] = {"values": SEEDED_POSITIONS}
    parameters: dict[str, Any] = {
        f"{location}.{name}": {"dictionary": name, "probability": KNOWN_ID_PROBABILITY}
        for name in SEEDED_IDS
        for location in ("path", "query", "body")
    }
    parameters["query.min_position"] = {
        "dictionary": "positions",
        "probability": KNOWN_POSITION_PROBABILITY,
    }
    return schemathesis.Config.from_dict(
        {
            "dictionaries": dictionaries,
            "parameters": parameters,
            # The coverage phase sends ~50 boundary cases per operation whatever
            # `max_examples` says (1,400 requests here); examples and fuzzing stay bounded.
            "phases": {"coverage": {"enabled": False}},
        }
    )


def _schema() -> schemathesis.BaseSchema:
    """The schema of an app that is never started (it opens nothing until its lifespan)."""
    app = create_app(ApiSettings(database_url="sqlite:///never-opened.sqlite"))
    return schemathesis.openapi.from_dict(app.openapi(), config=_config())


schema = _schema()


@dataclass(frozen=True)
class Served:
    app: FastAPI
    headers: dict[str, str]  # an admin's Authorization

    def call_kwargs(self) -> dict[str, Any]:
        return {"app": self.app, "headers": self.headers}

    def validate(self, case: schemathesis.Case, response: Response) -> None:
        case.validate_response(response, checks=CHECKS)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The real app on a seeded ledger, on each backend, for the whole module."""
    database_url = _database_url(request, tmp_path_factory)
    session = Session(Settings(database_url=database_url, actor="schema-test-setup"))
    try:
        session.initialise()
        seeded_head = _seed(session)
    finally:
        session.close()
    engine = engine_for(database_url)
    try:
        _, token = create_token(engine, role="admin", name="事務局 schemathesis")
    finally:
        engine.dispose()
    app = create_app(
        ApiSettings(database_url=database_url, read_wait_s=READ_WAIT_S, projection_poll_s=0.05)
    )
    try:
        served = Served(app, {"Authorization": f"Bearer {token}"})
        _wait_until_caught_up(served, seeded_head)
        yield served
    finally:
        asgi.shutdown_lifespans()  # the projector and the connections of this module's app


def _wait_until_caught_up(served: Served, position: int) -> None:
    """Start the app and wait until its read models hold the seeded events."""
    deadline = time.monotonic() + CATCH_UP_S_MAX
    with asgi.get_client(served.app) as client:
        while True:
            params = {"min_position": position}
            response = client.get("/v1/funds", params=params, headers=served.headers)
            if response.status_code == 200:
                return
            assert time.monotonic() < deadline, f"read models behind: {response.text}"


def _database_url(request: pytest.FixtureRequest, paths: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{paths.mktemp('schema') / 'ledger.sqlite'}"
        create_tables(url)
        return url
    new_postgres_url: Callable[[], str] = request.getfixturevalue("new_postgres_url")
    return new_postgres_url()


def _seed(session: Session) -> int:
    """The seeded fund, donor, donation and grant; the log position of the last."""
    fund = session.execute(
        c.OpenFund(
            name="亀岡協働基金",
            host="公益財団法人 京都地域創造基金",
            fee_rate_bp=350,
            idempotency_key=SEED_KEYS["fund_id"],
        )
    )
    fund_id = fund.aggregate_id
    session.execute(c.AddDesignation(fund_id, "hozugawa", "保津川の清掃"))
    donor = session.execute(
        c.RegisterDonor(
            kind="individual",
            name="山田 太郎",
            kana="ヤマダ タロウ",
            postal_code="621-0806",
            address="京都府亀岡市余部町1-1",
            idempotency_key=SEED_KEYS["donor_id"],
        )
    )
    donation = session.execute(
        c.RecordDonation(
            idempotency_key=SEED_KEYS["donation_id"],
            fund_id=fund_id,
            donor_id=donor.aggregate_id,
            amount_yen=1_000_000,
            method="bank_transfer",
        )
    )
    grant = session.execute(
        c.AwardGrant(
            idempotency_key=SEED_KEYS["grant_id"],
            fund_id=fund_id,
            grantee="NPO法人 保津川",
            representative="代表 鈴木",
            purpose="河川清掃",
            amount_yen=200_000,
        )
    )
    seeded = [fund_id, donor.aggregate_id, donation.aggregate_id, grant.aggregate_id]
    assert seeded == list(SEEDED_IDS.values()), "creating commands take the key's id"
    assert grant.position is not None
    return grant.position


@schema.parametrize()
@pytest.mark.parametrize("served", ["sqlite"], indirect=True)
@settings(HYPOTHESIS, max_examples=STATELESS_EXAMPLES_MAX)
def test_every_operation_answers_as_documented(case: schemathesis.Case, served: Served) -> None:
    response = case.call(**served.call_kwargs())
    served.validate(case, response)


def test_linked_operations_answer_as_documented(served: Served) -> None:
    call_kwargs = served.call_kwargs()

    class LedgerStateMachine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return call_kwargs

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            served.validate(case, response)

    LedgerStateMachine.run(
        settings=settings(
            HYPOTHESIS,
            max_examples=STATEFUL_SCENARIOS_MAX,
            stateful_step_count=STATEFUL_STEPS_MAX,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )

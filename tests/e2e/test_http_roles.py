"""Who may call what: every route of the app × every role, built from the app's own route
table (its OpenAPI schema), so that a route added without a line in ACCESS fails this test.

Access passes when the answer is neither 401, 403 nor (for a donor's own record) 404; a write
sent with an empty body then answers 422 without recording anything."""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

import pytest

from tests.e2e.http import Api


class Access(Enum):
    PUBLIC = "anyone, even without a token"
    ADMIN = "admin only"
    READERS = "admin and auditor"
    OWN_DONOR = "admin, auditor, and the donor it is about"


ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/healthz"): Access.PUBLIC,
    ("GET", "/readyz"): Access.PUBLIC,
    ("POST", "/v1/funds"): Access.ADMIN,
    ("GET", "/v1/funds"): Access.READERS,
    ("GET", "/v1/funds/{fund_id}"): Access.READERS,
    ("POST", "/v1/funds/{fund_id}/fee-rates"): Access.ADMIN,
    ("POST", "/v1/funds/{fund_id}/designations"): Access.ADMIN,
    ("POST", "/v1/funds/{fund_id}/book-closings"): Access.ADMIN,
    ("GET", "/v1/funds/{fund_id}/balance"): Access.READERS,
    ("GET", "/v1/funds/{fund_id}/published-donors"): Access.READERS,
    ("POST", "/v1/donors"): Access.ADMIN,
    ("GET", "/v1/donors"): Access.READERS,
    ("GET", "/v1/donors/{donor_id}"): Access.OWN_DONOR,
    ("POST", "/v1/donors/{donor_id}/corrections"): Access.ADMIN,
    ("GET", "/v1/donors/{donor_id}/summary"): Access.OWN_DONOR,
    ("POST", "/v1/donations"): Access.ADMIN,
    ("GET", "/v1/donations"): Access.READERS,
    ("GET", "/v1/donations/{donation_id}"): Access.READERS,
    ("POST", "/v1/donations/{donation_id}/refunds"): Access.ADMIN,
    ("POST", "/v1/donations/{donation_id}/void"): Access.ADMIN,
    ("POST", "/v1/grants"): Access.ADMIN,
    ("GET", "/v1/grants"): Access.READERS,
    ("GET", "/v1/grants/{grant_id}"): Access.READERS,
    ("POST", "/v1/grants/{grant_id}/disbursements"): Access.ADMIN,
    ("POST", "/v1/grants/{grant_id}/reduce"): Access.ADMIN,
    ("POST", "/v1/grants/{grant_id}/cancel"): Access.ADMIN,
    ("POST", "/v1/grants/{grant_id}/returns"): Access.ADMIN,
    ("POST", "/v1/imports/donations"): Access.ADMIN,
    ("GET", "/v1/journal"): Access.READERS,
    ("GET", "/v1/events"): Access.READERS,
    ("GET", "/v1/verify"): Access.READERS,
    ("POST", "/v1/donations/{donation_id}/receipts"): Access.ADMIN,
    ("GET", "/v1/receipts/{number}"): Access.READERS,
    ("GET", "/v1/receipts/{number}.pdf"): Access.READERS,
    ("POST", "/v1/receipts/{number}/void"): Access.ADMIN,
    ("GET", "/v1/donors/{donor_id}/receipts"): Access.OWN_DONOR,
    ("GET", "/v1/donors/{donor_id}/receipts/{number}.pdf"): Access.OWN_DONOR,
    ("GET", "/v1/funds/{fund_id}/statement.pdf"): Access.READERS,
}

ROLES = ("anonymous", "admin", "auditor", "own_donor", "other_donor")


def app_routes(api: Api) -> set[tuple[str, str]]:
    """Every operation the app publishes in its OpenAPI schema (which lists each route of
    its routers; only the docs pages themselves are left out)."""
    paths = api.client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def expected_status_class(access: Access, role: str, path: str) -> str:
    if access is Access.PUBLIC:
        return "passes"
    if role == "anonymous":
        return "401"
    if role == "admin":
        return "passes"
    if role == "auditor":
        return "403" if access is Access.ADMIN else "passes"
    if access is Access.OWN_DONOR:
        return "passes" if role == "own_donor" else "404"
    return "403"


def status_class(status: int) -> str:
    return str(status) if status in (401, 403, 404) else "passes"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Access is decided before any storage is touched: SQLite is enough."""
    url: str = request.getfixturevalue("sqlite_url")
    return url


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    fund_id = api.open_fund()
    donor_id = api.register_donor()
    other_donor_id = api.register_donor(name="別の 寄附者")
    gift = {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": 100_000, "method": "cash"}
    donation = api.created("/v1/donations", gift)
    receipt = api.created(f"/v1/donations/{donation['id']}/receipts", {})
    grant = api.created(
        "/v1/grants",
        {
            "fund_id": fund_id,
            "grantee": "NPO法人 保津川",
            "representative": "代表 鈴木",
            "purpose": "河川清掃",
            "amount_yen": 1_000,
        },
    )
    return {
        "params": {
            "fund_id": fund_id,
            "donor_id": donor_id,
            "donation_id": donation["id"],
            "grant_id": grant["id"],
            "number": receipt["number"],
        },
        "tokens": {
            "anonymous": {},
            "admin": api.admin,
            "auditor": api.auditor,
            "own_donor": api.token("donor", "山田 太郎", donor_id),
            "other_donor": api.token("donor", "別の 寄附者", other_donor_id),
        },
        "last_position": grant["position"],
    }


def test_every_route_of_the_app_has_its_access_declared(api: Api) -> None:
    assert app_routes(api) == set(ACCESS)


def test_every_route_answers_every_role_as_declared(api: Api, world: dict[str, Any]) -> None:
    wrong = []
    for (method, path), access in sorted(ACCESS.items(), key=lambda item: item[0][1]):
        url = path.format(**world["params"])
        for role in ROLES:
            headers = {**world["tokens"][role], "Idempotency-Key": f"matrix-{role}-{path}"}
            if method == "GET":
                response = api.client.get(url, headers=headers)
            else:
                response = api.client.post(url, json={}, headers=headers)
            expected = expected_status_class(access, role, path)
            if status_class(response.status_code) != expected:
                wrong.append((method, path, role, expected, response.status_code))
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    assert wrong == []


def test_no_write_of_the_matrix_recorded_anything(api: Api, world: dict[str, Any]) -> None:
    test_every_route_answers_every_role_as_declared(api, world)

    log = api.read("/v1/events", after=world["last_position"] - 1)

    assert [event["position"] for event in log["items"]] == [world["last_position"]]


def test_a_revoked_token_is_refused_once_its_cached_second_has_passed(api: Api) -> None:
    from api.http.settings import ApiSettings
    from api.tokens import list_tokens, revoke_token
    from projections.database import engine_for

    engine = engine_for(api.database_url)
    try:
        (auditor,) = [t for t in list_tokens(engine) if t.role.value == "auditor"]
        assert api.get("/v1/funds").status_code == 200  # now remembered as valid
        revoke_token(engine, auditor.token_id)
    finally:
        engine.dispose()
    cache_s = ApiSettings.model_fields["token_cache_s"].default  # as the fixture's app runs
    assert 0 < cache_s <= 1

    time.sleep(cache_s)
    response = api.get("/v1/funds")

    assert response.status_code == 401
    assert response.json()["type"] == "urn:fund-ledger:problem:unauthenticated"


def test_the_actor_of_an_event_is_the_admin_tokens_name(api: Api) -> None:
    api.open_fund()

    (opened,) = api.read("/v1/events")["items"]

    assert opened["fields"]["actor"] == "事務局 田中"

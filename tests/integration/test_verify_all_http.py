"""`GET /v1/verify?all=true`: the checks of `fund-ledger verify --all` as JSON, through the
real HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

from projections.database import engine_for
from projections.grant_register import grant_register_entries
from tests.e2e.conftest import api  # noqa: F401  (the fixture)
from tests.e2e.http import Api


def a_little_history(client: Api) -> dict[str, object]:
    fund_id = client.open_fund()
    donor_id = client.register_donor()
    donation = {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": 100_000,
                "method": "cash", "effective_on": "2026-04-01"}  # fmt: skip
    client.created("/v1/donations", donation)
    grant = {"fund_id": fund_id, "grantee": "NPO法人 保津川", "representative": "代表",
             "purpose": "河川清掃", "amount_yen": 30_000, "effective_on": "2026-04-02"}  # fmt: skip
    return client.created("/v1/grants", grant)


def test_verify_all_answers_every_check_and_no_fault(api: Api) -> None:  # noqa: F811
    written = a_little_history(api)
    api.read("/v1/grants", waiting_for=written)
    answer = api.read("/v1/verify", all="true")
    assert [check["name"] for check in answer["checks"]][:3] == ["chain", "snapshots", "journal"]
    assert {check["status"] for check in answer["checks"]} == {"ok"}  # receipts too, now wired
    assert answer["fault"] is None


def test_verify_all_names_an_altered_read_model_row(api: Api) -> None:  # noqa: F811
    written = a_little_history(api)
    api.read("/v1/grants", waiting_for=written)
    engine = engine_for(api.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                grant_register_entries.update().values(
                    awarded_yen=grant_register_entries.c.awarded_yen + 1
                )
            )
    finally:
        engine.dispose()
    answer = api.read("/v1/verify", all="true")
    assert answer["fault"]["name"] == "read model grant_register"
    assert answer["fault"]["status"] == "fail"
    assert "grant_register_entries differs from a fresh rebuild" in answer["fault"]["detail"]
    plain = api.read("/v1/verify")
    assert plain["fault"] is None  # the chain alone cannot see a read model

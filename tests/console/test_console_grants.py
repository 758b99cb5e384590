"""The grant pages, driven like a browser: award a grant, pay it, reduce or cancel it, record a
return; refusals are shown next to their field and record nothing; the auditor reads but
cannot write (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.conftest import AUDITOR
from tests.console.pages import Console, forms_of

NEW = "/console/grants/new"
GRANT_PAGE = re.compile(r"/console/grants/([0-9a-f-]{36})$")
AWARD = {
    "grantee": "NPO法人 保津川",
    "representative": "代表 鈴木 花子",
    "purpose": "河川清掃",
    "effective_on": "2026-05-01",
}


def _funded_fund(console: Console, amount_yen: int = 1_000_000) -> tuple[str, dict[str, Any]]:
    """A fund (fee 3.5%) holding one donation dated 2026-04-01 of `amount_yen`, designated to
    hozugawa; and the write to wait for."""
    api = console.api
    fund_id = api.open_fund()
    api.created(f"/v1/funds/{fund_id}/designations", {"designation": "hozugawa", "name": "保津川"})
    donor_id = api.register_donor()
    body = {
        "fund_id": fund_id,
        "donor_id": donor_id,
        "amount_yen": amount_yen,
        "method": "bank_transfer",
        "effective_on": "2026-04-01",
        "designation": "hozugawa",
    }
    return fund_id, api.created("/v1/donations", body)


def _written(response: httpx.Response) -> dict[str, Any]:
    """The write a console page was redirected after (`?recorded=1&position=N`)."""
    assert response.status_code == 200, response.text
    return {"position": int(response.url.params["position"])}


def _pot(console: Console, fund_id: str, write: dict[str, Any], pot: str) -> dict[str, Any]:
    balance = console.api.read(f"/v1/funds/{fund_id}/balance", waiting_for=write)
    found: dict[str, Any] = next(p for p in balance["pots"] if p["pot"] == pot)
    return found


def _award(console: Console, fund_id: str, amount: str, **typed: str) -> httpx.Response:
    return console.submit(
        f"{NEW}?fund_id={fund_id}", NEW, **{**AWARD, "amount_yen": amount, **typed}
    )


def _grant_id(response: httpx.Response) -> str:
    found = GRANT_PAGE.search(response.url.path)
    assert found is not None, response.url
    return found.group(1)


def _grant(console: Console, grant_id: str) -> dict[str, Any]:
    state: dict[str, Any] = console.api.read(f"/v1/grants/{grant_id}")
    return state


def _act(console: Console, grant_id: str, action: str, **typed: str) -> httpx.Response:
    page = f"/console/grants/{grant_id}"
    return console.submit(page, f"{page}/{action}", **typed)


def _figure(response: httpx.Response, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', response.text)
    assert found is not None, name
    return found.group(1)


def test_awarding_then_disbursing_through_the_forms_moves_the_funds_money(admin: Console) -> None:
    fund_id, donated = _funded_fund(admin)
    cash_yen = _pot(admin, fund_id, donated, "hozugawa")["cash_yen"]

    awarded = _award(admin, fund_id, "200,000", designation="hozugawa")
    assert "記録しました" in awarded.text
    grant_id = _grant_id(awarded)
    pot = _pot(admin, fund_id, _written(awarded), "hozugawa")
    assert (pot["cash_yen"], pot["committed_yen"]) == (cash_yen, 200_000)

    paid = _act(admin, grant_id, "disburse", amount_yen="80000", effective_on="2026-05-10")
    pot = _pot(admin, fund_id, _written(paid), "hozugawa")
    assert (pot["cash_yen"], pot["committed_yen"]) == (cash_yen - 80_000, 120_000)
    assert _figure(paid, "unpaid") == "¥120,000"
    assert _figure(paid, "status") == "一部交付済み"
    assert "<td>交付</td>" in paid.text
    assert "<td>kanri</td>" in paid.text  # the history names who recorded it

    register = admin.get("/console/grants", fund_id=fund_id)
    assert f'href="/console/grants/{grant_id}"' in register.text
    assert "NPO法人 保津川" in register.text
    assert "¥80,000" in register.text


def test_the_award_form_offers_the_funds_designations(admin: Console) -> None:
    fund_id, _ = _funded_fund(admin)
    form = admin.get(NEW, fund_id=fund_id)
    assert '<option value="hozugawa">保津川</option>' in form.text
    assert '<option value="">指定なし（一般）</option>' in form.text


def test_an_award_beyond_the_available_money_is_refused_next_to_the_amount(
    admin: Console,
) -> None:
    fund_id, donated = _funded_fund(admin, amount_yen=10_000)

    refused = _award(admin, fund_id, "100000", designation="hozugawa")

    assert refused.status_code == 422
    assert re.search(r'id="error-amount_yen">基金の利用可能額が足りません。<', refused.text)
    assert 'aria-invalid="true"' in refused.text
    assert 'value="NPO法人 保津川"' in refused.text  # what the user typed is kept
    assert admin.api.read("/v1/grants", fund_id=fund_id, waiting_for=donated)["items"] == []
    assert _pot(admin, fund_id, donated, "hozugawa")["committed_yen"] == 0


def test_an_award_without_its_required_fields_says_which_are_missing(admin: Console) -> None:
    fund_id, _ = _funded_fund(admin)
    refused = _award(admin, fund_id, "", grantee="")
    assert refused.status_code == 422
    assert re.search(r'id="error-grantee">入力してください。<', refused.text)
    assert re.search(r'id="error-amount_yen">入力してください。<', refused.text)


def test_a_double_submit_of_the_disburse_form_records_one_disbursement(admin: Console) -> None:
    fund_id, _ = _funded_fund(admin)
    grant_id = _grant_id(_award(admin, fund_id, "200000", designation="hozugawa"))
    page = f"/console/grants/{grant_id}"
    form = admin.form(page, f"{page}/disburse")

    first = admin.post(form, amount_yen="50000")
    second = admin.post(form, amount_yen="50000")

    assert first.status_code == second.status_code == 200
    assert _grant(admin, grant_id)["disbursed_yen"] == 50_000
    assert second.text.count("<td>交付</td>") == 1
    pot = _pot(admin, fund_id, _written(second), "hozugawa")
    assert pot["committed_yen"] == 150_000


def test_a_disbursement_beyond_the_unpaid_rest_is_refused_in_its_own_form(
    admin: Console,
) -> None:
    fund_id, _ = _funded_fund(admin)
    grant_id = _grant_id(_award(admin, fund_id, "200000", designation="hozugawa"))
    page = f"/console/grants/{grant_id}"
    form = admin.form(page, f"{page}/disburse")

    refused = admin.post(form, amount_yen="200001")

    assert refused.status_code == 422
    error = "金額が、この助成で可能な額を超えています。"
    assert re.search(rf'id="disburse-amount_yen-error">{error}<', refused.text)
    assert f'value="{form.fields["idempotency_key"]}"' in refused.text  # the same form again
    ids = re.findall(r' id="([^"]+)"', refused.text)
    assert len(ids) == len(set(ids))  # four forms, and still one control per label
    assert _grant(admin, grant_id)["disbursed_yen"] == 0


def test_cancelling_returns_the_unpaid_rest_to_the_fund(admin: Console) -> None:
    fund_id, _ = _funded_fund(admin)
    grant_id = _grant_id(_award(admin, fund_id, "300000", designation="hozugawa"))
    paid = _act(admin, grant_id, "disburse", amount_yen="100000")
    before = _pot(admin, fund_id, _written(paid), "hozugawa")

    cancelled = _act(admin, grant_id, "cancel", reason="事業中止")

    after = _pot(admin, fund_id, _written(cancelled), "hozugawa")
    assert before["committed_yen"] == 200_000
    assert after["committed_yen"] == 0
    assert after["available_yen"] == before["available_yen"] + 200_000
    assert after["cash_yen"] == before["cash_yen"]
    grant = _grant(admin, grant_id)
    assert (grant["unpaid_yen"], grant["reduced_yen"], grant["cancelled"]) == (0, 200_000, True)
    assert _figure(cancelled, "status") == "取消済み"
    actions = {form.action for form in forms_of(cancelled.text)}
    assert f"/console/grants/{grant_id}/disburse" not in actions  # nothing left to pay
    assert f"/console/grants/{grant_id}/return" in actions


def test_a_reduction_and_a_return_move_committed_and_cash(admin: Console) -> None:
    fund_id, _ = _funded_fund(admin)
    grant_id = _grant_id(_award(admin, fund_id, "300000", designation="hozugawa"))
    reduced = _act(admin, grant_id, "reduce", amount_yen="50000", reason="事業縮小")
    assert _pot(admin, fund_id, _written(reduced), "hozugawa")["committed_yen"] == 250_000
    paid = _act(admin, grant_id, "disburse", amount_yen="250000")
    before = _pot(admin, fund_id, _written(paid), "hozugawa")

    returned = _act(admin, grant_id, "return", amount_yen="20000", reason="未使用分の返還")

    after = _pot(admin, fund_id, _written(returned), "hozugawa")
    assert after["cash_yen"] == before["cash_yen"] + 20_000
    assert _figure(returned, "returned") == "¥20,000"
    assert _figure(returned, "status") == "交付済み"


def test_the_auditor_reads_the_register_and_the_grant_but_gets_no_forms(
    console: Console,
) -> None:
    fund_id, _ = _funded_fund(console)
    body = {**AWARD, "fund_id": fund_id, "amount_yen": 100_000, "designation": "hozugawa"}
    grant = console.api.created("/v1/grants", body)
    assert console.sign_in(AUDITOR).status_code == 200

    register = console.get("/console/grants", position=grant["position"])
    page = console.get(f"/console/grants/{grant['id']}")

    assert register.status_code == page.status_code == 200
    assert "NPO法人 保津川" in register.text
    assert "助成を決定" not in register.text
    assert _figure(page, "awarded") == "¥100,000"
    assert [form.action for form in forms_of(page.text)] == ["/console/logout"]
    assert console.get(NEW, fund_id=fund_id).status_code == 403


def test_a_post_by_the_auditor_is_refused_and_records_nothing(console: Console) -> None:
    fund_id, _ = _funded_fund(console)
    body = {**AWARD, "fund_id": fund_id, "amount_yen": 100_000, "designation": "hozugawa"}
    grant = console.api.created("/v1/grants", body)
    assert console.sign_in(AUDITOR).status_code == 200
    token = console.form("/console/grants", "/console/logout").fields["csrf_token"]
    fields = {"csrf_token": token, "idempotency_key": "console-auditor-try"}

    for action, typed in [
        ("disburse", {"amount_yen": "10000"}),
        ("cancel", {"reason": "事業中止"}),
    ]:
        path = f"/console/grants/{grant['id']}/{action}"
        answer = console.client.post(path, data={**fields, **typed})
        assert answer.status_code == 403
    award = {**fields, **AWARD, "fund_id": fund_id, "amount_yen": "10000"}
    assert console.client.post(NEW, data=award).status_code == 403

    state = _grant(console, grant["id"])
    assert (state["disbursed_yen"], state["reduced_yen"]) == (0, 0)
    assert len(console.api.read("/v1/grants", fund_id=fund_id)["items"]) == 1


def test_an_unknown_grant_is_a_not_found_page(admin: Console) -> None:
    page = admin.get("/console/grants/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404
    assert "お探しの記録は見つかりません。" in page.text

"""A thin client for the tests: tokens per role, and the calls a fund's life is made of."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx

from api.tokens import create_token
from projections.database import engine_for

if TYPE_CHECKING:
    from starlette.testclient import TestClient

_keys = itertools.count(1)


class Api:
    def __init__(self, client: TestClient, database_url: str) -> None:
        self.client = client
        self.database_url = database_url
        self.admin = self.token("admin", "事務局 田中")
        self.auditor = self.token("auditor", "監事 佐藤")

    def token(self, role: str, name: str, donor_id: str | None = None) -> dict[str, str]:
        """Authorization headers for a new token of `role`."""
        engine = engine_for(self.database_url)
        try:
            donor = UUID(donor_id) if donor_id else None
            _, token = create_token(engine, role=role, name=name, donor_id=donor)
        finally:
            engine.dispose()
        return {"Authorization": f"Bearer {token}"}

    def post(
        self, path: str, body: dict[str, Any], *, key: str | None = None, as_: Any = None
    ) -> httpx.Response:
        headers = dict(self.admin if as_ is None else as_)
        headers["Idempotency-Key"] = key or f"test-key-{next(_keys)}"
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str, *, as_: Any = None, **params: Any) -> httpx.Response:
        headers = self.auditor if as_ is None else as_
        return self.client.get(path, params=params, headers=headers)

    def created(self, path: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """POST that must record: its body (kind, id, position, amounts_yen)."""
        response = self.post(path, body, **kwargs)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def read(self, path: str, *, waiting_for: dict[str, Any] | None = None, **params: Any) -> Any:
        """GET that must succeed, having waited for the position of the write `waiting_for`."""
        if waiting_for is not None:
            params["min_position"] = waiting_for["position"]
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def open_fund(self, **overrides: Any) -> str:
        body = {"name": "亀岡協働基金", "host": "公益財団法人 京都地域創造基金", "fee_rate_bp": 350}
        return str(self.created("/v1/funds", {**body, **overrides})["id"])

    def donate(
        self, fund_id: str, donor_id: str, amount_yen: int, day: str, **overrides: Any
    ) -> dict[str, Any]:
        """Record a donation by bank transfer dated `day`: the write (id, position, …)."""
        body = {
            "fund_id": fund_id,
            "donor_id": donor_id,
            "amount_yen": amount_yen,
            "method": "bank_transfer",
            "effective_on": day,
        }
        return self.created("/v1/donations", {**body, **overrides})

    def register_donor(self, **overrides: Any) -> str:
        body = {
            "kind": "individual",
            "name": "山田 太郎",
            "kana": "ヤマダ タロウ",
            "postal_code": "621-0806",
            "address": "京都府亀岡市余部町1-1",
        }
        return str(self.created("/v1/donors", {**body, **overrides})["id"])

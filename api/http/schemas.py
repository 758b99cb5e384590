"""Request and response bodies. Amounts are integer yen (`amount_yen`), dates ISO 8601.

Request fields are strict (no float, bool or string for an amount; only an ISO 8601 string for
a date) and unknown fields are refused. The bounds here shape the OpenAPI schema and refuse
absurd sizes early; the domain checks every rule again and is the authority.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ledger.commands import Outcome
from ledger.money import AMOUNT_YEN_MAX, FEE_RATE_BP_MAX, TARGET_YEN_MAX
from ledger.values import NAME_LENGTH_MAX, TEXT_LENGTH_MAX


def _iso_date_only(value: object) -> object:
    """A date is a `YYYY-MM-DD` string, never a number of seconds."""
    if not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_date_only)]
AmountYen = Annotated[StrictInt, Field(ge=1, le=AMOUNT_YEN_MAX, examples=[10000])]
Name = Annotated[StrictStr, Field(min_length=1, max_length=NAME_LENGTH_MAX)]
Text = Annotated[StrictStr, Field(min_length=1, max_length=TEXT_LENGTH_MAX)]
Code = Annotated[StrictStr, Field(min_length=1, max_length=NAME_LENGTH_MAX, examples=["hozugawa"])]
Reference = Annotated[StrictStr, Field(min_length=1, max_length=100)]
PaymentMethod = Literal["bank_transfer", "postal_transfer", "card", "cash"]
DonorKind = Literal["individual", "organisation"]
PostalAccount = Annotated[  # ゆうちょ振替口座; the domain checks its form (`ledger.values`)
    StrictStr, Field(max_length=40, examples=["00120-3-456789"])
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FundCreate(Request):
    name: Name = Field(examples=["亀岡協働基金"])
    host: Name = Field(examples=["公益財団法人 京都地域創造基金"])
    fee_rate_bp: StrictInt = Field(ge=0, le=FEE_RATE_BP_MAX, examples=[350])
    target_yen: StrictInt | None = Field(default=None, ge=1, le=TARGET_YEN_MAX, examples=[5000000])


class FeeRateChange(Request):
    fee_rate_bp: StrictInt = Field(ge=0, le=FEE_RATE_BP_MAX, examples=[300])
    effective_from: Day
    reason: Text = Field(examples=["理事会決定"])


class BooksClosing(Request):
    through: Day = Field(description="Last day of the closed period (決算の締め).")
    reason: Text = Field(examples=["2025年度決算"])


class DesignationCreate(Request):
    designation: Code
    name: Name = Field(examples=["保津川の清掃"])


class DonorCreate(Request):
    kind: DonorKind
    name: Name = Field(examples=["山田 太郎"])
    kana: Name = Field(examples=["ヤマダ タロウ"])
    postal_code: StrictStr = Field(max_length=20, examples=["621-0806"])
    address: Text = Field(examples=["京都府亀岡市余部町1-1"])
    email: StrictStr | None = Field(default=None, max_length=254)
    publish_name: StrictBool = False
    postal_account: PostalAccount | None = None


class DonorCorrection(Request):
    name: Name | None = None
    kana: Name | None = None
    postal_code: StrictStr | None = Field(default=None, max_length=20)
    address: Text | None = None
    email: StrictStr | None = Field(default=None, max_length=254)
    publish_name: StrictBool | None = None
    postal_account: PostalAccount | None = Field(
        default=None, description="null clears the account; left out, it stays as it is."
    )
    reason: Text = Field(examples=["転居"])

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude={"reason"}, exclude_none=True)
        if "postal_account" in self.model_fields_set:  # null is a change: it clears it
            changes["postal_account"] = self.postal_account
        return changes


class DonationCreate(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "6e0fa112-db13-5120-98a9-d3b0bc839376",
                    "donor_id": "0b6f3c1e-8d0a-4f65-9c53-2b2f0f5d8e11",
                    "amount_yen": 10000,
                    "method": "bank_transfer",
                    "effective_on": "2026-04-01",
                    "designation": "hozugawa",
                    "external_reference": "bank-20260401-0001",
                }
            ]
        }
    )

    fund_id: UUID
    donor_id: UUID
    amount_yen: AmountYen
    method: PaymentMethod
    effective_on: Day | None = None
    designation: Code | None = None
    external_reference: Reference | None = None
    reason: Text | None = None


class RefundCreate(Request):
    amount_yen: AmountYen
    reason: Text = Field(examples=["寄附者の申し出"])
    effective_on: Day | None = None


class VoidRequest(Request):
    reason: Text = Field(examples=["二重入力"])
    effective_on: Day | None = None


class GrantCreate(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fund_id": "6e0fa112-db13-5120-98a9-d3b0bc839376",
                    "grantee": "NPO法人 保津川",
                    "representative": "代表 鈴木",
                    "purpose": "河川清掃",
                    "amount_yen": 200000,
                    "designation": "hozugawa",
                    "effective_on": "2026-06-01",
                }
            ]
        }
    )

    fund_id: UUID
    grantee: Name
    representative: Name
    purpose: Text
    amount_yen: AmountYen
    designation: Code | None = None
    effective_on: Day | None = None
    reason: Text | None = None


class DisbursementCreate(Request):
    amount_yen: AmountYen
    effective_on: Day | None = None
    reason: Text | None = None


class ReductionCreate(Request):
    amount_yen: AmountYen
    reason: Text = Field(examples=["事業縮小"])
    effective_on: Day | None = None


class CancellationCreate(Request):
    reason: Text = Field(examples=["事業中止"])
    effective_on: Day | None = None


class ReturnCreate(Request):
    amount_yen: AmountYen
    reason: Text = Field(examples=["未使用分の返還"])
    effective_on: Day | None = None


class Recorded(BaseModel):
    """What a write did: the same body again for a retry with the same idempotency key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "record_donation",
                    "id": "2c1a3a0e-5f7e-5b8e-9a43-3f1f0d9b6a10",
                    "position": 1234,
                    "amounts_yen": {"amount_yen": 10000, "fee_yen": 350},
                }
            ]
        }
    )

    kind: str
    id: UUID
    position: int | None = Field(
        description="Log position of the write; pass it as `min_position` to read it back."
    )
    amounts_yen: dict[str, int]

    @classmethod
    def of(cls, outcome: Outcome) -> Recorded:
        return cls(
            kind=outcome.kind,
            id=outcome.aggregate_id,
            position=outcome.position,
            amounts_yen=outcome.amounts_yen,
        )


class Page(BaseModel):
    items: list[dict[str, Any]]
    next: str | None = Field(description="Query string of the next page; null on the last.")

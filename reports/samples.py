"""Sample views with realistic (fictitious) data, for the documentation, the tests and the
benchmark. `python -m reports.samples DIR` writes one PDF of each document into DIR.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from reports.annual_receipt import render_annual_receipt
from reports.receipt import render_receipt
from reports.statement import render_statement
from reports.statement_view import (
    PotFigures,
    StatementTransaction,
    StatementView,
    TransactionKind,
)
from reports.views import (
    AnnualReceiptLine,
    AnnualReceiptView,
    DonorKind,
    DonorView,
    IssuerView,
    ReceiptView,
)

FUND_NAME = "亀岡協働基金"
HOZUGAWA = "保津川の清掃"
ISSUER = IssuerView(
    name="公益財団法人 京都地域創造基金",
    postal_code="600-8127",
    address="京都府京都市下京区西木屋町通上ノ口上る梅湊町83番地の1 ひと・まち交流館 京都 1階",
    representative="理事長　山田 一郎",
    certification_statement=(
        "当法人は、公益社団法人及び公益財団法人の認定等に関する法律に基づき、京都府知事から"
        "公益財団法人の認定を受けた法人です（特定公益増進法人）。当法人への寄附金は、個人の方は"
        "所得税法第78条第2項第3号により寄附金控除（または租税特別措置法第41条の18の3による"
        "税額控除）の、法人の方は法人税法第37条第4項により損金算入の対象となります。"
    ),
)
DONOR = DonorView(
    kind=DonorKind.INDIVIDUAL,
    name="亀岡 花子",
    postal_code="621-0806",
    address="京都府亀岡市余部町宝久保1番地の1",
)
COMPANY = DonorView(
    kind=DonorKind.ORGANISATION,
    name="株式会社 保津川ネットワーク",
    postal_code="621-0005",
    address="京都府亀岡市保津町下中島2番地",
)


def sample_receipt(*, reissue: bool = False, donor: DonorView = DONOR) -> ReceiptView:
    return ReceiptView(
        receipt_number="2026-000123-2" if reissue else "2026-000123",
        issued_on=date(2026, 4, 10),
        donor=donor,
        amount_yen=12_345,
        received_on=date(2026, 4, 1),
        fund_name=FUND_NAME,
        designation_name=HOZUGAWA,
        issuer=ISSUER,
        reissue=reissue,
        replaces_receipt_number="2026-000123" if reissue else None,
    )


def sample_annual_receipt(donation_count: int = 14) -> AnnualReceiptView:
    designations = (HOZUGAWA, None, "子どもの居場所づくり")
    lines = tuple(
        AnnualReceiptLine(
            received_on=date(2026, 1, 5) + timedelta(days=index * 360 // donation_count),
            fund_name=FUND_NAME,
            designation_name=designations[index % 3],
            amount_yen=(3_000, 10_000, 5_000, 50_000)[index % 4],
        )
        for index in range(donation_count)
    )
    return AnnualReceiptView(
        receipt_number="2027-000007",
        issued_on=date(2027, 1, 15),
        donor=DONOR,
        year=2026,
        lines=lines,
        issuer=ISSUER,
    )


def sample_statement() -> StatementView:
    general = PotFigures(
        designation_name=None,
        opening_balance_yen=401_323,
        donations_yen=120_000,
        refunds_yen=10_000,
        host_fees_yen=3_850,
        disbursements_yen=100_000,
        returns_yen=5_000,
        closing_balance_yen=412_473,
        opening_committed_yen=100_000,
        grants_awarded_yen=150_000,
        grants_reduced_yen=20_000,
        closing_committed_yen=130_000,
        restriction_releases_yen=0,
    )
    hozugawa = PotFigures(
        designation_name=HOZUGAWA,
        opening_balance_yen=250_000,
        donations_yen=62_345,
        refunds_yen=0,
        host_fees_yen=2_182,
        disbursements_yen=200_000,
        returns_yen=0,
        closing_balance_yen=110_163,
        opening_committed_yen=200_000,
        grants_awarded_yen=0,
        grants_reduced_yen=0,
        closing_committed_yen=0,
        restriction_releases_yen=202_182,
    )
    t = StatementTransaction
    kind = TransactionKind
    transactions = (
        t(1021, date(2026, 4, 1), kind.DONATION, "亀岡 花子", HOZUGAWA, 12_345, 432),
        t(1022, date(2026, 4, 3), kind.DISBURSEMENT, "NPO法人 保津川", HOZUGAWA, 200_000, 0),
        t(
            1030,
            date(2026, 5, 12),
            kind.DONATION,
            "株式会社 保津川ネットワーク",
            None,
            100_000,
            3_500,
        ),
        t(1031, date(2026, 5, 20), kind.DONATION, "亀岡 太郎", HOZUGAWA, 50_000, 1_750),
        t(1040, date(2026, 6, 2), kind.GRANT_AWARDED, "亀岡子ども食堂の会", None, 150_000, 0),
        t(1041, date(2026, 6, 30), kind.DISBURSEMENT, "亀岡子ども食堂の会", None, 100_000, 0),
        t(1055, date(2026, 9, 1), kind.DONATION, "匿名", None, 20_000, 700),
        t(1060, date(2026, 9, 15), kind.REFUND, "亀岡 次郎", None, 10_000, 350),
        t(1071, date(2026, 11, 1), kind.GRANT_REDUCED, "亀岡子ども食堂の会", None, 20_000, 0),
        t(1090, date(2027, 2, 10), kind.RETURN, "NPO法人 ほづ", None, 5_000, 0),
    )
    return StatementView(
        fund_name=FUND_NAME,
        issuer_name=ISSUER.name,
        period_from=date(2026, 4, 1),
        period_to=date(2027, 3, 31),
        issued_on=date(2027, 4, 15),
        pots=(general, hozugawa),
        transactions=transactions,
        first_position=1021,
        last_position=1090,
        chain_head_hash="9f2c1e0b7a4d5c3e8f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70",
    )


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    out = Path(arguments[0] if arguments else ".")
    out.mkdir(parents=True, exist_ok=True)
    documents = {
        "sample-receipt.pdf": render_receipt(sample_receipt()),
        "sample-receipt-reissue-company.pdf": render_receipt(
            sample_receipt(reissue=True, donor=COMPANY)
        ),
        "sample-annual-receipt.pdf": render_annual_receipt(sample_annual_receipt()),
        "sample-statement.pdf": render_statement(sample_statement()),
    }
    for name, pdf in documents.items():
        (out / name).write_bytes(pdf)
        print(f"{out / name}: {len(pdf):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

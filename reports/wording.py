"""Fixed wording printed on receipts and statements. What is particular to the foundation (its
name, address, representative and its 公益認定 statement) comes from the view, never from here.
"""

from __future__ import annotations

from typing import Final

RECEIPT_TITLE: Final = "寄附金受領証明書"
ANNUAL_RECEIPT_TITLE: Final = "年間寄附金受領証明書"
STATEMENT_TITLE: Final = "基金収支報告書"
REISSUE_MARK: Final = "再発行"
GENERAL_DESIGNATION: Final = "一般"  # money given without a designation (一般正味財産)

RECEIVED_STATEMENT: Final = "上記の金額を寄附金として正に受領いたしました。"
ANNUAL_RECEIVED_STATEMENT: Final = "{year}中に、下記のとおり寄附金を正に受領いたしました。"
# 法人税法施行規則第24条: a company's donation to a 特定公益増進法人 is deductible beyond the
# general limit when the receipt states that it relates to the foundation's principal work.
PRINCIPAL_WORK_STATEMENT: Final = (
    "本寄附金は、当法人の主たる目的である業務に関連する寄附金であることを証明いたします。"
)
STAMP_DUTY_STATEMENT: Final = "公益法人の発行する受領書のため印紙税は非課税です。"
REISSUE_STATEMENT: Final = "本証明書は再発行したものです。"
REPLACES_STATEMENT: Final = "No. {number} の証明書は無効とし、本証明書に代えます。"

# A statement's period and the fund's closed books (BRIEF rule 7), as of the statement's end.
PERIOD_CLOSED: Final = "{day} まで締めています。この期間の数値は確定しています。"
PERIOD_CLOSED_IN_PART: Final = (
    "{day} まで締めています。それより後の日付の数値は変わることがあります。"
)
PERIOD_OPEN: Final = "この期間の帳簿は締めていません。後日の記録で数値が変わることがあります。"


def purpose_line(fund_name: str, designation_name: str | None) -> str:
    """但し書き: `寄附金として（亀岡協働基金 保津川の清掃）`."""
    return f"寄附金として（{fund_name}　{designation_name or GENERAL_DESIGNATION}）"

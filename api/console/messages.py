"""The console's words for what went wrong, in Japanese: each API problem `type` and each
validation error of the API's request schemas, so that a form says what the API would say.

A message belongs next to its field where the error names one (`field_of`), else at the top
of the form."""

from __future__ import annotations

from typing import Any

from ledger import errors

PROBLEMS_JA = {
    "insufficient-funds": "基金の利用可能額が足りません。",
    "refund-exceeds-donation": "返金額が、この寄附の返金できる残額を超えています。",
    "donation-voided": "この寄附は取り消されています。",
    "donation-refunded": "この寄附は既に返金されているため、取り消せません。",
    "grant-limit-exceeded": "金額が、この助成で可能な額を超えています。",
    "unknown-designation": "この基金にその使途指定はありません。",
    "duplicate-designation": "その使途指定は既にあります。",
    "date-out-of-order": "日付が前の記録より前になっています。",
    "books-closed": (
        "この日付の帳簿は締められています。締めた日より後の取引年月日で記録してください。"
    ),
    "receipt-already-issued": "有効な受領証明書が既に発行されています。再発行を選んでください。",
    "receipt-voided": "この受領証明書は無効になっています。",
    "nothing-to-receipt": "証明書に載せる寄附がありません。",
    "rule-violation": "台帳の規則に反するため記録できません。",
    "invalid-input": "入力内容を確認してください。",
    "invalid-request": "入力内容を確認してください。",
    "not-found": "見つかりません。",
    "idempotency-key-reused": (
        "このフォームは既に別の内容で送信されています。新しいフォームを開いて入力し直してください。"
    ),
    "concurrency-conflict": (
        "同時に多くの変更があり、記録できませんでした。もう一度送信してください。"
    ),
    "batch-too-large": "件数が多すぎます。分けて取り込んでください。",
    "import-rejected": "ファイルに問題があるため、何も記録していません。",
    "import-too-large": "ファイルが大きすぎます。分けて取り込んでください。",
    "storage-unavailable": "データベースに接続できません。しばらくしてからやり直してください。",
    "misconfigured": "サービスの設定に問題があります。管理者に連絡してください。",
    "unreadable-event": "記録の中に読み取れないイベントがあります。管理者に連絡してください。",
    "ledger-error": "記録できませんでした。",
    "read-model-behind": "集計の更新が遅れています。しばらくしてから再読み込みしてください。",
    "read-models-stopped": "集計が停止しています。管理者に連絡してください。",
}

FIELD_LABELS_JA = {
    "fund_id": "基金",
    "donor_id": "寄附者",
    "amount_yen": "金額（円）",
    "method": "入金方法",
    "effective_on": "取引年月日",
    "through": "この日まで締める",
    "confirm": "確認",
    "designation": "使途指定",
    "external_reference": "振込番号などの参照",
    "reason": "理由",
    "kind": "種別",
    "name": "氏名・名称",
    "kana": "フリガナ",
    "postal_code": "郵便番号",
    "address": "住所",
    "email": "メールアドレス",
    "publish_name": "氏名の公表",
    "postal_account": "振替口座番号",
    "grantee": "助成団体",
    "representative": "代表者",
    "purpose": "目的",
    "year": "年",
    "file": "ファイル",
}

# Errors of a domain rule that concern the amount or the designation asked for.
_FIELD_OF_ERROR: tuple[tuple[type[errors.LedgerError], str], ...] = (
    (errors.Overdraft, "amount_yen"),
    (errors.RefundExceedsDonation, "amount_yen"),
    (errors.GrantLimitExceeded, "amount_yen"),
    (errors.UnknownDesignation, "designation"),
    (errors.DuplicateDesignation, "designation"),
    (errors.DateOutOfOrder, "effective_on"),
    (errors.BooksClosed, "effective_on"),
)


def field_of(error: errors.LedgerError) -> str | None:
    """The form field a domain error is about, if any."""
    if isinstance(error, errors.InvalidInput):
        return error.field
    for cls, field in _FIELD_OF_ERROR:
        if isinstance(error, cls):
            return field
    return None


def validation_message_ja(error: dict[str, Any]) -> str:
    """One pydantic error of the API's request schemas, in Japanese."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "入力してください。"
    if kind == "string_too_short":
        return f"{context.get('min_length')}文字以上で入力してください。"
    if kind == "string_too_long":
        return f"{context.get('max_length')}文字以内で入力してください。"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "半角数字で、整数を入力してください。"
    if kind == "greater_than_equal":
        return f"{context.get('ge'):,}以上を入力してください。"
    if kind == "less_than_equal":
        return f"{context.get('le'):,}以下を入力してください。"
    if kind in {"literal_error", "enum", "uuid_type", "uuid_parsing"}:
        return "一覧から選んでください。"
    if kind.startswith("date") or (kind == "value_error" and "date" in error.get("msg", "")):
        return "日付を 2026-04-01 の形で入力してください。"
    if kind in {"bool_type", "bool_parsing"}:
        return "はい・いいえで選んでください。"
    return "入力内容を確認してください。"

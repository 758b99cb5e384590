"""Bulk import of donations from bank and postal transfer lists (CSV): atomic and idempotent.

    fund-ledger import donations FILE.csv --fund FUND_ID [--dry-run] [--encoding auto|utf-8|cp932]
    POST /v1/imports/donations?fund_id=…&dry_run=true   (multipart, field `file`)

The format (one header row, then one row per transfer; column order is free):

| column         | Japanese header | content                                                     |
|----------------|-----------------|-------------------------------------------------------------|
| `effective_on` | 取引日          | the day the money moved: `2026-04-01`, `2026/4/1`, `20260401` |
| `amount_yen`   | 金額            | whole yen in digits (`10000` or `10,000`), at least 1       |
| `payer_name`   | 振込依頼人名    | the payer as the bank prints it (`ﾔﾏﾀﾞ ﾀﾛｳ`)                |
| `reference`    | 参照番号        | the bank's reference of the transfer; may be left empty     |
| `donor_id`     | 寄附者ID        | optional column: the donor's id, when staff know it         |
| `designation`  | 使途指定        | optional column: a designation code of the fund             |
| `memo`         | メモ            | optional column: kept in the donation's reason              |

Encodings: UTF-8 with or without BOM, or Shift_JIS (CP932), detected or given.

The pipeline: `csvfile` (bytes → records with their line numbers) → `rows` (a record → a
checked `DonationRow`) → `matching` (名寄せ: the row's donor) → `plan` (every row's command
and every problem) → `run` (the dry run, or one atomic `execute_batch`) → `report`.
"""

"""Reading transfer lists: encodings, the header, records and their line numbers, the bounds,
each field's checks, and the name normalisation of 名寄せ."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.imports import csvfile, matching
from api.imports.csvfile import Encoding, read_records
from api.imports.matching import DonorDirectory, DonorEntry, normalised_name
from api.imports.rows import amount_yen, effective_on
from ledger.errors import ImportTooLarge, InvalidInput

DATA = Path(__file__).parents[1] / "data"
SAMPLES = {
    "donations_utf8.csv": "utf-8",
    "donations_utf8_bom.csv": "utf-8-sig",
    "donations_cp932.csv": "cp932",
}
HEADER = "effective_on,amount_yen,payer_name,reference\n"
TODAY = date(2026, 11, 28)


def codes(parsed: csvfile.ParsedFile) -> list[tuple[int, str]]:
    return [(problem.line, problem.code) for problem in parsed.problems]


@pytest.mark.parametrize(("name", "encoding"), SAMPLES.items())
def test_each_sample_is_read_in_its_detected_encoding(name: str, encoding: str) -> None:
    parsed = read_records((DATA / name).read_bytes())

    assert parsed.encoding == encoding
    assert parsed.problems == []
    assert [record.line for record in parsed.records] == [2, 3, 4, 5]
    assert parsed.records[0].fields["payer_name"] == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert parsed.records[1].fields["memo"] == "保津川の清掃に"


def test_the_three_samples_hold_the_same_records() -> None:
    contents = [read_records((DATA / name).read_bytes()).records for name in SAMPLES]

    assert contents[0] == contents[1] == contents[2]


def test_a_given_encoding_overrides_detection() -> None:
    data = (DATA / "donations_cp932.csv").read_bytes()

    assert read_records(data, Encoding.CP932).problems == []
    assert codes(read_records(data, Encoding.UTF8)) == [(1, "bad-encoding")]


def test_bytes_that_are_neither_utf8_nor_cp932_are_named_with_their_line() -> None:
    data = (HEADER + "2026-04-01,100,ﾔﾏﾀﾞ,\n").encode() + b"2026-04-02,100,\x80\xff,\n"

    assert codes(read_records(data)) == [(3, "bad-encoding")]


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_a_file_cut_inside_a_character_is_truncated(encoding: str) -> None:
    data = (HEADER + "2026-04-01,100,ﾔﾏﾀﾞ,\n2026-04-02,100,山田").encode(encoding)[:-1]

    assert codes(read_records(data, Encoding(encoding))) == [(3, "truncated")]


def test_a_file_cut_inside_a_row_is_truncated_on_that_line() -> None:
    data = (HEADER + "2026-04-01,100,ﾔﾏﾀﾞ,\n2026-04-02,10").encode()

    parsed = read_records(data)

    assert codes(parsed) == [(3, "truncated")]
    assert [record.line for record in parsed.records] == [2]


def test_a_file_cut_inside_a_quoted_field_is_truncated() -> None:
    data = (HEADER + '2026-04-01,100,ﾔﾏﾀﾞ,\n2026-04-02,"1,0').encode()

    assert codes(read_records(data)) == [(3, "truncated")]


def test_a_row_with_the_wrong_number_of_columns_is_named_by_its_line() -> None:
    data = (HEADER + "2026-04-01,100,ﾔﾏﾀﾞ\n\n2026-04-01,100,ﾔﾏﾀﾞ,,extra\n").encode()

    assert codes(read_records(data)) == [(2, "column-count"), (4, "column-count")]


def test_a_quoted_field_over_two_lines_keeps_the_line_it_starts_on() -> None:
    data = (HEADER + '2026-04-01,100,"ﾔﾏﾀﾞ\nﾀﾛｳ",\n2026-04-02,100,ﾔﾏﾀﾞ,\n').encode()

    assert [record.line for record in read_records(data).records] == [2, 4]


@pytest.mark.parametrize(
    "header",
    [
        "effective_on,amount_yen,payer_name\n",  # reference missing
        "effective_on,amount_yen,payer_name,reference,colour\n",
        "effective_on,amount_yen,payer_name,reference,memo,memo\n",
    ],
)
def test_a_bad_header_is_a_problem_on_line_1(header: str) -> None:
    parsed = read_records(header.encode())

    assert codes(parsed) == [(1, "bad-header")]
    assert parsed.records == []


def test_japanese_headers_name_the_same_columns() -> None:
    data = (
        "取引日,金額,振込依頼人名,参照番号,寄附者ID,使途指定,メモ,振替口座番号\n"
        "2026-04-01,1,ﾔ,,,,,\n"
    )

    (record,) = read_records(data.encode()).records

    assert set(record.fields) == {*csvfile.REQUIRED_COLUMNS, *csvfile.OPTIONAL_COLUMNS}


def test_an_empty_file_is_a_problem() -> None:
    assert codes(read_records(b"")) == [(1, "empty-file")]


def test_a_file_over_the_size_bound_is_refused_unread() -> None:
    with pytest.raises(ImportTooLarge):
        read_records(b"x" * (csvfile.FILE_SIZE_BYTES_MAX + 1))


def test_a_file_over_the_row_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvfile, "ROW_COUNT_MAX", 3)
    rows = [f"2026-04-01,{n},ﾔﾏﾀﾞ,\n" for n in range(1, 5)]

    assert len(read_records((HEADER + "".join(rows[:3])).encode()).records) == 3
    with pytest.raises(ImportTooLarge, match="more than 3 rows"):
        read_records((HEADER + "".join(rows)).encode())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-01", date(2026, 4, 1)),
        ("2026/4/1", date(2026, 4, 1)),
        ("20260401", date(2026, 4, 1)),
    ],
)
def test_dates_are_read_in_the_bank_forms(text: str, expected: date) -> None:
    assert effective_on(text, TODAY) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "1999-12-31", "2026-11-29", "x", ""])
def test_impossible_early_future_or_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        effective_on(text, TODAY)


@pytest.mark.parametrize(
    ("text", "yen"), [("10000", 10_000), ("10,000", 10_000), ("１０００", 1000)]
)
def test_amounts_are_whole_yen_in_digits(text: str, yen: int) -> None:
    assert amount_yen(text) == yen


@pytest.mark.parametrize("text", ["0", "-5", "100.0", "10.5", "1,00", "1e4", "", "10_000", "¥"])
def test_zero_negative_decimal_and_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        amount_yen(text)


@pytest.mark.parametrize(
    ("bank", "kana"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
        ("ﾔﾏﾀﾞﾀﾛｳ", "やまだ　たろう"),
        ("ﾄｳｷﾖｳ ﾀﾛｳ", "トウキョウ タロウ"),
        ("ｶ)ﾎﾂﾞｶﾞﾜｼｮｳｼﾞ", "カブシキカイシャ ホヅガワショウジ"),
        ("ﾎﾂﾞｶﾞﾜｼｮｳｼﾞ(ｶ", "ホヅガワショウジ カブシキガイシャ"),
        ("ｽｽﾞｷ-ﾊﾅｺ", "スズキーハナコ"),
        ("ＳＭＩＴＨ　ＪＯＨＮ", "Smith John"),
    ],
)
def test_bank_printed_names_normalise_like_the_donors_kana(bank: str, kana: str) -> None:
    assert normalised_name(bank) == normalised_name(kana)


def test_a_company_never_matches_an_individual_of_the_same_name() -> None:
    assert normalised_name("ｶ)ﾔﾏﾀﾞ") != normalised_name("ヤマダ")


@given(st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30F6), max_size=12))
def test_full_width_and_half_width_katakana_normalise_alike(kana: str) -> None:
    half = "".join(_HALF_WIDTH.get(c, c) for c in kana)

    assert normalised_name(half) == normalised_name(kana)


def test_matching_by_donor_id_wins_and_an_unknown_id_is_a_problem() -> None:
    donor = DonorEntry(uuid4(), "山田 太郎", "ヤマダ タロウ")
    directory = DonorDirectory([donor])

    assert directory.match("ﾍﾞﾂﾉﾋﾄ", donor.donor_id).donor == donor
    assert directory.match("ﾔﾏﾀﾞ ﾀﾛｳ", uuid4()).problem_code == "unknown-donor"


def test_a_payer_matching_no_donor_or_several_is_never_guessed() -> None:
    twins = [DonorEntry(uuid4(), "佐藤 一郎", "サトウ イチロウ") for _ in range(2)]
    directory = DonorDirectory([*twins, DonorEntry(uuid4(), "山田 太郎", "ヤマダ タロウ")])

    assert directory.match("ﾀﾅｶ ｼﾞﾛｳ", None) == matching.Match(
        None, "unmatched-payer", directory.match("ﾀﾅｶ ｼﾞﾛｳ", None).message
    )
    ambiguous = directory.match("ｻﾄｳ ｲﾁﾛｳ", None)
    assert ambiguous.donor is None
    assert ambiguous.problem_code == "ambiguous-payer"
    assert all(str(twin.donor_id) in ambiguous.message for twin in twins)


def _half_width_table() -> dict[str, str]:
    import unicodedata

    table = {}
    for code in range(0xFF61, 0xFFA0):
        full = unicodedata.normalize("NFKC", chr(code))
        if len(full) == 1:
            table[full] = chr(code)
    for code in range(0x30A1, 0x30F7):  # voiced kana: base + half-width dakuten/handakuten
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        if len(decomposed) == 2 and decomposed[0] in table:
            mark = {"\u3099": "\uff9e", "\u309a": "\uff9f"}[decomposed[1]]
            table[char] = table[decomposed[0]] + mark
    return table


_HALF_WIDTH = _half_width_table()

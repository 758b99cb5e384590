"""`ledger.kana.folded`: the ways of writing one name or kana fold to the same text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.kana import folded


@pytest.mark.parametrize(
    "written",
    ["ヤマダ タロウ", "やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", "ﾔﾏﾀﾞﾀﾛｳ", " やまだタロウ "],
)
def test_hiragana_katakana_and_half_width_kana_fold_alike(written: str) -> None:
    assert folded(written) == "ヤマダタロウ"


def test_full_width_letters_and_digits_fold_to_lower_case_ascii() -> None:
    assert folded("ＳＭＩＴＨ　Ｊｏｈｎ　１２３") == "smithjohn123"


def test_small_kana_fold_to_large_as_banks_print_them() -> None:
    assert folded("キョウト") == folded("ｷﾖｳﾄ") == "キヨウト"


def test_hyphens_and_dashes_fold_to_the_long_vowel_mark() -> None:
    assert {folded(f"スズキ{dash}ハナコ") for dash in "-‐‑‒–—―−ーｰ"} == {"スズキーハナコ"}


def test_kanji_and_punctuation_are_kept() -> None:
    assert folded("山田 商店 (100%_/)") == "山田商店(100%_/)"


@given(st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x3096), max_size=12))
def test_any_hiragana_folds_like_its_katakana(hiragana: str) -> None:
    katakana = "".join(chr(ord(character) + 0x60) for character in hiragana)

    assert folded(hiragana) == folded(katakana)

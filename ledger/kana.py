"""Folding Japanese names and kana so that the ways of writing one name compare equal.

`folded(text)`: NFKC (half-width katakana → full-width, full-width letters and digits →
ASCII), hiragana → katakana, small kana → large (banks print `ｷﾖｳﾄ` for キョウト), hyphens and
dashes → ー, white space removed, letters case-folded. So "やまだ たろう", "ﾔﾏﾀﾞﾀﾛｳ" and
"ヤマダ　タロウ" all fold to "ヤマダタロウ", and "ＳＭＩＴＨ" to "smith". Punctuation is kept: the
import's 名寄せ (`api.imports.matching`) removes it after spelling out legal-entity marks, and
the donor directory's search (`projections.donor_directory`) matches it literally.
"""

from __future__ import annotations

import unicodedata

_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {
    0x309D: 0x30FD,
    0x309E: 0x30FE,
}
_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_HYPHENS = str.maketrans(dict.fromkeys("-‐‑‒–—―−", "ー"))


def folded(text: str) -> str:
    """`text` folded as the module docstring says."""
    katakana = unicodedata.normalize("NFKC", text).translate(_HIRAGANA_TO_KATAKANA)
    spaceless = "".join(katakana.split())
    return spaceless.translate(_SMALL_TO_LARGE).translate(_HYPHENS).casefold()

"""名寄せ: which registered donor a row of a transfer list is.

By the row's donor id when it has one. Otherwise by the payer's postal transfer account
(振替口座) when the row gives one and exactly one donor has it (canonical forms compared,
`ledger.values.postal_account`), unless the payer's name matches donors and none of them is
that one: then account and name disagree, and the row is listed. Several donors with the
account is listed too. A row without an account, or with one no donor has, is matched by
the payer's name as the bank printed it, normalised, against every donor's kana and name
normalised the same way. A name that matches no donor, or more than one, is a problem for a
person to resolve (by registering the donor, or by writing the donor id in the row); nothing
is ever guessed. `Match.matched_by` says which rule found the donor: id, account or name.

Normalisation (`normalised_name`): `ledger.kana.folded` (NFKC, hiragana → katakana, small
kana → large, hyphens → ー, spaces removed, letters case-folded), then punctuation removed.
The legal-entity marks of bank lists are spelled out where they stand (`ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ` →
カブシキガイシヤヤマダシヨウジ, `ﾔﾏﾀﾞｼｮｳｼﾞ(ｶ` → …カブシキガイシヤ), so a company matches a donor
whose kana spells its entity out in the same place, and never an individual of the same name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from ledger.kana import folded

# Bank abbreviations of legal entities (全銀協 rules), spelled out in kana (folded).
_SPELLINGS = {
    "カ": "カブシキガイシャ",
    "ユ": "ユウゲンガイシャ",
    "ド": "ゴウドウガイシャ",
    "メ": "ゴウメイガイシャ",
    "シ": "ゴウシガイシャ",
    "ザイ": "ザイダンホウジン",
    "シヤ": "シャダンホウジン",
    "トクヒ": "トクテイヒエイリカツドウホウジン",
    "フク": "シャカイフクシホウジン",
    "ガク": "ガッコウホウジン",
    "イ": "イリョウホウジン",
}
_ENTITIES = {abbreviation: folded(spelling) for abbreviation, spelling in _SPELLINGS.items()}
_LEADING_ENTITY = re.compile(r"^([ア-ン]{1,3})\)")
_TRAILING_ENTITY = re.compile(r"\(([ア-ン]{1,3})$")
_VOICED_VARIANTS = (
    ("カブシキカイシヤ", "カブシキガイシヤ"),
    ("ユウゲンカイシヤ", "ユウゲンガイシヤ"),
)


@dataclass(frozen=True)
class DonorEntry:
    donor_id: UUID
    name: str
    kana: str
    postal_account: str | None = None  # canonical, as `ledger.values.postal_account` stores it


@dataclass(frozen=True)
class Match:
    """The donor a row is and the rule that found it (`matched_by`: id, account or name),
    or why there is none (`problem_code` and `message`)."""

    donor: DonorEntry | None
    problem_code: str = ""
    message: str = ""
    matched_by: str = ""


def normalised_name(text: str) -> str:
    spelled_out = _spelled_out_entities(folded(text))
    for variant, spelling in _VOICED_VARIANTS:
        spelled_out = spelled_out.replace(variant, spelling)
    kept = (c for c in spelled_out if not unicodedata.category(c).startswith(("P", "Z", "C")))
    return "".join(kept)


def _spelled_out_entities(text: str) -> str:
    leading = _LEADING_ENTITY.match(text)
    if leading and leading.group(1) in _ENTITIES:
        text = _ENTITIES[leading.group(1)] + text[leading.end() :]
    trailing = _TRAILING_ENTITY.search(text)
    if trailing and trailing.group(1) in _ENTITIES:
        text = text[: trailing.start()] + _ENTITIES[trailing.group(1)]
    return text


class DonorDirectory:
    """Every registered donor, indexed by id, by postal account and by normalised kana and
    name."""

    def __init__(self, donors: Iterable[DonorEntry]) -> None:
        self.by_id: dict[UUID, DonorEntry] = {}
        self.by_account: dict[str, dict[UUID, DonorEntry]] = {}
        self.by_name: dict[str, dict[UUID, DonorEntry]] = {}
        for donor in donors:
            self.by_id[donor.donor_id] = donor
            if donor.postal_account is not None:
                self.by_account.setdefault(donor.postal_account, {})[donor.donor_id] = donor
            for written in (donor.kana, donor.name):
                key = normalised_name(written)
                if key:
                    self.by_name.setdefault(key, {})[donor.donor_id] = donor

    def match(
        self, payer_name: str, donor_id: UUID | None, payer_account: str | None = None
    ) -> Match:
        """`payer_account` is canonical (as `ledger.values.postal_account` returns it)."""
        if donor_id is not None:
            donor = self.by_id.get(donor_id)
            if donor is None:
                return Match(None, "unknown-donor", f"no donor with id {donor_id}")
            return Match(donor, matched_by="id")
        holders = _sorted(self.by_account.get(payer_account or "", {}).values())
        if len(holders) == 1:
            return self._by_account(holders[0], payer_name)
        if holders:
            return Match(
                None,
                "ambiguous-account",
                f"postal account {payer_account} is held by {len(holders)} donors:"
                f" {_listed(holders)}; correct their accounts, or give donor_id",
            )
        return self._by_name(payer_name)

    def _by_account(self, holder: DonorEntry, payer_name: str) -> Match:
        named = _sorted(self.by_name.get(normalised_name(payer_name), {}).values())
        if named and holder not in named:
            return Match(
                None,
                "account-name-mismatch",
                f"postal account {holder.postal_account} is {holder.name} ({holder.donor_id}),"
                f" but payer {payer_name!r} matches {_listed(named)}; give donor_id",
            )
        return Match(holder, matched_by="account")

    def _by_name(self, payer_name: str) -> Match:
        key = normalised_name(payer_name)
        found = _sorted(self.by_name.get(key, {}).values())
        if len(found) == 1:
            return Match(found[0], matched_by="name")
        if not found:
            return Match(
                None,
                "unmatched-payer",
                f"no donor's kana or name matches payer {payer_name!r} (read as {key!r}):"
                " register the donor, or give donor_id",
            )
        return Match(
            None,
            "ambiguous-payer",
            f"payer {payer_name!r} matches {len(found)} donors: {_listed(found)}; give donor_id",
        )


def _sorted(donors: Iterable[DonorEntry]) -> list[DonorEntry]:
    return sorted(donors, key=lambda d: str(d.donor_id))


def _listed(donors: Iterable[DonorEntry]) -> str:
    return ", ".join(f"{d.name} ({d.donor_id})" for d in donors)

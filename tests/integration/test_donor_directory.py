"""The donor directory read model (issue 9's donor search), on SQLite and PostgreSQL.

- a registration and each correction of the name, kana, postal code or address show in the
  directory, whether in the page that registered the donor or a later one; a corrected postal
  code is found under the new code only;
- text search finds kana written in hiragana, katakana or half-width katakana, and names;
- postal-code search by digit prefix, with or without the hyphen, in full-width digits;
- both conditions together; LIKE wildcards in the input match literally;
- pages in kana order follow on from each other; the page size and inputs are bounded;
- live (small catch-ups) equals a rebuild; a correction of a donor never seen stops it.
"""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger import commands as c
from ledger.errors import InvalidInput
from ledger.kana import folded
from ledger.service import FundLedger
from projections import runner
from projections.catalogue import all_projectors
from projections.donor_directory import (
    NAME,
    PAGE_SIZE_MAX,
    DirectoryEntry,
    DonorDirectoryProjector,
    directory_entry,
    donor_directory,
    search_donor_directory,
)
from tests.integration.test_projections import ACTOR

ADDRESS = "京都府亀岡市安町野々神8"


def catch_up(ledger: FundLedger, engine: Engine, batch_size: int = 1_000) -> int:
    return runner.catch_up(ledger, engine, [DonorDirectoryProjector()], batch_size=batch_size)


def register(
    ledger: FundLedger,
    name: str,
    kana: str,
    postal_code: str = "621-0806",
    kind: str = "individual",
) -> UUID:
    command = c.RegisterDonor(kind, name, kana, postal_code, ADDRESS, "a@example.jp")
    return ledger.execute(command, actor=ACTOR).aggregate_id


def correct(ledger: FundLedger, donor_id: UUID, **changes: Any) -> None:
    ledger.execute(c.CorrectDonor(donor_id, changes, "本人の申し出"), actor=ACTOR)


def found(engine: Engine, text: str | None = None, postal_code: str | None = None) -> set[UUID]:
    page = search_donor_directory(
        engine, text=text, postal_code=postal_code, page_size=PAGE_SIZE_MAX
    )
    return {entry.donor_id for entry in page}


def stored_rows(engine: Engine) -> list[Any]:
    query = sa.select(donor_directory).order_by(donor_directory.c.donor_id)
    with engine.connect() as connection:
        return list(connection.execute(query).all())


def test_the_directory_is_one_of_the_catalogued_read_models() -> None:
    assert NAME in [projector.name for projector in all_projectors()]


def test_a_registered_donor_is_in_the_directory_as_registered(
    ledger: FundLedger, engine: Engine
) -> None:
    donor_id = register(
        ledger, "保津川商事 株式会社", "ホヅガワショウジ", "621-0811", "organisation"
    )
    catch_up(ledger, engine)

    assert directory_entry(engine, donor_id) == DirectoryEntry(
        donor_id, "organisation", "保津川商事 株式会社", "ホヅガワショウジ", "621-0811", ADDRESS
    )
    assert directory_entry(engine, UUID(int=7)) is None


def test_corrections_show_in_the_directory_and_the_old_postal_code_no_longer_finds_the_donor(
    ledger: FundLedger, engine: Engine
) -> None:
    early = register(ledger, "山田 太郎", "ヤマダ タロウ", "621-0806")
    correct(ledger, early, postal_code="600-8001")  # in the page that registers the donor
    late = register(ledger, "田中 一郎", "タナカ イチロウ", "621-0806")
    catch_up(ledger, engine)
    correct(ledger, late, name="田中 次郎", kana="タナカ ジロウ", postal_code="602-0001")
    correct(ledger, late, address="京都市上京区")
    catch_up(ledger, engine)

    assert directory_entry(engine, early) == DirectoryEntry(
        early, "individual", "山田 太郎", "ヤマダ タロウ", "600-8001", ADDRESS
    )
    assert directory_entry(engine, late) == DirectoryEntry(
        late, "individual", "田中 次郎", "タナカ ジロウ", "602-0001", "京都市上京区"
    )
    assert found(engine, postal_code="621") == set()
    assert found(engine, postal_code="600-8001") == {early}
    assert found(engine, postal_code="602") == {late}
    assert found(engine, text="じろう") == {late}
    assert found(engine, text="いちろう") == set()
    assert found(engine, text="一郎") == set()


def test_a_correction_of_only_the_email_leaves_the_row_unchanged(
    ledger: FundLedger, engine: Engine
) -> None:
    donor_id = register(ledger, "山田 太郎", "ヤマダ タロウ")
    catch_up(ledger, engine)
    before = stored_rows(engine)
    correct(ledger, donor_id, email="new@example.jp", publish_name=True)

    assert catch_up(ledger, engine) == 1
    assert stored_rows(engine) == before


@pytest.fixture
def named(ledger: FundLedger, engine: Engine) -> dict[str, UUID]:
    donors = {
        "taro": register(ledger, "山田 太郎", "ヤマダ タロウ"),
        "hanako": register(ledger, "山田 花子", "やまだ はなこ"),  # kana registered in hiragana
        "company": register(
            ledger, "株式会社ヤマダ商事", "カブシキガイシャ ヤマダショウジ", kind="organisation"
        ),
        "ichiro": register(ledger, "田中 一郎", "ﾀﾅｶ ｲﾁﾛｳ"),  # kana registered half-width
        "smith": register(ledger, "John Smith", "スミス ジョン"),
        "kyoko": register(ledger, "佐藤 京子", "サトウ キョウコ"),
    }
    catch_up(ledger, engine)
    return donors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("やまだ", {"taro", "hanako", "company"}),
        ("ヤマダ", {"taro", "hanako", "company"}),
        ("ﾔﾏﾀﾞ", {"taro", "hanako", "company"}),
        ("ヤマダ　タロウ", {"taro"}),
        ("山田", {"taro", "hanako"}),
        ("山田花子", {"hanako"}),
        ("ハナコ", {"hanako"}),
        ("たなか", {"ichiro"}),
        ("ﾀﾅｶ ｲﾁﾛｳ", {"ichiro"}),
        ("田中 一郎", {"ichiro"}),
        ("ＳＭＩＴＨ", {"smith"}),
        ("john", {"smith"}),
        ("キヨウ", {"kyoko"}),  # small kana fold to large, as the import's 名寄せ does
        ("きょうこ", {"kyoko"}),
        ("タロウハナコ", set()),
        ("ショウジ", {"company"}),
        ("佐藤サトウ", set()),  # never across the name and the kana
        ("鈴木", set()),
    ],
)
def test_text_search_finds_names_and_kana_however_they_are_written(
    engine: Engine, named: dict[str, UUID], text: str, expected: set[str]
) -> None:
    assert found(engine, text=text) == {named[key] for key in expected}


@pytest.fixture
def postal(ledger: FundLedger, engine: Engine) -> dict[str, UUID]:
    codes = ["621-0806", "621-0811", "621-0001", "600-8001", "620-0806"]
    donors = {code: register(ledger, f"寄附者 {code}", "キフシャ", code) for code in codes}
    catch_up(ledger, engine)
    return donors


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("621", {"621-0806", "621-0811", "621-0001"}),
        ("621-08", {"621-0806", "621-0811"}),
        ("62108", {"621-0806", "621-0811"}),
        ("６２１－０８", {"621-0806", "621-0811"}),
        ("６２１０８０６", {"621-0806"}),
        ("〒621-0806", {"621-0806"}),
        (" 621 - 0806 ", {"621-0806"}),
        ("6", {"621-0806", "621-0811", "621-0001", "600-8001", "620-0806"}),
        ("62", {"621-0806", "621-0811", "621-0001", "620-0806"}),
        ("0806", set()),  # a prefix, never a substring
        ("9", set()),
        ("6210807", set()),
    ],
)
def test_postal_code_search_matches_a_digit_prefix(
    engine: Engine, postal: dict[str, UUID], postal_code: str, expected: set[str]
) -> None:
    assert found(engine, postal_code=postal_code) == {postal[code] for code in expected}


def test_text_and_postal_code_together_must_both_match(ledger: FundLedger, engine: Engine) -> None:
    kameoka = register(ledger, "山田 太郎", "ヤマダ タロウ", "621-0806")
    kyoto = register(ledger, "山田 次郎", "ヤマダ ジロウ", "600-8001")
    register(ledger, "田中 一郎", "タナカ イチロウ", "621-0806")
    catch_up(ledger, engine)

    assert found(engine, text="やまだ", postal_code="621") == {kameoka}
    assert found(engine, text="やまだ", postal_code="600") == {kyoto}
    assert found(engine, text="やまだ", postal_code="602") == set()
    assert len(found(engine)) == 3  # neither: every donor
    assert len(found(engine, text="  ", postal_code="")) == 3  # blank: no condition


def test_like_wildcards_and_the_escape_character_in_the_search_match_literally(
    ledger: FundLedger, engine: Engine
) -> None:
    percent = register(ledger, "100%クラブ", "ヒャクパーセントクラブ")
    yen = register(ledger, "100円会", "ヒャクエンカイ")
    underscore = register(ledger, "a_b商店", "エービーショウテン")
    other = register(ledger, "axb商店", "エーエックスビーショウテン")
    slash = register(ledger, "A/B 工房", "エービーコウボウ")
    backslash = register(ledger, "C\\D 工房", "シーディーコウボウ")
    catch_up(ledger, engine)

    assert found(engine, text="100%") == {percent}
    assert found(engine, text="%") == {percent}
    assert found(engine, text="100") == {percent, yen}
    assert found(engine, text="a_b") == {underscore}
    assert found(engine, text="_") == {underscore}
    assert found(engine, text="ab") == set()
    assert found(engine, text="a/b") == {slash}
    assert found(engine, text="/") == {slash}
    assert found(engine, text="\\") == {backslash}
    assert found(engine, text="商店") == {underscore, other}


def test_pages_in_kana_order_follow_on_from_each_other(ledger: FundLedger, engine: Engine) -> None:
    kanas = [
        "ワタナベ",
        "アオキ",
        "かとう",
        "アオキ",
        "ｻﾄｳ",
        "イトウ",
        "アオキ",
        "ヤマダ",
        "エンドウ",
    ]
    random.Random(5).shuffle(kanas)
    donors = {register(ledger, f"寄附者 {n}", kana): kana for n, kana in enumerate(kanas)}
    catch_up(ledger, engine)
    expected = sorted(donors, key=lambda donor_id: (folded(donors[donor_id]), donor_id))

    pages: list[list[DirectoryEntry]] = []
    after: UUID | None = None
    for _ in range(len(kanas)):
        page = search_donor_directory(engine, text=None, postal_code=None, after=after, page_size=2)
        if not page:
            break
        pages.append(page)
        after = page[-1].donor_id

    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]
    assert [entry.donor_id for page in pages for entry in page] == expected
    aoki = [d for d in expected if donors[d] == "アオキ"]
    first = search_donor_directory(engine, text="あおき", postal_code="621", page_size=2)
    rest = search_donor_directory(
        engine, text="あおき", postal_code="621", after=first[-1].donor_id, page_size=2
    )
    assert [entry.donor_id for entry in first + rest] == aoki


def test_page_size_and_search_input_are_bounded(ledger: FundLedger, engine: Engine) -> None:
    register(ledger, "山田 太郎", "ヤマダ タロウ")
    catch_up(ledger, engine)

    assert len(search_donor_directory(engine, text=None, postal_code=None, page_size=1)) == 1
    for page_size in (0, -1, PAGE_SIZE_MAX + 1):
        with pytest.raises(InvalidInput, match="page_size"):
            search_donor_directory(engine, text=None, postal_code=None, page_size=page_size)
    for postal_code in ("abc", "621-08a", "62108061", "621.08", "٦٢١", "6" * 40):
        with pytest.raises(InvalidInput, match="postal_code"):
            search_donor_directory(engine, text=None, postal_code=postal_code)
    with pytest.raises(InvalidInput, match="text"):
        search_donor_directory(engine, text="や" * 201, postal_code=None)
    with pytest.raises(InvalidInput, match="after"):
        search_donor_directory(engine, text=None, postal_code=None, after=UUID(int=7))


def test_the_directory_live_in_small_catch_ups_equals_a_rebuild(
    ledger: FundLedger, engine: Engine
) -> None:
    rng = random.Random(23)
    donors: list[UUID] = []
    applied_count = 0
    for round_number in range(5):
        for n in range(6):
            kana = rng.choice(["ヤマダ", "やまだ", "ﾀﾅｶ", "サトウ"])
            donors.append(register(ledger, f"寄附者 {round_number}-{n}", kana))
        for donor_id in rng.sample(donors, 4):
            changes = rng.choice(
                [
                    {"postal_code": rng.choice(["600-8001", "621-0811"])},
                    {"kana": rng.choice(["アオキ", "ｲﾄｳ"]), "address": f"亀岡市 {round_number}"},
                    {"name": f"訂正 {round_number}"},
                    {"email": f"d{round_number}@example.jp"},
                ]
            )
            correct(ledger, donor_id, **changes)
        applied_count += catch_up(ledger, engine, batch_size=3)
    live = stored_rows(engine)

    rebuilt_count = runner.rebuild(ledger, engine, all_projectors(), [NAME], batch_size=7)

    assert stored_rows(engine) == live
    assert rebuilt_count == applied_count
    assert len(live) == len(donors)


def test_a_correction_of_a_donor_never_seen_stops_the_projector(
    ledger: FundLedger, engine: Engine
) -> None:
    donor_id = register(ledger, "山田 太郎", "ヤマダ タロウ")
    catch_up(ledger, engine)
    with engine.begin() as connection:  # the directory loses its row, behind its back
        connection.execute(donor_directory.delete())
    before = runner.tracked_positions(engine)[NAME]
    correct(ledger, donor_id, postal_code="600-8001")

    with pytest.raises(runner.ProjectionFailed, match="projector 'donor_directory'") as raised:
        catch_up(ledger, engine)

    assert f"no donor {donor_id} was registered before" in str(raised.value)
    assert runner.tracked_positions(engine)[NAME] == before
    assert directory_entry(engine, donor_id) is None

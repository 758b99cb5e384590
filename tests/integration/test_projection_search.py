"""Journal search (電子帳簿保存法), on SQLite and PostgreSQL: by effective-date range, amount
range and counterparty, alone and combined, with a fund filter and keyset paging, against a
brute-force filter of every posting; and the page-size bound."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from projections import runner
from projections.catalogue import all_projectors
from projections.journal_entries import PAGE_SIZE_MAX, PostingRow, search_journal
from tests.integration.test_projections import FIRST_DAY, LAST_DAY, new_history, read_side

QUERY_COUNT = 60


def everything(engine: Engine) -> list[PostingRow]:
    rows: list[PostingRow] = []
    while True:
        last = rows[-1] if rows else None
        page = search_journal(
            engine,
            after_position=last.position if last else 0,
            after_posting_index=last.posting_index if last else None,
            page_size=PAGE_SIZE_MAX,
        )
        if not page:
            return rows
        rows += page


def brute_force(rows: list[PostingRow], conditions: dict[str, Any]) -> list[PostingRow]:
    def matches(row: PostingRow) -> bool:
        checks = {
            "fund_id": lambda v: row.fund_id == v,
            "effective_from": lambda v: row.effective_on >= v,
            "effective_to": lambda v: row.effective_on <= v,
            "amount_min": lambda v: row.amount_yen >= v,
            "amount_max": lambda v: row.amount_yen <= v,
            "counterparty": lambda v: row.counterparty == v,
        }
        return all(checks[name](value) for name, value in conditions.items())

    return [row for row in rows if matches(row)]


def random_conditions(rng: random.Random, rows: list[PostingRow]) -> dict[str, Any]:
    sample = rng.choice(rows)
    start = FIRST_DAY + timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))
    options: dict[str, Any] = {
        "fund_id": sample.fund_id,
        "effective_from": start,
        "effective_to": start + timedelta(days=rng.randint(0, 90)),
        "amount_min": rng.choice([1, 100, 1_000, sample.amount_yen]),
        "amount_max": rng.choice([sample.amount_yen, 10_000, 100_000]),
        "counterparty": sample.counterparty,
    }
    chosen = rng.sample(sorted(options), rng.randint(1, len(options)))
    return {name: options[name] for name in chosen}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with read_side(database_url) as (_ledger, engine):
        yield engine


@pytest.fixture
def searchable(database_url: str) -> Iterator[tuple[Engine, list[PostingRow]]]:
    """A journal of a generated history, and all its postings."""
    with read_side(database_url) as (ledger, engine):
        history = new_history(ledger, seed=23)
        for _ in range(200):
            history.step()
        runner.catch_up(ledger, engine, all_projectors())
        yield engine, everything(engine)


def test_combined_searches_equal_a_brute_force_filter(
    searchable: tuple[Engine, list[PostingRow]],
) -> None:
    engine, rows = searchable
    assert len(rows) > 300, "enough postings to make the searches meaningful"
    assert [(r.position, r.posting_index) for r in rows] == sorted(
        (r.position, r.posting_index) for r in rows
    )
    rng = random.Random(7)
    non_empty = 0
    for _ in range(QUERY_COUNT):
        conditions = random_conditions(rng, rows)
        expected = brute_force(rows, conditions)
        assert search_journal(engine, **conditions, page_size=PAGE_SIZE_MAX) == expected
        non_empty += bool(expected)
    assert non_empty > QUERY_COUNT // 3, "the queries must find something"


def test_keyset_pages_concatenate_to_the_whole_result(
    searchable: tuple[Engine, list[PostingRow]],
) -> None:
    engine, rows = searchable
    conditions: dict[str, Any] = {"amount_min": 1_000, "effective_from": date(2026, 6, 1)}
    expected = brute_force(rows, conditions)
    pages: list[PostingRow] = []
    while True:
        last = pages[-1] if pages else None
        page = search_journal(
            engine,
            **conditions,
            after_position=last.position if last else 0,
            after_posting_index=last.posting_index if last else None,
            page_size=7,
        )
        assert len(page) <= 7
        if not page:
            break
        pages += page
    assert pages == expected
    first_event = expected[0].position
    after_event = search_journal(engine, **conditions, after_position=first_event)
    assert all(row.position > first_event for row in after_event)


@pytest.mark.parametrize("page_size", [0, -1, PAGE_SIZE_MAX + 1])
def test_page_size_beyond_the_bounds_is_refused(engine: Engine, page_size: int) -> None:
    with pytest.raises(InvalidInput, match="page_size"):
        search_journal(engine, page_size=page_size)


def test_a_search_of_an_empty_journal_finds_nothing(engine: Engine) -> None:
    assert search_journal(engine, counterparty="誰も", page_size=PAGE_SIZE_MAX) == []

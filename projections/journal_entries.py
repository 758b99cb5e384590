"""Read model: the journal, one row per posting, searchable as 電子帳簿保存法 asks.

Rows are `ledger.journal.journal_entry` of each money event, flattened: the entry's fields
repeated on each of its postings, keyed by (event position, posting index) so the order is
the log's and stable. Searches by effective date, amount and counterparty, alone or combined,
by range, are served by an index on each (each ending in the key, so a page after a key is an
index range too); a fund filter narrows any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from ledger.journal import JournalEntry
from projections import batch, bulk
from projections.batch import PositionedEvent
from projections.tables import metadata

NAME = "journal_entries"
PAGE_SIZE_MAX = 1_000
PAGE_SIZE_DEFAULT = 100

journal_postings = sa.Table(
    "journal_postings",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("posting_index", sa.SmallInteger, primary_key=True),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("recorded_at_utc", sa.DateTime, nullable=False),
    sa.Column("fund_id", sa.Uuid, nullable=False),
    sa.Column("designation", sa.String, nullable=True),
    sa.Column("account", sa.String, nullable=False),
    sa.Column("side", sa.String(6), nullable=False),
    sa.Column("amount_yen", sa.BigInteger, nullable=False),
    sa.Column("counterparty", sa.String, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source_id", sa.Uuid, nullable=False),
    sa.Column("source_version", sa.Integer, nullable=False),
    sa.Column("actor", sa.String, nullable=False),
    sa.Column("reason", sa.String, nullable=False),
    sa.Column("corrects_version", sa.Integer, nullable=True),
    sa.Index("journal_postings_by_date", "effective_on", "position", "posting_index"),
    sa.Index("journal_postings_by_amount", "amount_yen", "position", "posting_index"),
    sa.Index("journal_postings_by_counterparty", "counterparty", "position", "posting_index"),
    sa.Index("journal_postings_by_fund_date", "fund_id", "effective_on", "position"),
)


@dataclass(frozen=True)
class PostingRow:
    position: int
    posting_index: int
    effective_on: date
    recorded_at_utc: datetime  # naive, in UTC
    fund_id: UUID
    designation: str | None
    account: str
    side: str
    amount_yen: int
    counterparty: str
    kind: str
    source_id: UUID
    source_version: int
    actor: str
    reason: str
    corrects_version: int | None


# The entry's columns, repeated on each of its postings, and then the posting's own.
_ENTRY_COLUMNS = (
    "effective_on",
    "recorded_at_utc",
    "fund_id",
    "designation",
    "counterparty",
    "kind",
    "source_id",
    "source_version",
    "actor",
    "reason",
    "corrects_version",
)
_POSTING_COLUMNS = ("account", "side", "amount_yen")
_COLUMNS = ("position", "posting_index", *_ENTRY_COLUMNS, *_POSTING_COLUMNS)


def _entry_values(entry: JournalEntry) -> tuple[Any, ...]:
    """The entry's values of `_ENTRY_COLUMNS`."""
    return (
        entry.effective_on,
        entry.recorded_at.astimezone(UTC).replace(tzinfo=None),
        entry.fund_id,
        entry.designation,
        entry.counterparty,
        entry.kind,
        entry.source_id,
        entry.source_version,
        entry.actor,
        entry.reason,
        entry.corrects_version,
    )


def _entry_rows(
    position: int, entry: JournalEntry, entry_values: tuple[Any, ...]
) -> list[tuple[Any, ...]]:
    """The entry's rows, as values of `_COLUMNS`, given its `_ENTRY_COLUMNS` values."""
    return [
        (position, index, *entry_values, posting.account, posting.side.value, posting.amount_yen)
        for index, posting in enumerate(entry.postings)
    ]


class JournalEntriesProjector:
    name = NAME
    tables: Sequence[sa.Table] = (journal_postings,)

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        """Every posting of the page in one bulk insert. The columns an entry repeats on each
        of its postings are turned into their stored form once per entry; the postings' own
        (a position, integers and text) are stored as they are (`test_projection_bulk`)."""
        entries = [
            (position, entry)
            for (_, position), entry in zip(events, batch.journal_entries(events), strict=True)
            if entry is not None
        ]
        shared = bulk.stored(
            connection, journal_postings, _ENTRY_COLUMNS, [_entry_values(e) for _, e in entries]
        )
        rows = [
            row
            for (position, entry), entry_values in zip(entries, shared, strict=True)
            for row in _entry_rows(position, entry, entry_values)
        ]
        bulk.insert_stored(connection, journal_postings, _COLUMNS, rows)


def search_journal(
    engine: Engine,
    *,
    fund_id: UUID | None = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    amount_min: int | None = None,
    amount_max: int | None = None,
    counterparty: str | None = None,
    after_position: int = 0,
    after_posting_index: int | None = None,
    page_size: int = PAGE_SIZE_DEFAULT,
) -> list[PostingRow]:
    """Postings matching every given condition (ranges inclusive, counterparty exact), in log
    order, at most `page_size`, after (`after_position`, `after_posting_index`): the next page
    starts after the last row's pair; `after_posting_index` None skips the whole event."""
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput("page_size", f"must be from 1 to {PAGE_SIZE_MAX}, got {page_size}")
    if after_position < 0:
        raise InvalidInput("after_position", f"must be 0 or more, got {after_position}")
    c = journal_postings.c
    conditions: list[sa.ColumnElement[bool]] = []
    if after_posting_index is None:
        conditions.append(c.position > after_position)
    else:
        conditions.append(
            sa.or_(
                c.position > after_position,
                sa.and_(c.position == after_position, c.posting_index > after_posting_index),
            )
        )
    if fund_id is not None:
        conditions.append(c.fund_id == fund_id)
    if effective_from is not None:
        conditions.append(c.effective_on >= effective_from)
    if effective_to is not None:
        conditions.append(c.effective_on <= effective_to)
    if amount_min is not None:
        conditions.append(c.amount_yen >= amount_min)
    if amount_max is not None:
        conditions.append(c.amount_yen <= amount_max)
    if counterparty is not None:
        conditions.append(c.counterparty == counterparty)
    query = (
        sa.select(journal_postings)
        .where(*conditions)
        .order_by(c.position, c.posting_index)
        .limit(page_size)
    )
    with engine.connect() as connection:
        return [PostingRow(**row) for row in connection.execute(query).mappings()]


def latest_entries(engine: Engine, fund_id: UUID, *, count: int = 20) -> list[PostingRow]:
    """The fund's newest journal entries, newest first: one row per entry, its first posting,
    which carries the entry's amount (the donation, refund, award, payment or return)."""
    if not 1 <= count <= PAGE_SIZE_MAX:
        raise InvalidInput("count", f"must be from 1 to {PAGE_SIZE_MAX}, got {count}")
    c = journal_postings.c
    query = (
        sa.select(journal_postings)
        .where(c.fund_id == fund_id, c.posting_index == 0)
        .order_by(c.position.desc())
        .limit(count)
    )
    with engine.connect() as connection:
        return [PostingRow(**row) for row in connection.execute(query).mappings()]
